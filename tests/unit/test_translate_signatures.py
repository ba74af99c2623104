"""Thinking signatures never reach a provider that did not issue them.

Drives the real ``TranslatorPair``s dispatch uses (``default_translators``):
signatures going to the client are tagged with their issuer, restored for that
provider on the way back, and removed for any other provider; unsigned blocks
(tierline's translation of OpenAI-side reasoning) never reach Anthropic.
"""

from __future__ import annotations

from typing import Any

import orjson

from sidecar.config import ModelConfig
from sidecar.protocols import anthropic as wa
from sidecar.protocols.sse import SSEDecoder
from sidecar.protocols.tap import make_tap
from sidecar.upstream.translators import AttemptInfo, default_translators

MODEL = ModelConfig(name="sonnet", provider="an", upstream="claude-sonnet-4-5", thinking=True)


def _info(provider: str, stream: bool = False) -> AttemptInfo:
    return AttemptInfo(MODEL, provider, stream, "req1", 1)


def _history(signature: str, tool_loop: bool = True) -> dict[str, Any]:
    last: Any = (
        [{"type": "tool_result", "tool_use_id": "toolu_1", "content": "ok"}]
        if tool_loop
        else "thanks"
    )
    return {
        "model": "sonnet",
        "max_tokens": 2000,
        "thinking": {"type": "enabled", "budget_tokens": 1024},
        "messages": [
            {"role": "user", "content": "run it"},
            {
                "role": "assistant",
                "content": [
                    {"type": "thinking", "thinking": "run ls", "signature": signature},
                    {"type": "tool_use", "id": "toolu_1", "name": "Bash", "input": {"c": "ls"}},
                ],
            },
            {"role": "user", "content": last},
        ],
    }


def _sent(body: dict[str, Any], provider: str) -> dict[str, Any]:
    pair = default_translators()[("anthropic", "anthropic")]
    data, _ = pair.request(body, _info(provider))
    sent: dict[str, Any] = orjson.loads(data)
    return sent


def test_response_signature_is_tagged_and_restored_only_for_its_issuer() -> None:
    pair = default_translators()[("anthropic", "anthropic")]
    answer = {
        "id": "msg_1",
        "type": "message",
        "role": "assistant",
        "model": "claude-sonnet-4-5",
        "content": [
            {"type": "thinking", "thinking": "hmm", "signature": "EqQBsig"},
            {"type": "redacted_thinking", "data": "EmwKdata"},
            {"type": "text", "text": "hi"},
        ],
        "stop_reason": "end_turn",
        "usage": {"input_tokens": 1, "output_tokens": 1},
    }
    client = orjson.loads(pair.response(orjson.dumps(answer), answer, _info("an")))
    signature = client["content"][0]["signature"]
    assert signature == "tierline:an:EqQBsig"
    assert client["content"][1]["data"] == "tierline:an:EmwKdata"
    assert client["model"] == "sonnet"

    body = _history(signature)
    same = _sent(body, "an")
    assert same["messages"][1]["content"][0]["signature"] == "EqQBsig"
    assert same["thinking"]["type"] == "enabled"
    other = _sent(body, "an-backup")
    assert [b["type"] for b in other["messages"][1]["content"]] == ["tool_use"]
    assert "thinking" not in other  # open tool loop without its signed thinking
    assert body["messages"][1]["content"][0]["signature"] == signature  # input untouched


def test_unsigned_thinking_from_translation_is_removed_and_untagged_is_kept() -> None:
    unsigned = _sent(_history("", tool_loop=False), "an")
    assert [b["type"] for b in unsigned["messages"][1]["content"]] == ["tool_use"]
    assert unsigned["thinking"]["type"] == "enabled"  # not inside a tool loop: stays on
    untagged = _sent(_history("EqQBfromElsewhere"), "an")
    assert untagged["messages"][1]["content"][0]["signature"] == "EqQBfromElsewhere"


def test_stream_signature_delta_is_tagged() -> None:
    pair = default_translators()[("anthropic", "anthropic")]
    encoder = pair.stream(_info("an", stream=True), True)
    tap = make_tap("anthropic")
    events = [
        {
            "type": "message_start",
            "message": {
                "id": "m",
                "type": "message",
                "role": "assistant",
                "model": "claude-sonnet-4-5",
                "content": [],
                "usage": {"input_tokens": 3},
            },
        },
        {
            "type": "content_block_start",
            "index": 0,
            "content_block": {"type": "thinking", "thinking": "", "signature": ""},
        },
        {
            "type": "content_block_delta",
            "index": 0,
            "delta": {"type": "signature_delta", "signature": "EqQBsig"},
        },
        {
            "type": "content_block_start",
            "index": 1,
            "content_block": {"type": "redacted_thinking", "data": "EmwK"},
        },
    ]
    raw = b"".join(
        b"event: " + e["type"].encode() + b"\ndata: " + orjson.dumps(e) + b"\n\n" for e in events
    )
    out = b""
    for event in SSEDecoder().feed(raw):
        tap.feed(event)
        out += encoder.event(event, tap)
    decoded = [orjson.loads(e.data) for e in SSEDecoder().feed(out)]
    assert decoded[0]["message"]["model"] == "sonnet"
    assert decoded[2]["delta"]["signature"] == "tierline:an:EqQBsig"
    assert decoded[3]["content_block"]["data"] == "tierline:an:EmwK"


def test_thinking_for_leaves_bodies_without_thinking_alone() -> None:
    body = {"messages": [{"role": "user", "content": "hi"}]}
    assert wa.thinking_for(body, "an") == (body, False)


OR_MODEL = ModelConfig(
    name="sonnet-or", provider="or", upstream="anthropic/claude-sonnet-4.5", thinking=True
)


def _or_info(provider: str) -> AttemptInfo:
    return AttemptInfo(OR_MODEL, provider, False, "req2", 1)


def test_openrouter_reasoning_details_round_trip_only_to_their_issuer() -> None:
    """Claude's signed thinking via OpenRouter (``reasoning_details``) reaches the Anthropic
    client tagged with the provider, goes back to that provider with the original
    signature, and is never sent signed to another OpenAI-kind provider or to Anthropic."""
    pairs = default_translators()
    a2o = pairs[("anthropic", "openai")]
    answer = {
        "id": "gen-1",
        "model": "anthropic/claude-sonnet-4.5",
        "choices": [{"index": 0, "finish_reason": "tool_calls", "message": {
            "role": "assistant", "content": "", "reasoning": "Read it.",
            "reasoning_details": [
                {"type": "reasoning.text", "text": "Read it.", "signature": "SIG-A",
                 "format": "anthropic-claude-v1", "index": 0},
                {"type": "reasoning.encrypted", "data": "RED-A",
                 "format": "anthropic-claude-v1", "index": 1},
            ],
            "tool_calls": [{"id": "toolu_1", "type": "function",
                            "function": {"name": "Bash", "arguments": "{}"}}],
        }}],
    }  # fmt: skip
    raw = orjson.dumps(answer)
    message = orjson.loads(a2o.response(raw, answer, _or_info("or")))
    thinking, redacted = message["content"][:2]
    assert thinking["signature"] == "tierline:or:SIG-A"
    assert redacted == {"type": "redacted_thinking", "data": "tierline:or:RED-A"}
    body = {
        "model": "sonnet-or",
        "max_tokens": 2000,
        "messages": [
            {"role": "user", "content": "run it"},
            {"role": "assistant", "content": message["content"]},
            {"role": "user", "content": [
                {"type": "tool_result", "tool_use_id": "toolu_1", "content": "ok"}]},
        ],
    }  # fmt: skip
    sent, _ = a2o.request(body, _or_info("or"))
    assistant = orjson.loads(sent)["messages"][1]
    assert assistant["reasoning_details"] == [
        {"type": "reasoning.text", "text": "Read it.", "signature": "SIG-A",
         "format": "anthropic-claude-v1", "index": 0},
        {"type": "reasoning.encrypted", "data": "RED-A",
         "format": "anthropic-claude-v1", "index": 1},
    ]  # fmt: skip
    elsewhere, _ = a2o.request(body, _or_info("other"))
    assert b"SIG-A" not in elsewhere and b"RED-A" not in elsewhere
    assert orjson.loads(elsewhere)["messages"][1]["reasoning_content"] == "Read it."
    anthropic, _ = pairs[("anthropic", "anthropic")].request(body, _info("an"))
    assert b"SIG-A" not in anthropic and b"RED-A" not in anthropic


def test_reasoning_details_of_other_formats_stay_unsigned() -> None:
    a2o = default_translators()[("anthropic", "openai")]
    answer = {
        "id": "gen-2",
        "model": "openai/gpt-5",
        "choices": [{"index": 0, "finish_reason": "stop", "message": {
            "role": "assistant", "content": "hi", "reasoning": "Thought.",
            "reasoning_details": [
                {"type": "reasoning.encrypted", "data": "OPAQUE", "id": "rs_1",
                 "format": "openai-responses-v1", "index": 0},
                {"type": "reasoning.summary", "summary": "Thought.",
                 "format": "openai-responses-v1", "index": 1},
            ],
        }}],
    }  # fmt: skip
    message = orjson.loads(a2o.response(orjson.dumps(answer), answer, _or_info("or")))
    assert message["content"][0] == {"type": "thinking", "thinking": "Thought.", "signature": ""}
    assert b"OPAQUE" not in orjson.dumps(message)
