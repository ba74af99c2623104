"""Verbatim streams: an identity stream with nothing to change reaches the client byte for
byte, each read forwarded before the tap reads it, and the tap still learns everything.

The provider here is scripted: it sends the stream up to its first content, waits until
the client has that content (so the rest comes in later reads, through the pump), then
sends the rest. Provider comments and CRLF line endings only survive on the verbatim
path (the event path drops comments and normalises line endings; so is the first read,
decoded up to the content), so byte equality shows which path ran.
"""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
from aiohttp import ClientSession, web

from sidecar.app import build_app
from sidecar.exchange import Exchange, ToolCall
from sidecar.ingress.keys import OBSERVERS
from sidecar.upstream import relay
from sidecar.upstream.providers import Failure
from tests.conftest import make_config

MSG = [{"role": "user", "content": "hi"}]


def _oa(delta: dict[str, Any], finish: str | None = None, model: str = "gpt-same") -> bytes:
    body = {"id": "c1", "object": "chat.completion.chunk", "model": model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}  # fmt: skip
    return b"data: " + orjson.dumps(body) + b"\n\n"


def _an(event: str, data: dict[str, Any]) -> bytes:
    return b"event: " + event.encode() + b"\r\ndata: " + orjson.dumps(data) + b"\r\n\r\n"


OPENAI_HEAD = [_oa({"role": "assistant", "content": ""}), _oa({"content": "Hel"})]
OPENAI_REST = [
    b": keep-alive\n\n",
    _oa({"content": "lo"}),
    _oa({"tool_calls": [{"index": 0, "id": "call_1", "type": "function",
                         "function": {"name": "read_file", "arguments": ""}}]}),  # fmt: skip
    _oa({"tool_calls": [{"index": 0, "function": {"arguments": '{"path":'}}]}),
    _oa({"tool_calls": [{"index": 0, "function": {"arguments": '"a.py"}'}}]}),
    _oa({}, finish="tool_calls"),
    b"data: " + orjson.dumps({"id": "c1", "model": "gpt-same", "choices": [],
                              "usage": {"prompt_tokens": 7, "completion_tokens": 9}}) + b"\n\n",
    b"data: [DONE]\n\n",
]  # fmt: skip
MESSAGE = {"id": "m1", "type": "message", "role": "assistant", "model": "claude-up",
           "content": [], "usage": {"input_tokens": 11, "output_tokens": 1}}  # fmt: skip
ANTHROPIC_HEAD = [
    _an("message_start", {"type": "message_start", "message": MESSAGE}),
    _an("content_block_start", {"type": "content_block_start", "index": 0,
                                "content_block": {"type": "text", "text": ""}}),
    _an("content_block_delta", {"type": "content_block_delta", "index": 0,
                                "delta": {"type": "text_delta", "text": "Hel"}}),
]  # fmt: skip
ANTHROPIC_REST = [
    _an("ping", {"type": "ping"}),
    _an("content_block_delta", {"type": "content_block_delta", "index": 0,
                                "delta": {"type": "text_delta", "text": "lo"}}),
    _an("content_block_stop", {"type": "content_block_stop", "index": 0}),
    _an("content_block_start", {"type": "content_block_start", "index": 1, "content_block":
        {"type": "tool_use", "id": "toolu_1", "name": "read_file", "input": {}}}),
    _an("content_block_delta", {"type": "content_block_delta", "index": 1,
        "delta": {"type": "input_json_delta", "partial_json": '{"path":"a.py"}'}}),
    _an("content_block_stop", {"type": "content_block_stop", "index": 1}),
    _an("message_delta", {"type": "message_delta", "delta": {"stop_reason": "tool_use"},
                          "usage": {"output_tokens": 13}}),
    _an("message_stop", {"type": "message_stop"}),
]  # fmt: skip


class Finished:
    """An observer that wakes the test when the exchange is recorded."""

    def __init__(self) -> None:
        self.done = asyncio.Event()
        self.exchange: Exchange | None = None

    def on_request(self, *args: Any) -> None:
        pass

    def on_exchange(self, exchange: Exchange, plan: Any) -> None:
        self.exchange = exchange
        self.done.set()


async def _run(
    aiohttp_server: Any, fake: Any, path: str, head: list[bytes], rest: list[bytes], body: Any
) -> tuple[bytes, Exchange]:
    """The client's bytes and the recorded exchange for one scripted stream."""
    seen = asyncio.Event()  # the client has the first content

    async def provider(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        await response.write(b"".join(head))
        await seen.wait()
        await response.write(b"".join(rest))
        await response.write_eof()
        return response

    upstream = web.Application()
    upstream.router.add_post(path, provider)
    odd = await aiohttp_server(upstream)
    base = str(odd.make_url("")).rstrip("/")
    app = build_app(make_config(
        fake,
        providers={"po": {"kind": "openai", "base_url": base + "/v1"},
                   "pa": {"kind": "anthropic", "base_url": base}},
        models={"gpt-same": {"provider": "po", "upstream": "gpt-same"},
                "claude-odd": {"provider": "pa", "upstream": "claude-up"}},
    ))  # fmt: skip
    finished = Finished()
    app[OBSERVERS].append(finished)
    server = await aiohttp_server(app)
    url = "/v1/chat/completions" if path.endswith("completions") else "/v1/messages"
    received = b""
    async with ClientSession() as http:
        async with http.post(server.make_url(url), json=body) as response:
            assert response.status == 200
            async for chunk in response.content.iter_any():
                received += chunk
                if b"Hel" in received:
                    seen.set()
    await finished.done.wait()
    assert finished.exchange is not None
    return received, finished.exchange


async def test_openai_identity_stream_is_relayed_byte_for_byte(
    aiohttp_server: Any, fake: Any
) -> None:
    body = {"model": "gpt-same", "messages": MSG, "stream": True,
            "stream_options": {"include_usage": True}}  # fmt: skip
    received, exchange = await _run(
        aiohttp_server, fake, "/v1/chat/completions", OPENAI_HEAD, OPENAI_REST, body
    )
    assert received == b"".join(OPENAI_HEAD + OPENAI_REST)  # the comment line included
    assert (exchange.usage.prompt_tokens, exchange.usage.output_tokens) == (7, 9)
    assert not exchange.usage.estimated
    assert exchange.tool_calls == (ToolCall("call_1", "read_file", '{"path":"a.py"}'),)
    assert exchange.finish_reason == "tool_calls" and exchange.status == 200


async def test_openai_stream_that_needs_changes_is_not_verbatim(
    aiohttp_server: Any, fake: Any
) -> None:
    """Without ``include_usage`` the usage chunk is the client's to lose: event by event."""
    body = {"model": "gpt-same", "messages": MSG, "stream": True}
    received, exchange = await _run(
        aiohttp_server, fake, "/v1/chat/completions", OPENAI_HEAD, OPENAI_REST, body
    )
    assert b'"usage"' not in received and b"keep-alive" not in received
    assert received.endswith(b"data: [DONE]\n\n")
    assert exchange.usage.output_tokens == 9
    assert exchange.tool_calls == (ToolCall("call_1", "read_file", '{"path":"a.py"}'),)


async def test_anthropic_identity_stream_is_verbatim_after_message_start(
    aiohttp_server: Any, fake: Any
) -> None:
    body = {"model": "claude-odd", "max_tokens": 100, "messages": MSG, "stream": True}
    received, exchange = await _run(
        aiohttp_server, fake, "/v1/messages", ANTHROPIC_HEAD, ANTHROPIC_REST, body
    )
    start, _, after = received.partition(b"\n\n")
    assert b'"model":"claude-odd"' in start  # the one event rewritten (and normalised)
    decoded = b"".join(ANTHROPIC_HEAD[1:]).replace(b"\r\n", b"\n")  # read to the content
    assert after == decoded + b"".join(ANTHROPIC_REST)  # later reads as sent: CRLF, ping
    assert (exchange.usage.prompt_tokens, exchange.usage.output_tokens) == (11, 13)
    assert exchange.tool_calls == (ToolCall("toolu_1", "read_file", '{"path":"a.py"}'),)
    assert exchange.finish_reason == "tool_use"


class _Response:
    """What ``prime`` reads of a ClientResponse: its body stream, fed by the test."""

    def __init__(self, data: bytes) -> None:
        from aiohttp import StreamReader
        from aiohttp.base_protocol import BaseProtocol

        loop = asyncio.get_running_loop()
        self.content = StreamReader(BaseProtocol(loop), 2**16, loop=loop)
        self.content.feed_data(data)
        self.content.feed_eof()


async def _prime(data: bytes, model: str = "gpt-same") -> relay.Primed | Failure:
    from sidecar.config import ModelConfig
    from sidecar.protocols.tap import make_tap
    from sidecar.upstream.translators import AttemptInfo, default_translators

    pair = default_translators()[("openai", "openai")]
    info = AttemptInfo(ModelConfig(model, "po", model), "po", True, "r", 0)
    encoder = pair.stream(info, True)
    return await relay.prime(_Response(data), make_tap("openai"), encoder, ())  # type: ignore[arg-type]


async def test_an_error_in_the_first_read_is_still_retryable() -> None:
    """The read holding the first content is read by the tap before anything is sent,
    verbatim or not: an error event anywhere in it (JSON spacing aside) lets the attempt
    still move to another candidate."""
    for error in (
        b'data: {"error":{"message":"overloaded","type":"server_error"}}\n\n',
        b'data: { "error": { "message": "overloaded" } }\n\n',
    ):
        for before in ([], OPENAI_REST[:2], OPENAI_REST[:5]):
            failed = await _prime(b"".join(OPENAI_HEAD + before) + error + OPENAI_REST[-1])
            assert isinstance(failed, Failure) and failed.retryable, (error, before)
    primed = await _prime(b"".join(OPENAI_HEAD + OPENAI_REST))
    assert isinstance(primed, relay.Primed) and primed.verbatim and not primed.unread
    assert b"".join(primed.pending) == b"".join(OPENAI_HEAD + OPENAI_REST)  # as it came
    assert primed.tap.tool_calls == (ToolCall("call_1", "read_file", '{"path":"a.py"}'),)
    assert primed.tap.finish_reason == "tool_calls" and primed.tap.usage.output_tokens == 9
    swapped = await _prime(b"".join(OPENAI_HEAD + OPENAI_REST), model="gpt-other")
    assert isinstance(swapped, relay.Primed) and not swapped.unread


def _anthropic_primed() -> relay.Primed:
    """An Anthropic identity stream (the app's, with signature tagging) past its first
    content, as ``prime`` leaves it."""
    from sidecar.config import ModelConfig
    from sidecar.protocols.sse import SSEDecoder
    from sidecar.protocols.tap import make_tap
    from sidecar.upstream.translators import AttemptInfo, default_translators, verbatim_of

    pair = default_translators()[("anthropic", "anthropic")]
    info = AttemptInfo(ModelConfig("claude-up", "pa", "claude-up"), "pa", True, "r", 0)
    encoder, tap, decoder = pair.stream(info, True), make_tap("anthropic"), SSEDecoder()
    for event in decoder.feed(b"".join(ANTHROPIC_HEAD)):
        tap.feed(event)
        encoder.event(event, tap)
    return relay.Primed(decoder, tap, encoder, [], verbatim_of(encoder))


def test_an_event_split_across_reads_waits_and_signatures_are_still_tagged() -> None:
    from sidecar.protocols.anthropic import tag_signature

    primed = _anthropic_primed()
    text = ANTHROPIC_REST[1]
    signed = _an("content_block_delta", {"type": "content_block_delta", "index": 0,
                 "delta": {"type": "signature_delta", "signature": "sig-1"}})  # fmt: skip
    stream = text + signed + ANTHROPIC_REST[2]
    cut = len(text) + signed.index(b"signature_delta") + 4  # inside the marker
    out, later = relay._next(primed, stream[:cut])
    assert (out, later) == (text, True)  # whole events only; the split one is held
    relay._learn(out, primed.decoder, primed.tap)  # as the pump does once it is sent
    out, later = relay._next(primed, stream[cut:])
    assert not later and primed.carry == b""
    assert tag_signature("sig-1", "pa").encode() in out  # went through the encoder
    assert out.endswith(b'"content_block_stop","index":0}\n\n')
    assert primed.tap.received == len("Hel") + len("lo")


def test_a_verbatim_stream_without_a_final_blank_line_ends_through_owed() -> None:
    primed = _anthropic_primed()
    last = ANTHROPIC_REST[-1].rstrip(b"\r\n")  # message_stop, unterminated
    out, later = relay._next(primed, b"".join(ANTHROPIC_REST[:-1]) + last)
    assert later and out == b"".join(ANTHROPIC_REST[:-1]) and primed.carry == last
    primed.unread.append(out)  # sent, not read yet: owed reads it first, in order
    tail = relay.owed(primed)
    assert tail == b'event: message_stop\ndata: {"type":"message_stop"}\n\n'
    assert primed.tap.finish_reason == "tool_use" and primed.tap.usage.output_tokens == 13
    assert primed.tap.tool_calls == (ToolCall("toolu_1", "read_file", '{"path":"a.py"}'),)


def _spaced(delta: str) -> bytes:
    """A chunk written with spaces after the separators (as some providers do)."""
    return (b'data: {"id": "c1", "model": "gpt-same", "choices": [{"index": 0, "delta": '
            + delta.encode() + b', "finish_reason": null}]}\n\n')  # fmt: skip


USAGE = b"data: " + orjson.dumps({"id": "c1", "model": "gpt-same", "choices": [],
    "usage": {"prompt_tokens": 7, "completion_tokens": 9}}) + b"\n\n"  # fmt: skip
TWO = b"data: " + orjson.dumps({"id": "c1", "model": "gpt-same", "choices": [
    {"index": 0, "delta": {"content": "a"}, "finish_reason": None},
    {"index": 1, "delta": {"content": "b"}, "finish_reason": "length"}]}) + b"\n\n"  # fmt: skip
TOOL = _oa({"tool_calls": [{"index": 0, "id": "call_9", "type": "function",
                            "function": {"name": "ls", "arguments": "{}"}}]})  # fmt: skip
ERROR = b'data: {"error":{"message":"overloaded","type":"server_error"}}\n\n'
DONE = b"data: [DONE]\n\n"
TEXTS = [_oa({"content": c}) for c in ("one ", "two ", "three")]
STREAMS = [
    OPENAI_HEAD + OPENAI_REST,
    OPENAI_HEAD + TEXTS + [_oa({}, finish="stop"), USAGE, DONE],
    OPENAI_HEAD + TEXTS[:1] + [TOOL] + TEXTS[1:] + [_oa({}, finish="tool_calls"), DONE],
    OPENAI_HEAD + [_oa({"reasoning_content": "why"}), *TEXTS, TWO, USAGE, DONE],
    OPENAI_HEAD + [b": keep-alive\n\n", *TEXTS, b"event: note\ndata: {}\n\n", USAGE, DONE],
    [s.replace(b"\n", b"\r\n") for s in OPENAI_HEAD + TEXTS + [USAGE, DONE]],
    OPENAI_HEAD + [_spaced('{"content": "x"}'), _spaced('{"tool_calls": [{"index": 0, '
                   '"id": "c", "function": {"name": "f", "arguments": "[]"}}]}'), DONE],
    OPENAI_HEAD + TEXTS + [_oa({}, finish="stop")],  # no usage: the output is estimated
    OPENAI_HEAD + TEXTS + [ERROR, DONE],
    OPENAI_HEAD + TEXTS + [TOOL, ERROR],
]


async def test_a_stream_read_at_once_teaches_the_tap_what_event_by_event_does() -> None:
    """Whatever the stream holds after its first content, the verbatim relay of a stream
    that came in one read (the tap reads it in ``prime``, plain runs by their shape) gives
    the client the bytes as they came and the tap the results of decoding and feeding
    every event in turn; an error anywhere makes a retryable Failure."""
    from sidecar.protocols.sse import SSEDecoder
    from sidecar.protocols.tap import make_tap

    for stream in STREAMS:
        data = b"".join(stream)
        expected = make_tap("openai")
        decoder = SSEDecoder()
        for event in decoder.feed(data) + decoder.flush():
            expected.feed(event)
        primed = await _prime(data)
        if expected.error is not None:
            assert isinstance(primed, Failure) and primed.retryable, stream
            continue
        assert isinstance(primed, relay.Primed), stream
        sent = b"".join(primed.pending) + relay.owed(primed)
        relay.catch_up(primed)
        tap = primed.tap
        assert sent == data or b"\r" in data, stream  # CRLF: the first events are decoded
        assert (tap.usage, tap.tool_calls, tap.finish_reason, tap.model, tap.received) == (
            expected.usage, expected.tool_calls, expected.finish_reason, expected.model,
            expected.received,
        ), stream  # fmt: skip
