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

When the encoder says whole events go out ``verbatim`` (an identity stream with
nothing to change in them), they are sent as they came and the tap reads them
afterwards, all at once when the stream has ended (or every ``_UNREAD_MAX`` bytes):
the client's bytes never wait for the parsing, and the pump does no more per read
than a bare proxy. A read's unfinished last event is held until the next read
completes it (``Primed.carry``). The read holding the first content is the
exception: nothing has been sent yet, so the tap reads all of it before ``prime``
returns, and an error event anywhere in it still makes the attempt retryable (it
costs no more than reading it later, and no scan for errors).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from aiohttp import ClientError, ClientResponse, web

from sidecar.protocols.sse import CR, SSEDecoder, SSEEvent
from sidecar.protocols.tap import Tap
from sidecar.upstream.expiry import Expiry
from sidecar.upstream.providers import Failure, classify_event_error
from sidecar.upstream.translators import StreamEncoder, plain_of, verbatim_of

Ending = Literal["ok", "upstream", "stall", "client"]
_CARRY_MAX = 1 << 20  # an unfinished event held longer than this goes event by event
_UNREAD_MAX = 256 * 1024  # verbatim bytes sent before the tap must read them


@dataclass
class Primed:
    decoder: SSEDecoder
    tap: Tap
    encoder: StreamEncoder
    pending: list[bytes]  # client bytes not sent yet: up to the first content, the last read
    verbatim: Callable[[bytes, Tap], bool] | None = None  # the encoder's ``verbatim``
    carry: bytes = b""  # an unfinished last event, verbatim streams only: not sent yet
    unread: list[bytes] = field(default_factory=list)  # sent verbatim, not tapped yet
    unread_size: int = 0


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
                primed = Primed(decoder, tap, encoder, pending, verbatim_of(encoder))
                rest = decoder.rest()
                if rest:
                    out, later = _next(primed, rest)
                    pending.append(out)
                    if later:  # not sent yet: read now, so that an error is still retryable
                        _learn(out, decoder, tap)
                    if tap.error is not None:
                        return classify_event_error(tap.error, secrets)
                return primed


def _step(event: SSEEvent, tap: Tap, encoder: StreamEncoder, pending: list[bytes]) -> bool:
    """Tap and re-encode one event before content; True when it carried content."""
    got = tap.feed(event)
    if tap.error is None:
        out = encoder.event(event, tap)
        if out:
            pending.append(out)
    return got


class _Watchdog:
    """Expire ``expiry`` when no chunk arrived for ``stall`` seconds.

    Each chunk costs one float store (``last``); the timer re-arms itself only
    when it fires, so a busy stream schedules about one timer per ``stall``.
    """

    def __init__(self, stall: float, expiry: Expiry, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._stall = stall
        self._expiry = expiry
        self.last = self._loop.time()
        self._handle = self._loop.call_later(stall, self._check)

    def _check(self) -> None:
        idle = self._loop.time() - self.last
        if idle >= self._stall:
            self._expiry.expire()
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


def _whole(data: bytes) -> int:
    """The length of the leading whole events in ``data`` (LF or CRLF blank lines). The
    CRLF search only runs when a CR is there (found by ``memchr``): searching a read for a
    blank line it does not hold costs more than the rest of a verbatim read."""
    lf = data.rfind(b"\n\n")
    whole = lf + 2 if lf >= 0 else 0
    if CR not in data:
        return whole
    crlf = data.rfind(b"\r\n\r\n")
    return max(whole, crlf + 4 if crlf >= 0 else 0)


def _next(primed: Primed, chunk: bytes) -> tuple[bytes, bool]:
    """Client bytes for one read once content flows, and whether they went out verbatim
    (then the tap has not read them yet: ``_later``). The tap reads in stream order:
    what waits for it first, before a read it decodes now."""
    check = primed.verbatim
    if check is None:
        return _forward(chunk, primed.decoder, primed.tap, primed.encoder), False
    data = primed.carry + chunk if primed.carry else chunk
    end = _whole(data)
    if not end and len(data) > _CARRY_MAX:  # no event ends here: the decoder holds it
        primed.verbatim, primed.carry = None, b""
        catch_up(primed)
        return _forward(data, primed.decoder, primed.tap, primed.encoder), False
    piece, primed.carry = (data, b"") if end == len(data) else (data[:end], data[end:])
    if not piece:
        return b"", False
    if check(piece, primed.tap):
        return piece, True
    catch_up(primed)
    return _forward(piece, primed.decoder, primed.tap, primed.encoder), False


def _learn(piece: bytes, decoder: SSEDecoder, tap: Tap) -> None:
    """Let the tap read whole events already sent verbatim (``_forward`` without the
    bytes; the decoder holds nothing between them)."""
    cut = tap.plain_prefix(piece)
    if cut:
        tap.count_plain(piece[:cut] if cut < len(piece) else piece)
        if cut == len(piece):
            return
        piece = piece[cut:]
    for event in decoder.feed(piece):
        tap.feed(event)


def _later(primed: Primed, piece: bytes) -> None:
    """Keep a piece sent verbatim for the tap (read at once past ``_UNREAD_MAX``)."""
    primed.unread.append(piece)
    primed.unread_size += len(piece)
    if primed.unread_size > _UNREAD_MAX:
        catch_up(primed)


def catch_up(primed: Primed) -> None:
    """Let the tap read, in order, what went out verbatim before it read it (whole events,
    so in one piece)."""
    if primed.unread:
        piece = primed.unread[0] if len(primed.unread) == 1 else b"".join(primed.unread)
        primed.unread.clear()
        primed.unread_size = 0
        _learn(piece, primed.decoder, primed.tap)


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
    upstream or client failures. The last read's client bytes are left in
    ``primed.pending``, to go out with the end of the body (with ``owed``)."""
    content = resp.content
    try:
        with Expiry(loop, asyncio.current_task(loop), None) as expiry:
            dog = _Watchdog(stall, expiry, loop)
            try:
                while True:
                    chunk = await content.readany()
                    if not chunk:
                        break
                    dog.kick()
                    out, later = _next(primed, chunk)
                    if later:  # read by the tap once sent (catch_up)
                        _later(primed, out)
                    if content.at_eof():  # the last read: it goes with the end of the body
                        primed.pending.append(out)
                        break
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
    return "ok"


def owed(primed: Primed) -> bytes:
    """Client bytes owed once the provider stream has ended: a last event it did not
    terminate, then whatever the encoder still owes."""
    if not primed.carry and not primed.decoder.buffered:  # the usual end: a blank line
        return primed.encoder.finish(primed.tap)
    carry, primed.carry = primed.carry, b""
    events = primed.decoder.flush()
    if carry:  # (rare) the tap reads in order: what went out verbatim first
        catch_up(primed)
        events = primed.decoder.feed(carry) + primed.decoder.flush()
    tail = _encode(events, primed.tap, primed.encoder)
    return tail + primed.encoder.finish(primed.tap)
