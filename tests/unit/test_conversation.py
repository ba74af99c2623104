"""Table tests for the read-only Conversation view over wire bodies."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest

from sidecar.exchange import ToolCall
from sidecar.protocols.conversation import Conversation, Message, ToolResult

OPENAI_BODY: dict[str, Any] = {
    "model": "gpt-5",
    "messages": [
        {"role": "system", "content": "You are a coding agent."},
        {"role": "developer", "content": [{"type": "text", "text": "Be terse."}]},
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "What is in this screenshot?"},
                {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}},
            ],
        },
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": "read_file", "arguments": '{"path": "a.py"}'},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "call_1", "content": "print('hi')"},
    ],
    "tools": [{"type": "function", "function": {"name": "read_file", "parameters": {}}}],
}

ANTHROPIC_BODY: dict[str, Any] = {
    "model": "claude-sonnet-4-5",
    "system": [{"type": "text", "text": "You are Claude Code."}, {"type": "text", "text": "x"}],
    "messages": [
        {"role": "user", "content": "fix the login bug"},
        {
            "role": "assistant",
            "content": [
                {"type": "thinking", "thinking": "hmm", "signature": "s"},
                {"type": "text", "text": "Running tests."},
                {"type": "tool_use", "id": "tu_1", "name": "Bash", "input": {"command": "pytest"}},
            ],
        },
        {
            "role": "user",
            "content": [
                {
                    "type": "tool_result",
                    "tool_use_id": "tu_1",
                    "is_error": True,
                    "content": [{"type": "text", "text": "1 failed"}],
                }
            ],
        },
    ],
    "tools": [{"name": "Bash", "input_schema": {}}, {"type": "web_search_20250305", "name": "web"}],
}

RESPONSES_BODY: dict[str, Any] = {
    "model": "gpt-5-codex",
    "instructions": "You are Codex.",
    "input": [
        {"type": "message", "role": "developer", "content": [{"type": "input_text", "text": "d"}]},
        {
            "type": "message",
            "role": "user",
            "content": [{"type": "input_text", "text": "add a test"}],
        },
        {"type": "reasoning", "id": "rs_1", "summary": []},
        {"type": "function_call", "call_id": "c1", "name": "shell", "arguments": '{"cmd":["ls"]}'},
        {"type": "function_call_output", "call_id": "c1", "output": "a.py\nb.py"},
        {"type": "custom_tool_call", "call_id": "c2", "name": "apply_patch", "input": "*** Begin"},
        {"type": "custom_tool_call_output", "call_id": "c2", "output": "Done"},
        {"role": "user", "content": "thanks"},
    ],
    "tools": [{"type": "function", "name": "shell"}, {"type": "web_search"}],
}

CASES: list[tuple[str, dict[str, Any], list[Message], str, str, tuple[str, ...]]] = [
    (
        "openai",
        OPENAI_BODY,
        [
            Message("system", "You are a coding agent."),
            Message("system", "Be terse."),
            Message("user", "What is in this screenshot?", images=1),
            Message("assistant", "", (ToolCall("call_1", "read_file", '{"path": "a.py"}'),)),
            Message("tool", "", (), (ToolResult("call_1", "print('hi')", False),)),
        ],
        "You are a coding agent.\nBe terse.",
        "What is in this screenshot?",
        ("read_file",),
    ),
    (
        "anthropic",
        ANTHROPIC_BODY,
        [
            Message("user", "fix the login bug"),
            Message(
                "assistant",
                "Running tests.",
                (ToolCall("tu_1", "Bash", orjson.dumps({"command": "pytest"}).decode()),),
            ),
            Message("user", "", (), (ToolResult("tu_1", "1 failed", True),)),
        ],
        "You are Claude Code.\nx",
        "fix the login bug",
        ("Bash", "web"),
    ),
    (
        "responses",
        RESPONSES_BODY,
        [
            Message("system", "d"),
            Message("user", "add a test"),
            Message("other"),
            Message("assistant", "", (ToolCall("c1", "shell", '{"cmd":["ls"]}'),)),
            Message("tool", "", (), (ToolResult("c1", "a.py\nb.py"),)),
            Message("assistant", "", (ToolCall("c2", "apply_patch", "*** Begin"),)),
            Message("tool", "", (), (ToolResult("c2", "Done"),)),
            Message("user", "thanks"),
        ],
        "You are Codex.\nd",
        "thanks",
        ("shell", "web_search"),
    ),
    (
        "responses",
        {"input": "hello there"},
        [Message("user", "hello there")],
        "",
        "hello there",
        (),
    ),
    ("openai", {}, [], "", "", ()),
    ("anthropic", {"messages": "garbage", "system": 3}, [], "", "", ()),
    (
        "openai",
        {"messages": [1, {"role": "weird", "content": {"x": 1}}]},
        [Message("other"), Message("other")],
        "",
        "",
        (),
    ),
]


@pytest.mark.parametrize(("protocol", "body", "messages", "system", "last_user", "tools"), CASES)
def test_view(
    protocol: Any,
    body: dict[str, Any],
    messages: list[Message],
    system: str,
    last_user: str,
    tools: tuple[str, ...],
) -> None:
    before = orjson.dumps(body)
    conv = Conversation.from_body(protocol, body)
    assert list(conv.messages) == messages
    assert conv.system == system
    assert conv.last_user_text == last_user
    assert conv.tools == tools
    assert len(conv) == len(messages)
    assert orjson.dumps(body) == before  # never mutates the body


def test_lazy_decoding_and_iter_from() -> None:
    body = {"messages": [{"role": "user", "content": f"m{i}"} for i in range(5)]}
    conv = Conversation.from_body("openai", body)
    assert [m.text for m in conv.iter_from(3)] == ["m3", "m4"]
    assert conv.message(-1).text == "m4"
    assert conv.last == Message("user", "m4")
    assert conv.message(3) is conv.message(3)  # cached


def test_anthropic_images_in_tool_results_count() -> None:
    body = {
        "messages": [
            {
                "role": "user",
                "content": [
                    {"type": "image", "source": {"type": "base64", "data": "x"}},
                    {
                        "type": "tool_result",
                        "tool_use_id": "t",
                        "content": [
                            {"type": "image", "source": {}},
                            {"type": "text", "text": "ok"},
                        ],
                    },
                ],
            }
        ]
    }
    msg = Conversation.from_body("anthropic", body).message(0)
    assert msg.images == 2
    assert msg.tool_results == (ToolResult("t", "ok", False),)


def test_unknown_protocol_rejected() -> None:
    with pytest.raises(ValueError):
        Conversation.from_body("gemini", {})  # type: ignore[arg-type]


def test_responses_tools_include_additional_tools_items_and_flatten_namespaces() -> None:
    """Codex 0.169 (a model it knows) declares its tools in ``additional_tools`` input items."""
    body = {
        "tools": [{"type": "function", "name": "shell"},
                  {"type": "namespace", "name": "mcp", "tools": [{"type": "function",
                                                                  "name": "fetch"}]}],
        "input": [
            {"type": "additional_tools", "role": "developer", "tools": [
                {"type": "namespace", "name": "functions", "tools": [
                    {"type": "custom", "name": "exec"}, {"type": "function", "name": "wait"}]},
                {"type": "namespace", "name": "clock", "tools": [
                    {"type": "function", "name": "sleep"}, "junk"]},
                {"type": "function", "name": "top"},
                {"type": "namespace", "name": "bad", "tools": "not a list"},
            ]},
            {"type": "message", "role": "user", "content": "go"},
            {"type": "additional_tools", "tools": [{"type": "custom", "name": "later"}]},
            {"type": "additional_tools", "tools": None},
        ],
    }
    conv = Conversation.from_body("responses", body)
    assert conv.tools == ("shell", "mcp__fetch", "exec", "wait", "clock__sleep", "top", "later")
    assert conv.last_user_text == "go"
    # Only Responses bodies have input items; chat bodies list their tools as before.
    assert Conversation.from_body("openai", {"tools": body["tools"]}).tools == (
        "shell", "mcp__fetch")


def test_codex_known_model_request_tools() -> None:
    path = Path(__file__).parents[1] / "golden/responses_codex_additional_tools/request.in.json"
    conv = Conversation.from_body("responses", orjson.loads(path.read_bytes()))
    assert {"exec", "wait", "clock__sleep", "collaboration__spawn_agent"} <= set(conv.tools)
