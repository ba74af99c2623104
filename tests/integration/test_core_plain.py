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


def _learned(name: str = "m") -> tuple[SSEDecoder, Tap, StreamEncoder]:
    """Primed with a chunk that is one text delta and nothing else: the tap learns the
    shape of the stream's text deltas from it."""
    decoder, tap, encoder = SSEDecoder(), make_tap("openai"), _encoder(name)
    _encode(decoder.feed(_chunk({"content": "Hi"})), tap, encoder)
    return decoder, tap, encoder


TOOL = _chunk(
    {"tool_calls": [{"index": 0, "id": "t", "function": {"name": "f", "arguments": "{}"}}]}
)
REASONING = _chunk({"content": "x", "reasoning": "why"})  # two keys: not the learned shape
# the learned head and tail around a text that is not one: a tool call inside the delta
MIXED = _chunk({"content": "a", "tool_calls": [{"index": 0, "id": "t"}], "role": "assistant"})
RUNS = [
    [_chunk({"content": "a"}), _chunk({"content": 'b "q" c\\'})],
    [_chunk({"content": "a"}), TOOL, _chunk({"content": "b"})],
    [_chunk({"content": "a"}), _chunk({"content": "b"}), _chunk({}, finish="stop")],
    [_chunk({"content": "a"}), REASONING, _chunk({"content": "b"})],
    [_chunk({"content": "a"}), MIXED, _chunk({"content": "b"})],
    [_chunk({"content": "a"}), b": keep-alive\n\n", _chunk({"content": "b"})],
    [_chunk({"content": "a"}), b'data: {"error":{"message":"boom"}}\n\n'],
    [_chunk({"content": "a"}).replace(b"\n\n", b"\r\n\r\n"), _chunk({"content": "b"})],
    [_chunk({"content": "a"}, model="other"), _chunk({"content": "b"})],
    # shapes the rebuilt run must tell apart: an escaped line break, a text ending in a
    # backslash, an event shorter than head and tail, events after the last text delta
    [_chunk({"content": "a\nb"}), _chunk({"content": "c\\"}), _chunk({"content": "d"})],
    [_chunk({"content": "a"}), b"data: {}\n\n", _chunk({"content": "b"})],
    [_chunk({"content": "a"}), _chunk({"content": "b"}), b"data: [DONE]\n\n"],
    [_chunk({"content": "a"}), TOOL, _chunk({}, finish="stop"), b"data: [DONE]\n\n"],
]


def test_a_learned_text_delta_shape_reads_every_run_as_event_by_event_would() -> None:
    """Whatever the run holds, the learned shape gives the same client bytes, tool
    calls, finish reason and text count as the marker scan (and, escapes aside, as
    reading it event by event)."""
    for run in RUNS:
        data = b"".join(run)
        results = []
        for start in (_learned, _primed):
            decoder, tap, encoder = start("m")
            out = _forward(data, decoder, tap, encoder) + _encode(decoder.flush(), tap, encoder)
            counted = tap.received - len("Hi")
            results.append((out, tap.tool_calls, tap.finish_reason, tap.error, counted))
            event_by_event = make_tap("openai")
            for event in SSEDecoder().feed(data):
                event_by_event.feed(event)
            if b"\\" not in data:  # a plain run counts escapes as written
                assert counted == event_by_event.received, run
        assert results[0] == results[1], run


def test_the_learned_shape_takes_a_whole_run_of_text_deltas_at_once() -> None:
    _, tap, _ = _learned()
    run = b"".join(_chunk({"content": c}) for c in ("a", "b", "c"))
    assert tap.plain_prefix(run + _chunk({}, finish="stop")) == len(run)
    assert tap.plain_prefix(run + TOOL + run) == len(run)  # the markers find the tool call
    assert tap.plain_prefix(TOOL + run) == 0
    assert tap.plain_prefix(run + MIXED) == len(run)
