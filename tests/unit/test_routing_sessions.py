# ruff: noqa: E501  (table rows read best on one line)
"""Session identity per harness, and the bounded memory store (Redis: test_routing_redis.py)."""

from __future__ import annotations

from typing import Any

import pytest
from multidict import CIMultiDict

from sidecar.config import parse_config
from sidecar.protocols.conversation import Conversation
from sidecar.routing.agents import detect_role
from sidecar.routing.engine import Router
from sidecar.routing.inbound import InboundReader
from sidecar.sessions.identity import identify, lower_headers
from sidecar.sessions.state import MemoryStore, SessionState

BODY: dict[str, Any] = {"system": "You are Claude Code, Anthropic's official CLI for Claude.",
                        "messages": [{"role": "user", "content": "fix the login bug"}]}  # fmt: skip
CC_UID = (
    "user_"
    + "ab" * 32
    + "_account_1b2c3d4e-0000-4000-a000-000000000000_session_9f8e7d6c-1111-4222-a333-444455556666"
)

IDENTITY = [
    ({"x-tierline-session": "mine", "x-claude-code-session-id": "cc"}, {}, "mine", "x-tierline-session"),
    ({"X-Claude-Code-Session-Id": "cc-1", "User-Agent": "claude-cli/2.0.14"}, {}, "cc-1", "x-claude-code-session-id"),
    ({}, {"metadata": {"user_id": CC_UID}}, "9f8e7d6c-1111-4222-a333-444455556666", "metadata.user_id"),
    ({}, {"metadata": {"user_id": '{"device_id":"d","session_id":"js-1"}'}}, "js-1", "metadata.user_id"),
    ({"x-session-affinity": "oc-1", "user-agent": "opencode/0.15"}, {}, "oc-1", "x-session-affinity"),
    ({"x-session-id": "oc-2"}, {}, "oc-2", "x-session-id"),
    ({"session_id": "cx-1", "originator": "codex_cli_rs"}, {}, "cx-1", "session_id"),
    ({"conversation_id": "cx-2"}, {}, "cx-2", "conversation_id"),
    ({}, {"prompt_cache_key": "cx-3"}, "cx-3", "prompt_cache_key"),
]  # fmt: skip


@pytest.mark.parametrize(("headers", "extra", "sid", "source"), IDENTITY)
def test_session_identity(
    headers: dict[str, str], extra: dict[str, Any], sid: str, source: str
) -> None:
    body = {**BODY, **extra}
    ident = identify(body, lower_headers(headers), Conversation.from_body("anthropic", body))
    assert (ident.session_id, ident.source) == (sid, source)
    assert ident.thread.startswith(sid + "/")


def test_hash_identity_is_stable_and_separates_conversations() -> None:
    def ident(body: dict[str, Any]) -> str:
        return identify(body, {}, Conversation.from_body("anthropic", body)).session_id

    later = {
        **BODY,
        "messages": [
            *BODY["messages"],
            {"role": "assistant", "content": "ok"},
            {"role": "user", "content": "more"},
        ],
    }
    assert ident(BODY) == ident(later) and ident(BODY).startswith("h:")
    other = {**BODY, "messages": [{"role": "user", "content": "another task"}]}
    assert ident(other) != ident(BODY)


def test_harness_detection() -> None:
    def harness(headers: dict[str, str], body: dict[str, Any], protocol: Any = "anthropic") -> str:
        return identify(
            body, lower_headers(headers), Conversation.from_body(protocol, body)
        ).harness

    assert (
        harness({"user-agent": "claude-cli/2.0.14 (external, cli)"}, {"messages": []})
        == "claude_code"
    )
    assert harness({"user-agent": "opencode/0.15.8"}, {"messages": []}, "openai") == "opencode"
    assert harness({"originator": "codex_cli_rs"}, {"input": []}, "responses") == "codex"
    aider = {
        "messages": [
            {
                "role": "system",
                "content": "Act as an expert software developer. Use *SEARCH/REPLACE* blocks",
            }
        ]
    }
    assert harness({"user-agent": "litellm/1.77"}, aider, "openai") == "aider"
    assert harness({"user-agent": "OpenAI/Python 1.109.1"}, {"messages": []}, "openai") == "sdk"
    openhands = {  # openhands CLI 1.16 / sdk 1.21 through LiteLLM (Chat Completions and Messages)
        "messages": [
            {"role": "system", "content": "You are OpenHands agent, a helpful AI assistant that can interact with a computer"},
            {"role": "user", "content": "fix the test"},
        ]
    }  # fmt: skip
    assert harness({"user-agent": "OpenAI/Python 2.54.0"}, openhands, "openai") == "openhands"
    anthropic = {
        "system": openhands["messages"][0]["content"],
        "messages": openhands["messages"][1:],
    }
    assert harness({"user-agent": "litellm/1.106.2"}, anthropic) == "openhands"


def test_subagent_state_does_not_mix_with_the_parent() -> None:
    cfg = parse_config({"providers": {"anthropic": {"api_keys": ["env:K"]}}}, {"K": "k"})
    r = Router(cfg, store=MemoryStore())
    h = {"x-claude-code-session-id": "same"}
    parent = r.route("anthropic", {**BODY, "model": "claude-sonnet-4-5"}, h)
    task = {"model": "claude-sonnet-4-5", "system": "You are an agent for Claude Code, Anthropic's official CLI for Claude.",
            "messages": [{"role": "user", "content": "write tests for the parser"}]}  # fmt: skip
    child = r.route("anthropic", task, h)
    assert parent.session_id == child.session_id == "same"
    assert parent.state_key != child.state_key and child.subagent and not parent.subagent


class Clock:
    now = 0.0

    def __call__(self) -> float:
        return self.now


def test_memory_store_is_bounded_and_expires() -> None:
    clock = Clock()
    store = MemoryStore(max_sessions=2, ttl_seconds=10, clock=clock)
    for key in ("a", "b", "c"):
        store.put(key, SessionState(tier=key))
    assert len(store) == 2 and store.get("a") is None  # least recently used went first
    state = store.get("c")
    assert state is not None and state.tier == "c"
    clock.now = 11
    assert store.get("c") is None and len(store) == 1  # idle longer than the TTL


def test_state_json_round_trip_ignores_unknown_fields() -> None:
    s = SessionState(seen=3, lock="debugger", writers={"a.py": "opus"}, directive_idx=[0])
    back = SessionState.from_json(s.to_json())
    assert back == s
    assert SessionState.from_json(b'{"seen": 1, "future_field": 2}') == SessionState(seen=1)
    assert SessionState.from_json(b"not json") is None


READER_HEADERS: list[Any] = [
    CIMultiDict([("User-Agent", "claude-cli/2.0.14"), ("X-Tierline-Tags", "a"),
                 ("x-tierline-tags", "b"), ("X-Team", "core"), ("Accept", "*/*")]),
    {"Host": "127.0.0.1", "User-Agent": "Python/3.11 aiohttp/3.13"},
    {"User-Agent": "opencode/0.15", "x-session-affinity": "oc-1"},
    {"originator": "codex_cli_rs", "session_id": "cx-1", "X-OpenAI-Subagent": "review"},
    {},
]  # fmt: skip


def test_inbound_reader_reads_as_the_pure_functions() -> None:
    """InboundReader memoizes by header names, system prompt head and headers: the same
    answers as lower_headers / identify / detect_role, on a first read and through the memo."""
    reader = InboundReader(frozenset({"x-team"}))
    bodies = [BODY, {**BODY, "system": "You are opencode"}, {"messages": [], "max_tokens": 1}]
    for _ in range(2):
        for headers in READER_HEADERS:
            low = lower_headers(headers, frozenset({"x-team"}))
            assert reader.headers(headers) == low
            for body in bodies:
                conv = Conversation.from_body("anthropic", body)
                req = reader.read("anthropic", body, "claude-haiku-4-5", headers)
                assert req.ident == identify(body, low, conv)
                role = detect_role(
                    req.ident.harness, "claude-haiku-4-5", low, conv, body.get("max_tokens")
                )
                assert req.role == role and req.headers == low
    assert reader.headers({"User-Agent": "b", "Host": "x"}) == {
        "user-agent": "b"
    }  # new values, known names
