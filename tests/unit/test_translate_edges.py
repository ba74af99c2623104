"""Table tests for translation edge cases, round trips and the token estimate."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import orjson
import pytest

from sidecar.config import ModelConfig
from sidecar.protocols import anthropic as wa
from sidecar.protocols.tokens import count_tokens_answer, estimate_tokens, text_tokens
from sidecar.protocols.translate import TranslateContext, map_error, pair
from sidecar.protocols.translate_anthropic_openai import translate_request as a2o_request
from sidecar.protocols.translate_anthropic_openai import translate_response as a2o_response
from sidecar.protocols.translate_openai_anthropic import translate_request as o2a_request
from sidecar.protocols.translate_openai_anthropic import translate_response as o2a_response

GOLDEN = Path(__file__).resolve().parent.parent / "golden"
OPENAI_MODEL = ModelConfig(name="kimi", provider="or", upstream="moonshotai/kimi-k2")
CLAUDE = ModelConfig(
    name="sonnet", provider="anthropic", upstream="claude-sonnet-4-5", thinking=True
)
CTX = TranslateContext(provider="or", request_id="r1", created=1, model_name="m")


def _golden(feature: str, name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((GOLDEN / feature / name).read_text())
    return data


def _meaning(body: dict[str, Any]) -> dict[str, Any]:
    """What an Anthropic request says, without formatting choices (blocks vs strings)."""
    turns = []
    for msg in body["messages"]:
        content = msg["content"]
        blocks = [{"type": "text", "text": content}] if isinstance(content, str) else content
        said = []
        for b in blocks:
            if b["type"] == "text":
                said.append(("text", b["text"]))
            elif b["type"] == "tool_use":
                said.append(("call", b["id"], b["name"], json.dumps(b["input"], sort_keys=True)))
            elif b["type"] == "tool_result":
                raw = b["content"]
                if not isinstance(raw, str):
                    raw = "\n".join(c["text"] for c in raw if c["type"] == "text")
                said.append(("result", b["tool_use_id"], raw, b.get("is_error", False)))
            elif b["type"] == "image":
                said.append(("image", json.dumps(b["source"], sort_keys=True)))
        turns.append((msg["role"], said))
    return {
        "system": wa.system_text(body.get("system")),
        "turns": turns,
        "tools": [
            (t["name"], json.dumps(t["input_schema"], sort_keys=True)) for t in body["tools"]
        ],
        "max_tokens": body["max_tokens"],
        "stop": body.get("stop_sequences"),
        "user": (body.get("metadata") or {}).get("user_id"),
    }


@pytest.mark.parametrize("feature", ["a2o_tools_parallel", "a2o_images"])
def test_round_trip_anthropic_openai_anthropic(feature: str) -> None:
    original = _golden(feature, "request.in.json")
    original["tools"] = [t for t in original["tools"] if "input_schema" in t]  # server tools drop
    errors = [  # is_error goes as an "Error: " marker and comes back as is_error
        b for m in original["messages"] if isinstance(m["content"], list)
        for b in m["content"] if b.get("is_error")
    ]  # fmt: skip
    assert errors or feature == "a2o_images"
    there = a2o_request(original, OPENAI_MODEL, CTX)
    back = o2a_request(there, CLAUDE, CTX)
    want, got = _meaning(original), _meaning(back)
    if feature == "a2o_images":  # tool-result images come back in the user turn after the result
        last = got["turns"][-1][1]
        assert [k[0] for k in last] == ["result", "text", "image"]
        image = original["messages"][-1]["content"][0]["content"][0]["source"]
        assert last[2] == ("image", json.dumps(image, sort_keys=True))
        got["turns"], want["turns"] = got["turns"][:-1], want["turns"][:-1]
    assert got == want


def test_round_trip_openai_anthropic_openai_response() -> None:
    anthropic = _golden("o2a_tools", "response.in.json")
    chat = o2a_response(anthropic, CTX)
    again = a2o_response(chat, CTX)
    kept = [b for b in anthropic["content"] if b["type"] != "thinking"]
    assert [b for b in again["content"] if b["type"] != "thinking"] == kept
    assert again["stop_reason"] == "tool_use"
    assert again["content"][0] == {
        "type": "thinking",
        "thinking": "Need to edit config.json.",
        "signature": "",  # never Anthropic's signature: it was not issued for this answer
    }


@pytest.mark.parametrize(
    ("choice", "expected", "parallel"),
    [
        ({"type": "auto"}, "auto", None),
        ({"type": "any"}, "required", None),
        ({"type": "none"}, "none", None),
        (
            {"type": "tool", "name": "Read"},
            {"type": "function", "function": {"name": "Read"}},
            None,
        ),
        ({"type": "any", "disable_parallel_tool_use": True}, "required", False),
    ],
)
def test_tool_choice_anthropic_to_openai(choice: Any, expected: Any, parallel: Any) -> None:
    body = {
        "max_tokens": 10,
        "messages": [{"role": "user", "content": "x"}],
        "tools": [{"name": "Read", "input_schema": {"type": "object"}}],
        "tool_choice": choice,
    }
    out = a2o_request(body, OPENAI_MODEL, CTX)
    assert out["tool_choice"] == expected
    assert out.get("parallel_tool_calls") is parallel


@pytest.mark.parametrize(
    ("choice", "parallel", "expected"),
    [
        ("auto", None, {"type": "auto"}),
        ("required", None, {"type": "any"}),
        ("none", None, {"type": "none"}),
        ({"type": "function", "function": {"name": "f"}}, None, {"type": "tool", "name": "f"}),
        ("auto", False, {"type": "auto", "disable_parallel_tool_use": True}),
        (None, None, None),
    ],
)
def test_tool_choice_openai_to_anthropic(choice: Any, parallel: Any, expected: Any) -> None:
    body: dict[str, Any] = {
        "messages": [{"role": "user", "content": "x"}],
        "tools": [{"type": "function", "function": {"name": "f", "parameters": {}}}],
    }
    if choice is not None:
        body["tool_choice"] = choice
    if parallel is not None:
        body["parallel_tool_calls"] = parallel
    assert o2a_request(body, CLAUDE, CTX).get("tool_choice") == expected


@pytest.mark.parametrize(
    ("reason", "finish"),
    [
        ("end_turn", "stop"),
        ("stop_sequence", "stop"),
        ("max_tokens", "length"),
        ("tool_use", "tool_calls"),
        ("refusal", "content_filter"),
    ],
)
def test_stop_reasons_both_ways(reason: str, finish: str) -> None:
    body = {"id": "msg_1", "content": [{"type": "text", "text": "a"}], "stop_reason": reason}
    assert o2a_response(body, CTX)["choices"][0]["finish_reason"] == finish
    chat = {"choices": [{"message": {"content": "a"}, "finish_reason": finish}]}
    back = a2o_response(chat, CTX)["stop_reason"]
    assert back == ("end_turn" if reason == "stop_sequence" else reason)


def test_thinking_signature_never_reaches_openai_and_reasoning_only_for_reasoning_models() -> None:
    body = _golden("a2o_reasoning", "request.in.json")
    plain = a2o_request(body, OPENAI_MODEL, CTX)
    assert "reasoning_content" not in json.dumps(plain)
    assert "reasoning_effort" not in plain
    assert "EqQBC" not in json.dumps(plain) and "EmwKA" not in json.dumps(plain)


def test_openai_client_to_anthropic_thinking_only_outside_tool_loops() -> None:
    body: dict[str, Any] = {
        "messages": [{"role": "user", "content": "plan it"}],
        "reasoning_effort": "medium",
        "max_completion_tokens": 20000,
        "temperature": 0.5,
    }
    out = o2a_request(body, CLAUDE, CTX)
    assert out["thinking"] == {"type": "enabled", "budget_tokens": 8192}
    assert "temperature" not in out
    plain_model = ModelConfig(name="h", provider="a", upstream="claude-haiku")
    assert "thinking" not in o2a_request(body, plain_model, CTX)
    tool_loop = _golden("o2a_tools", "request.in.json")
    assert "thinking" not in o2a_request(tool_loop, CLAUDE, CTX)


def test_system_turn_after_the_conversation_started_becomes_a_user_note() -> None:
    body = _golden("a2o_claude_code_text", "request.in.json")
    out = a2o_request(body, OPENAI_MODEL, CTX)
    assert [m["role"] for m in out["messages"]] == ["system", "user", "user"]
    assert out["messages"][-1]["content"].startswith("<system>")


def test_images_dropped_for_models_without_vision() -> None:
    body = _golden("a2o_images", "request.in.json")
    blind = ModelConfig(name="b", provider="p", upstream="u", vision=False)
    out = json.dumps(a2o_request(body, blind, CTX))
    assert "image_url" not in out and "image omitted" in out


def test_token_param_and_max_output_cap() -> None:
    body = {"max_tokens": 64000, "messages": [{"role": "user", "content": "x"}]}
    model = ModelConfig(
        name="g",
        provider="o",
        upstream="gpt-5",
        token_param="max_completion_tokens",
        max_output=32000,
    )
    out = a2o_request(body, model, CTX)
    assert out["max_completion_tokens"] == 32000 and "max_tokens" not in out


@pytest.mark.parametrize(
    ("client", "kind", "status", "body", "expected"),
    [
        (
            "anthropic",
            "openai",
            429,
            {"error": {"message": "slow down", "type": "requests"}},
            {"type": "error", "error": {"type": "rate_limit_error", "message": "slow down"}},
        ),
        (
            "anthropic",
            "openai",
            400,
            b"bad things",
            {"type": "error", "error": {"type": "invalid_request_error", "message": "bad things"}},
        ),
        (
            "openai",
            "anthropic",
            529,
            {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}},
            {
                "error": {
                    "message": "Overloaded",
                    "type": "server_error",
                    "param": None,
                    "code": None,
                }
            },
        ),
        (
            "responses",
            "anthropic",
            401,
            {"type": "error", "error": {"type": "authentication_error", "message": "bad key"}},
            {
                "error": {
                    "message": "bad key",
                    "type": "authentication_error",
                    "param": None,
                    "code": None,
                }
            },
        ),
    ],
)
def test_errors_in_the_clients_shape(
    client: str, kind: str, status: int, body: Any, expected: dict[str, Any]
) -> None:
    assert map_error(client, kind, status, body) == (status, expected)
    translator = pair(client, kind)
    assert translator is not None and translator.error(status, body) == (status, expected)


def test_pair_registry() -> None:
    assert pair("openai", "openai") is None and pair("anthropic", "anthropic") is None
    assert pair("responses", "openai") is not None
    with pytest.raises(KeyError):
        pair("grpc", "openai")


def test_interleaved_parallel_tool_deltas_do_not_crash_and_close_is_clean() -> None:
    translator = pair("anthropic", "openai")
    assert translator is not None
    stream = translator.stream(CTX)
    chunks: list[dict[str, Any]] = [
        {
            "choices": [
                {
                    "delta": {
                        "tool_calls": [
                            {
                                "index": 0,
                                "id": "a",
                                "function": {"name": "f", "arguments": '{"x":'},
                            },
                            {"index": 1, "id": "b", "function": {"name": "g", "arguments": "{}"}},
                        ]
                    }
                }
            ]
        },
        {"choices": [{"delta": {"tool_calls": [{"index": 0, "function": {"arguments": "1}"}}]}}]},
    ]
    frames = [f for c in chunks for f in stream.feed(None, orjson.dumps(c))]
    frames += stream.close()
    text = b"".join(frames).decode()
    assert text.count("event: content_block_start") == 2
    assert text.count("event: content_block_stop") == 2
    assert text.endswith('event: message_stop\ndata: {"type":"message_stop"}\n\n')
    assert '"stop_reason":"tool_use"' in text


def test_token_estimate_is_close_and_protocol_aware() -> None:
    prose = "The quick brown fox jumps over the lazy dog. " * 100
    assert 900 <= text_tokens(prose) <= 1400  # ~1000 BPE tokens
    anthropic = _golden("a2o_images", "request.in.json")
    openai = a2o_request(anthropic, OPENAI_MODEL, CTX)
    a, o = estimate_tokens("anthropic", anthropic), estimate_tokens("openai", openai)
    assert a > 3 * 1500 and abs(a - o) < 0.2 * a  # three images dominate; base64 not counted
    responses = _golden("responses_openai", "request.in.json")
    assert estimate_tokens("responses", responses) > 300
    assert count_tokens_answer("anthropic", {"messages": []})["estimated"] is True


def test_whitespace_text_never_reaches_anthropic() -> None:
    body = {
        "messages": [
            {"role": "user", "content": "hi"},
            {
                "role": "assistant",
                "content": "\n",
                "tool_calls": [
                    {"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}}
                ],
            },
            {"role": "tool", "tool_call_id": "c1", "content": "ok"},
            {
                "role": "user",
                "content": [{"type": "text", "text": " "}, {"type": "text", "text": "go"}],
            },
            {"role": "assistant", "content": "Sure, "},
        ]
    }
    out = o2a_request(body, CLAUDE, CTX)
    assert [b["type"] for b in out["messages"][1]["content"]] == ["tool_use"]
    assert out["messages"][2]["content"][1] == {"type": "text", "text": "go"}
    assert out["messages"][-1]["content"] == [{"type": "text", "text": "Sure,"}]


def test_unpaired_tool_calls_and_results_are_repaired_for_anthropic() -> None:
    call = {"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}}
    body = {
        "messages": [
            {"role": "user", "content": "hi"},
            {"role": "assistant", "content": None, "tool_calls": [call]},
            {"role": "user", "content": "never mind"},  # interrupted: no tool message
            {"role": "tool", "tool_call_id": "gone", "content": "late"},  # orphan result
            {"role": "assistant", "content": "ok"},
        ]
    }
    out = o2a_request(body, CLAUDE, CTX)["messages"]
    assert out[2]["content"][0] == {
        "type": "tool_result",
        "tool_use_id": "c1",
        "content": "(no result)",
        "is_error": True,
    }
    assert {"type": "text", "text": "Result of tool call gone: late"} in out[2]["content"]
    assert all(b["type"] != "tool_result" or b["tool_use_id"] == "c1" for b in out[2]["content"])


@pytest.mark.parametrize(
    ("text", "failed", "rest"),
    [
        ("Error: exit 1", True, "exit 1"),
        ("Error", True, ""),
        ("Error: ", True, ""),
        ("Errors: 0", False, "Errors: 0"),
        ("ok\nError: late", False, "ok\nError: late"),
    ],
)
def test_tool_error_marker(text: str, failed: bool, rest: str) -> None:
    from sidecar.protocols.openai import split_tool_error, tool_error_text

    assert split_tool_error(text) == (failed, rest)
    if failed:
        assert tool_error_text(rest) == (text if text != "Error: " else "Error")


def test_openai_tool_message_with_the_marker_becomes_is_error() -> None:
    body = {
        "model": "m",
        "messages": [
            {"role": "user", "content": "go"},
            {"role": "assistant", "content": None, "tool_calls": [
                {"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}},
                {"id": "c2", "type": "function", "function": {"name": "f", "arguments": "{}"}},
            ]},
            {"role": "tool", "tool_call_id": "c1", "content": "Error: no such file"},
            {"role": "tool", "tool_call_id": "c2", "content": [{"type": "text", "text": "fine"}]},
        ],
    }  # fmt: skip
    results = o2a_request(body, CLAUDE, CTX)["messages"][-1]["content"]
    assert results == [
        {"type": "tool_result", "tool_use_id": "c1", "content": "no such file", "is_error": True},
        {"type": "tool_result", "tool_use_id": "c2", "content": "fine"},
    ]
