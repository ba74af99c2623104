"""Plain text-delta runs: forwarded in one piece, counted without parsing, same bytes."""

from __future__ import annotations

import orjson

from sidecar.config import ModelConfig
from sidecar.protocols.sse import SSEDecoder
from sidecar.protocols.tap import Tap, make_tap
from sidecar.upstream.relay import _encode, _forward
from sidecar.upstream.translators import AttemptInfo, StreamEncoder, default_translators


def _chunk(delta: dict[str, object], finish: str | None = None, model: str = "up") -> bytes:
    body = {"id": "c1", "model": model, "choices": [{"index": 0, "delta": delta,
            "finish_reason": finish}], "usage": None}  # fmt: skip
    return b"data: " + orjson.dumps(body) + b"\n\n"


def _encoder(name: str = "m") -> StreamEncoder:
    pair = default_translators()[("openai", "openai")]
    return pair.stream(AttemptInfo(ModelConfig(name, "p", "up"), "p", True, "r", 0), True)


def _primed(name: str = "m") -> tuple[SSEDecoder, Tap, StreamEncoder]:
    decoder, tap, encoder = SSEDecoder(), make_tap("openai"), _encoder(name)
    _encode(decoder.feed(_chunk({"role": "assistant", "content": "Hi"})), tap, encoder)
    return decoder, tap, encoder


def test_plain_run_is_forwarded_whole_with_the_model_swapped() -> None:
    decoder, tap, encoder = _primed("m")
    run = _chunk({"content": 'a "quoted" word'}) + _chunk({"content": "b\\c"})
    out = _forward(run + b'data: {"id"', decoder, tap, encoder)
    assert out == run.replace(b'"model":"up"', b'"model":"m"')
    assert decoder.buffered  # the split event waits for the next read
    assert tap.received == 2 + len(orjson.dumps('a "quoted" word')) - 2 + len(b"b\\\\c")


def test_runs_with_more_than_text_go_event_by_event() -> None:
    for extra in (
        _chunk({}, finish="stop"),
        _chunk({"tool_calls": [{"index": 0, "id": "t", "function": {"name": "f"}}]}),
        b'data: {"error":{"message":"boom"}}\n\n',
        b": keep-alive\n\n",
    ):
        decoder, tap, encoder = _primed()
        out = _forward(_chunk({"content": "x"}) + extra, decoder, tap, encoder)
        assert b'"model":"m"' in out and b'"model":"up"' not in out
        assert tap.finish_reason == ("stop" if b"stop" in extra else None)
        assert len(tap.tool_calls) == (1 if b"tool_calls" in extra else 0)
        assert tap.received == len("Hi") + len("x")  # the plain head counted, once


def test_usage_chunk_is_parsed_and_an_aborted_stream_is_estimated() -> None:
    decoder, tap, encoder = _primed()
    _forward(_chunk({"content": "x" * 40}), decoder, tap, encoder)
    assert tap.usage.estimated and tap.usage.output_tokens == 11
    usage = {"id": "c1", "model": "up", "choices": [], "usage": {"prompt_tokens": 3,
             "completion_tokens": 12}}  # fmt: skip
    _forward(b"data: " + orjson.dumps(usage) + b"\n\n", decoder, tap, encoder)
    assert not tap.usage.estimated and tap.usage.output_tokens == 12
