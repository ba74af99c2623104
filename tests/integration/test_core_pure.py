"""Pure pieces of the core path (no servers): SSE decoding, the tap, failure
classification, Retry-After, proxies, scrubbing, key rotation and cooldowns."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from sidecar.config import Config, ModelConfig, ProviderConfig, RoutingConfig
from sidecar.errors import InvalidRequest, NotFound, error_body, scrub, stream_error_event
from sidecar.protocols.sse import SSEDecoder, SSEEvent
from sidecar.protocols.tap import AnthropicTap, OpenAITap, anthropic_usage, openai_usage
from sidecar.routing.static import StaticRouter
from sidecar.upstream.health import Health
from sidecar.upstream.prompt_cache import (
    count_breakpoints,
    with_breakpoints,
    with_breakpoints_bytes,
)
from sidecar.upstream.providers import (
    classify_status,
    endpoint_url,
    parse_retry_after,
    proxy_for,
)
from tests.ci import in_ci

STREAM = (
    b'event: message_start\r\ndata: {"type":"message_start"}\r\n\r\n'
    b": comment\n\n"
    b'data: {"a":1}\n\n'
    b"data: line1\ndata: line2\n\n"
)


@pytest.mark.parametrize("size", [1, 2, 3, 7, 1000])
def test_sse_decoder_any_split(size: int) -> None:
    decoder = SSEDecoder()
    events = []
    for i in range(0, len(STREAM), size):
        events += decoder.feed(STREAM[i : i + size])
    events += decoder.flush()
    assert [(e.event, e.data) for e in events] == [
        ("message_start", b'{"type":"message_start"}'),
        (None, b'{"a":1}'),
        (None, b"line1\nline2"),
    ]
    assert events[1].raw == b'data: {"a":1}\n\n'


def test_sse_flush_unterminated_event() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"data: x") == []
    (event,) = decoder.flush()
    assert event.data == b"x"


@pytest.mark.parametrize("size", [1, 2, 3, 7, 1000])
def test_sse_push_next_event_reads_the_same_events_as_feed(size: int) -> None:
    decoder = SSEDecoder()
    events = []
    for i in range(0, len(STREAM), size):
        decoder.push(STREAM[i : i + size])
        while (event := decoder.next_event()) is not None:
            events.append(event)
    events += decoder.flush()
    assert events == SSEDecoder().feed(STREAM) + SSEDecoder().flush()
    assert [e.data for e in events] == [b'{"type":"message_start"}', b'{"a":1}', b"line1\nline2"]


def test_sse_rest_hands_over_the_unread_bytes_and_feed_continues() -> None:
    decoder = SSEDecoder()
    decoder.push(b'data: {"a":1}\n\ndata: {"b":2}\n\ndata: {"c"')
    first = decoder.next_event()
    assert first is not None and first.data == b'{"a":1}'
    rest = decoder.rest()
    assert rest == b'data: {"b":2}\n\ndata: {"c"' and not decoder.buffered
    events = decoder.feed(rest) + decoder.feed(b":3}\r\n\r\n")
    assert [e.data for e in events] == [b'{"b":2}', b'{"c":3}']
    assert not decoder.buffered


def _events(lines: list[bytes]) -> list[SSEEvent]:
    return SSEDecoder().feed(b"".join(lines))


def test_openai_tap_stream_tools_usage_and_content() -> None:
    def chunk(obj: object) -> bytes:
        return b"data: " + orjson.dumps(obj) + b"\n\n"

    base = {"model": "up", "usage": None}
    lines = [
        chunk(base | {"choices": [{"delta": {"role": "assistant", "content": ""}}]}),
        chunk(base | {"choices": [{"delta": {"content": "hi"}, "finish_reason": None}]}),
        chunk(base | {"choices": [{"delta": {"tool_calls": [
            {"index": 0, "id": "c1", "function": {"name": "f", "arguments": '{"a"'}}]}}]}),
        chunk(base | {"choices": [{"delta": {"tool_calls": [
            {"index": 0, "function": {"arguments": ":1}"}}]}}]}),
        chunk(base | {"choices": [{"delta": {}, "finish_reason": "tool_calls"}]}),
        chunk({"model": "up", "choices": [], "usage": {
            "prompt_tokens": 100, "completion_tokens": 7,
            "prompt_tokens_details": {"cached_tokens": 60}}}),
        b"data: [DONE]\n\n",
    ]  # fmt: skip
    tap = OpenAITap()
    flags = [tap.feed(e) for e in _events(lines)]
    assert flags[:2] == [False, True]
    assert tap.model == "up" and tap.finish_reason == "tool_calls"
    assert [(t.id, t.name, t.arguments) for t in tap.tool_calls] == [("c1", "f", '{"a":1}')]
    assert tap.usage.input_tokens == 40 and tap.usage.cache_read_tokens == 60
    assert tap.usage.output_tokens == 7


def test_anthropic_tap_stream() -> None:
    def ev(name: str, obj: object) -> bytes:
        return b"event: " + name.encode() + b"\ndata: " + orjson.dumps(obj) + b"\n\n"

    lines = [
        ev("message_start", {"message": {"model": "up", "usage": {
            "input_tokens": 5, "cache_read_input_tokens": 50, "cache_creation_input_tokens": 30,
            "cache_creation": {"ephemeral_5m_input_tokens": 10, "ephemeral_1h_input_tokens": 20},
            "output_tokens": 1}}}),
        ev("ping", {}),
        ev("content_block_start", {"index": 0, "content_block": {"type": "text", "text": ""}}),
        ev("content_block_delta", {"index": 0, "delta": {"type": "text_delta", "text": "x"}}),
        ev("content_block_start", {"index": 1, "content_block": {
            "type": "tool_use", "id": "t1", "name": "Read", "input": {}}}),
        ev("content_block_delta", {"index": 1, "delta": {
            "type": "input_json_delta", "partial_json": '{"p":'}}),
        ev("content_block_delta", {"index": 1, "delta": {
            "type": "input_json_delta", "partial_json": '"a"}'}}),
        ev("message_delta", {"delta": {"stop_reason": "tool_use"}, "usage": {"output_tokens": 9}}),
        ev("message_stop", {}),
    ]  # fmt: skip
    tap = AnthropicTap()
    flags = [tap.feed(e) for e in _events(lines)]
    # The empty text block opening is not content (a stall after it is still retryable).
    assert flags[:4] == [False, False, False, True]
    assert tap.model == "up" and tap.finish_reason == "tool_use"
    assert [(t.id, t.name, t.arguments) for t in tap.tool_calls] == [("t1", "Read", '{"p":"a"}')]
    usage = tap.usage
    assert (usage.input_tokens, usage.output_tokens, usage.cache_read_tokens) == (5, 9, 50)
    assert (usage.cache_write_tokens, usage.cache_write_1h_tokens) == (10, 20)


def test_anthropic_tap_content_is_a_delta_with_content_or_a_tool_start() -> None:
    def ev(name: str, obj: object) -> SSEEvent:
        return SSEEvent(name, orjson.dumps(obj), b"")

    tap = AnthropicTap()
    assert not tap.feed(ev("content_block_start", {"index": 0, "content_block": {
        "type": "thinking", "thinking": ""}}))  # fmt: skip
    assert not tap.feed(ev("content_block_delta", {"index": 0, "delta": {
        "type": "text_delta", "text": ""}}))  # fmt: skip
    assert tap.feed(ev("content_block_start", {"index": 1, "content_block": {
        "type": "tool_use", "id": "t", "name": "Bash", "input": {}}}))  # fmt: skip
    assert AnthropicTap().feed(ev("message_delta", {"delta": {"stop_reason": "end_turn"}}))
    assert not AnthropicTap().feed(ev("message_delta", {"delta": {}, "usage": {}}))


def test_usage_normalisation_without_split() -> None:
    assert anthropic_usage({"cache_creation_input_tokens": 7}).cache_write_tokens == 7
    assert openai_usage({"prompt_tokens": 3}).input_tokens == 3


def test_openai_usage_cache_keys() -> None:
    """Cache reads from ``prompt_tokens_details`` or DeepSeek's top-level key (the
    details win), cache writes from the details; both come out of input."""
    details = {"cached_tokens": 30, "cache_write_tokens": 20}
    usage = openai_usage({"prompt_tokens": 100, "prompt_tokens_details": details,
                          "prompt_cache_hit_tokens": 99})  # fmt: skip
    assert usage[:4] == (50, 0, 30, 20)
    usage = openai_usage({"prompt_tokens": 100, "prompt_tokens_details": {"cached_tokens": 0},
                          "prompt_cache_hit_tokens": 40})  # fmt: skip
    assert usage[:4] == (60, 0, 40, 0)
    usage = openai_usage({"prompt_tokens": 100, "prompt_cache_hit_tokens": True})
    assert usage[:4] == (100, 0, 0, 0)  # not a count


@pytest.mark.parametrize(
    ("status", "body", "reason"),
    [
        (400, b'{"error":{"code":"context_length_exceeded","message":"x"}}', "context_length"),
        (400, b'{"error":{"message":"This model\'s maximum context length is 8192"}}',
         "context_length"),
        (400, b'{"type":"error","error":{"type":"invalid_request_error",'
              b'"message":"prompt is too long: 210000 tokens > 200000 maximum"}}',
         "context_length"),
        (400, b'{"error":{"message":"input length and `max_tokens` exceed context limit: 1 + 2"}}',
         "context_length"),
        (400, b'{"error":{"message":"Provider returned error","code":400,"metadata":'
              b'{"raw":"This endpoint\'s maximum context length is 131072 tokens"}}}',
         "context_length"),
        (400, b'{"error":{"message":"bad temperature"}}', "bad_request"),
        (429, b"{}", "rate_limited"),
        (529, b"{}", "server_error"),
        (408, b"", "server_error"),
        (401, b"{}", "auth"),
        (403, b"{}", "auth"),
        (404, b"{}", "not_found"),
    ],
)  # fmt: skip
def test_classify_status(status: int, body: bytes, reason: str) -> None:
    failure = classify_status(status, body, {})
    assert failure.reason == reason
    assert failure.retryable == (reason in ("rate_limited", "server_error"))


def test_retry_after_forms() -> None:
    assert parse_retry_after({"retry-after-ms": "1500"}) == 1.5
    assert parse_retry_after({"Retry-After": "3"}) == 3.0
    date = "Wed, 21 Oct 2015 07:28:10 GMT"
    assert parse_retry_after({"Retry-After": date}, now=1445412480.0) == 10.0
    assert parse_retry_after({}) is None


def test_proxy_env_and_no_proxy() -> None:
    env = {"HTTPS_PROXY": "http://proxy:3128", "no_proxy": "localhost,.corp"}
    assert proxy_for("https://api.openai.com/v1", env) == "http://proxy:3128"
    assert proxy_for("https://llm.corp/v1", env) is None
    assert proxy_for("http://localhost:11434/v1", env) is None
    assert proxy_for("http://x/v1", {"ALL_PROXY": "http://p:1"}) == "http://p:1"


def test_endpoint_urls() -> None:
    an = ProviderConfig("a", "anthropic", "https://api.anthropic.com")
    assert endpoint_url(an, "messages") == "https://api.anthropic.com/v1/messages"
    an1 = ProviderConfig("a", "anthropic", "https://x/v1/")
    assert endpoint_url(an1, "count_tokens") == "https://x/v1/messages/count_tokens"
    oa = ProviderConfig("o", "openai", "https://openrouter.ai/api/v1")
    assert endpoint_url(oa, "chat") == "https://openrouter.ai/api/v1/chat/completions"


def test_scrub_and_error_shapes() -> None:
    text = scrub("bad key sk-abcdef123456 and Bearer xyz.abc-123456", ("my-literal-secret",))
    assert "sk-abcdef" not in text and "xyz.abc" not in text
    assert scrub("token my-literal-secret", ("my-literal-secret",)) == "token ***"
    err = InvalidRequest("nope", param="model")
    assert error_body("anthropic", err) == {
        "type": "error", "error": {"type": "invalid_request_error", "message": "nope"}
    }  # fmt: skip
    assert error_body("openai", err)["error"]["param"] == "model"
    assert stream_error_event("anthropic", err).startswith(b"event: error\ndata: ")
    assert stream_error_event("openai", err).startswith(b'data: {"error":')


def test_health_rotation_and_cooldowns() -> None:
    now = [0.0]
    health = Health(
        cooldown_seconds=30, key_cooldown_seconds=60, failure_threshold=2, clock=lambda: now[0]
    )
    provider = ProviderConfig("p", "openai", "http://x", api_keys=("k0", "k1", "k2"))
    assert [k for _, k in health.keys(provider)] == ["k0", "k1", "k2"]
    assert [k for _, k in health.keys(provider)] == ["k1", "k2", "k0"]
    health.cool_key("p", 1, 5.0, model="m")
    assert [k for _, k in health.keys(provider, "m")] == ["k2", "k0"]
    assert "k1" in [k for _, k in health.keys(provider, "other")]
    health.cool_key("p", 0)  # 401: every model
    assert [k for _, k in health.keys(provider, "other")] == ["k1", "k2"]
    now[0] = 61.0
    assert len(health.keys(provider, "m")) == 3
    assert health.keys(ProviderConfig("l", "openai", "http://x")) == [(-1, None)]
    assert not health.failure("m") and health.failure("m") and health.cooling("m")
    now[0] = 92.0
    assert not health.cooling("m")


def _static(**routing: Any) -> StaticRouter:
    models = {
        "a": ModelConfig("a", "p", "up-a"),
        "b": ModelConfig("b", "p", "up-b"),
        "c": ModelConfig("c", "p", "up-c"),
    }
    providers = {"p": ProviderConfig("p", "openai", "http://x/v1")}
    return StaticRouter(
        Config(providers=providers, models=models, routing=RoutingConfig(**routing))
    )


def test_static_router_resolution_and_fallbacks() -> None:
    router = _static(default_model="b", fallback_chain=("a", "c"), aliases=(("claude-*", "c"),))

    def names(model: str) -> list[str]:
        plan = router.route("openai", {"model": model}, {})
        return [m.name for m in plan.candidates]

    assert names("a") == ["a", "c"]  # asked model first, chain deduplicated
    assert names("claude-sonnet-4-5") == ["c", "a"]
    assert names("auto") == ["b", "a", "c"]
    assert router.route("openai", {"model": "coding"}, {}).tier == "coding"
    implicit = router.route("openai", {"model": "p:some/model"}, {}).candidates[0]
    assert (implicit.provider, implicit.upstream) == ("p", "some/model")
    with pytest.raises(NotFound) as info:
        router.route("openai", {"model": "gpt-5"}, {})
    assert "gpt-5" in info.value.message and "a, b, c" in info.value.message
    with pytest.raises(InvalidRequest):
        router.route("openai", {"model": 3}, {})


def test_static_router_default_aliases_catch_everything() -> None:
    router = _static(default_model="b")
    plan = router.route("anthropic", {"model": "claude-opus-4"}, {})
    assert plan.candidates[0].name == "b" and plan.method == "alias"


def test_prompt_cache_breakpoints_on_tools_system_and_last_user_turn() -> None:
    mark = {"type": "ephemeral"}
    body = {
        "model": "m",
        "system": "you are terse",
        "tools": [{"name": "a", "input_schema": {}}, {"name": "b", "input_schema": {}}],
        "messages": [
            {"role": "user", "content": "first"},
            {"role": "assistant", "content": [{"type": "text", "text": "ok"}]},
            {"role": "user", "content": [
                {"type": "tool_result", "tool_use_id": "t", "content": "x"},
                {"type": "text", "text": "go on"},
            ]},
            {"role": "assistant", "content": "prefill"},
        ],
    }  # fmt: skip
    before = orjson.dumps(body)
    out = with_breakpoints(body)
    assert orjson.dumps(body) == before  # the input is not changed
    assert out["system"] == [{"type": "text", "text": "you are terse", "cache_control": mark}]
    assert "cache_control" not in out["tools"][0] and out["tools"][1]["cache_control"] == mark
    assert out["messages"][0] == {"role": "user", "content": "first"}
    assert out["messages"][2]["content"][1]["cache_control"] == mark
    assert "cache_control" not in out["messages"][2]["content"][0]
    assert count_breakpoints(out) == 3
    assert with_breakpoints(out) is out  # idempotent: a marked body is left alone


def test_prompt_cache_respects_the_clients_breakpoints_and_the_limit() -> None:
    block = {"type": "text", "text": "s", "cache_control": {"type": "ephemeral"}}
    own = {"model": "m", "system": [block], "messages": [{"role": "user", "content": "hi"}]}
    assert with_breakpoints(own) is own
    raw = orjson.dumps(own)
    assert with_breakpoints_bytes(raw) is raw
    # A string user turn becomes one text block; an empty one and thinking blocks are skipped.
    out = with_breakpoints({"messages": [{"role": "user", "content": "hi"}]})
    assert out["messages"][0]["content"][0]["cache_control"] == {"type": "ephemeral"}
    empty = {
        "system": "",
        "messages": [{"role": "user", "content": [{"type": "text", "text": ""}]}],
    }
    assert with_breakpoints(empty) is empty
    assert count_breakpoints(with_breakpoints({"tools": [{"name": "t"}] * 9})) == 1
    assert count_breakpoints({"a": [{"cache_control": 1}, {"b": {"cache_control": 2}}]}) == 2


def test_in_ci_accepts_the_usual_spellings() -> None:
    assert all(in_ci({"CI": v}) for v in ("1", "true", "TRUE", "yes", "Yes", " true "))
    assert not any(in_ci({"CI": v}) for v in ("", "0", "false", "no"))
    assert not in_ci({})
