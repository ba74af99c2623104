"""Stream relay: hold the client until content arrives, then pump bytes through.

``prime`` reads provider SSE until the first event with content (the tap says
so), keeping the client bytes produced so far; a failure before that point is
still retryable. ``pump`` then forwards each upstream chunk's events as they
arrive, guarded by a stall watchdog, and reports how the stream ended. Neither
function owns the upstream response: the caller releases it.

Once content flows, a run of whole events that can only be plain text deltas
(``Tap.plain_prefix``) is forwarded as one piece when the encoder allows it (its
``plain``: identity streams), instead of being decoded, parsed and re-encoded
event by event; the events after it (tool calls, finish, usage, errors,
comments, a split event) take the per-event path.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Literal

from aiohttp import ClientError, ClientResponse, web

from sidecar.protocols.sse import SSEDecoder, SSEEvent
from sidecar.protocols.tap import Tap
from sidecar.upstream.providers import Failure, classify_event_error
from sidecar.upstream.translators import StreamEncoder, plain_of

Ending = Literal["ok", "upstream", "stall", "client"]


@dataclass
class Primed:
    decoder: SSEDecoder
    tap: Tap
    encoder: StreamEncoder
    pending: list[bytes]  # client bytes produced before and including the first content


async def prime(
    resp: ClientResponse, tap: Tap, encoder: StreamEncoder, secrets: tuple[str, ...]
) -> Primed | Failure:
    """Read until an event with content; a Failure when the stream errs or ends first.

    Events are decoded one at a time only up to the first content; the rest of that
    read goes on as bytes, as the pump would forward it (a plain run in one piece).
    Transport errors and timeouts propagate to the caller (it classifies them).
    """
    decoder = SSEDecoder()
    pending: list[bytes] = []
    content = resp.content
    while True:
        chunk = await content.readany()
        if not chunk:
            for last in decoder.flush():
                if _step(last, tap, encoder, pending) and tap.error is None:
                    return Primed(decoder, tap, encoder, pending)
            if tap.error is not None:
                return classify_event_error(tap.error, secrets)
            return Failure("stream_error", True, "the stream ended before any content")
        decoder.push(chunk)
        while (event := decoder.next_event()) is not None:
            got = _step(event, tap, encoder, pending)
            if tap.error is not None:
                return classify_event_error(tap.error, secrets)
            if got:
                rest = decoder.rest()
                if rest:
                    pending.append(_forward(rest, decoder, tap, encoder))
                    if tap.error is not None:  # nothing sent yet: still retryable
                        return classify_event_error(tap.error, secrets)
                return Primed(decoder, tap, encoder, pending)


def _step(event: SSEEvent, tap: Tap, encoder: StreamEncoder, pending: list[bytes]) -> bool:
    """Tap and re-encode one event before content; True when it carried content."""
    got = tap.feed(event)
    if tap.error is None:
        out = encoder.event(event, tap)
        if out:
            pending.append(out)
    return got


class _Watchdog:
    """Expire ``timeout`` when no chunk arrived for ``stall`` seconds.

    Each chunk costs one float store (``last``); the timer re-arms itself only
    when it fires, so a busy stream schedules about one timer per ``stall``.
    """

    def __init__(
        self, stall: float, timeout: asyncio.Timeout, loop: asyncio.AbstractEventLoop
    ) -> None:
        self._loop = loop
        self._stall = stall
        self._timeout = timeout
        self.last = self._loop.time()
        self._handle = self._loop.call_later(stall, self._check)

    def _check(self) -> None:
        idle = self._loop.time() - self.last
        if idle >= self._stall:
            self._timeout.reschedule(self._loop.time())
        else:
            self._handle = self._loop.call_later(self._stall - idle, self._check)

    def kick(self) -> None:
        self.last = self._loop.time()

    def stop(self) -> None:
        self._handle.cancel()


def _plain_head(data: bytes, tap: Tap, encoder: StreamEncoder) -> tuple[bytes, int]:
    """Client bytes for the leading plain run of ``data`` (whole events) and its length
    (0: none, nothing recorded)."""
    plain = plain_of(encoder)
    if plain is None:
        return b"", 0
    cut = tap.plain_prefix(data)
    if not cut:
        return b"", 0
    head = data[:cut] if cut < len(data) else data
    out = plain(head, tap)
    if out is None:
        return b"", 0
    tap.count_plain(head)
    return out, cut


def _forward(chunk: bytes, decoder: SSEDecoder, tap: Tap, encoder: StreamEncoder) -> bytes:
    """Client bytes for one upstream read once content flows (see the module docstring)."""
    if not decoder.buffered:
        end = chunk.rfind(b"\n\n") + 2
        if end > 1:
            out, cut = _plain_head(chunk[:end] if end < len(chunk) else chunk, tap, encoder)
            if cut:  # the rest event by event (a split last event is held)
                return out + _encode(decoder.feed(chunk[cut:]), tap, encoder)
    return _encode(decoder.feed(chunk), tap, encoder)


def _encode(events: list[SSEEvent], tap: Tap, encoder: StreamEncoder) -> bytes:
    parts = []
    for event in events:
        tap.feed(event)
        out = encoder.event(event, tap)
        if out:
            parts.append(out)
    return b"".join(parts)


async def pump(
    resp: ClientResponse,
    response: web.StreamResponse,
    primed: Primed,
    stall: float,
    loop: asyncio.AbstractEventLoop,
) -> Ending:
    """Forward the rest of the stream (``loop``: the running one); never raises for
    upstream or client failures."""
    decoder, tap, encoder = primed.decoder, primed.tap, primed.encoder
    content = resp.content
    try:
        async with asyncio.timeout(None) as timeout:
            dog = _Watchdog(stall, timeout, loop)
            try:
                while True:
                    chunk = await content.readany()
                    if not chunk:
                        break
                    dog.kick()
                    out = _forward(chunk, decoder, tap, encoder)
                    if out:
                        try:
                            await response.write(out)
                        except ConnectionError:
                            return "client"
            finally:
                dog.stop()
    except TimeoutError:
        return "stall"
    except ClientError:
        return "upstream"
    tail = owed(primed)
    if tail:
        try:
            await response.write(tail)
        except ConnectionError:
            return "client"
    return "ok"


def owed(primed: Primed) -> bytes:
    """Client bytes owed once the provider stream has ended: a last event it did not
    terminate, then whatever the encoder still owes."""
    tail = _encode(primed.decoder.flush(), primed.tap, primed.encoder)
    return tail + primed.encoder.finish(primed.tap)
