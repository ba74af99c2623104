"""What dispatch keeps per candidate and per attempt, and its small I/O helpers.

``Target`` is one candidate within one request (shared by every attempt of it);
``Held`` owns one attempt's upstream response (released when read to the end, else
closed). The functions are the pieces of an attempt that need no Dispatcher state.
"""

from __future__ import annotations

import logging
from typing import Any, NamedTuple

from aiohttp import ClientResponse, ConnectionTimeoutError, ServerTimeoutError, web
from opentelemetry.trace import NoOpTracer, Tracer

from sidecar.config import ModelConfig, ProviderConfig
from sidecar.protocols.tap import Tap
from sidecar.routing.plan import RoutePlan
from sidecar.upstream import relay
from sidecar.upstream.call import Call
from sidecar.upstream.providers import upstream_headers
from sidecar.upstream.translators import AttemptInfo, TranslatorPair

_log = logging.getLogger("tierline.dispatch")  # (dispatch's pieces: its logger)


class Target(NamedTuple):
    """One candidate within one request (what every attempt of it shares; a tuple for
    the reason given in ``sidecar.exchange``)."""

    request: web.Request
    call: Call
    plan: RoutePlan
    model: ModelConfig
    provider: ProviderConfig
    pair: TranslatorPair
    info: AttemptInfo
    url: str
    body: bytes
    client_usage: bool


class EventStream(web.StreamResponse):
    """The client's stream: its status and headers leave with the first body bytes, in
    one write (aiohttp >= 3.12 holds them when ``_send_headers_immediately`` is False, as
    its ``web.Response`` does; older versions send them at ``prepare``, as before)."""

    _send_headers_immediately = False


class Held:
    """The upstream response of one attempt: released when read to the end, else closed."""

    __slots__ = ("resp", "clean")

    def __init__(self) -> None:
        self.resp: ClientResponse | None = None
        self.clean = False

    def release(self) -> None:
        if self.resp is not None:
            if self.clean:
                self.resp.release()
            else:
                self.resp.close()


def traced(tracer: Tracer) -> bool:
    """False for a no-op tracer (also behind telemetry's ``DeferredTracer``, whose
    ``inner`` is swapped at startup): traces are off, so no span work at all."""
    return not isinstance(getattr(tracer, "inner", tracer), NoOpTracer)


def timeout_phase(exc: BaseException, held: Held) -> str:
    """connect: aiohttp's ``sock_connect`` timeout (or a server timeout before any
    response); first_byte: the attempt's own timer (headers or content not there yet)."""
    if isinstance(exc, ConnectionTimeoutError):
        return "connect"
    if isinstance(exc, ServerTimeoutError) and held.resp is None:
        return "connect"
    return "first_byte"


def headers_for(t: Target, key: str | None) -> dict[str, str]:
    return upstream_headers(t.provider, key, t.request.headers)


def take(call: Call, tap: Tap) -> None:
    call.usage = tap.usage
    call.tool_calls = tap.tool_calls
    call.finish_reason = tap.finish_reason


async def send_whole(request: web.Request, response: web.StreamResponse, call: Call) -> None:
    """Send a response that is not prepared yet, all of it; a client gone meanwhile is
    recorded as such (499)."""
    try:
        await response.prepare(request)
        await response.write_eof()
    except ConnectionError:
        call.fail(499, "client_disconnected")


def read_whole(call: Call, tap: Tap, obj: dict[str, Any]) -> None:
    """The tap reads a whole answer; the call takes its usage, tool calls, finish reason."""
    tap.json_body(obj)
    take(call, tap)


def read_stream(call: Call, primed: relay.Primed, ended_well: bool) -> None:
    """The tap reads what went out verbatim (the client's response is settled: a bug here
    is logged and costs only the request's telemetry); the call takes what it found; in a
    stream that ended well, an error event (relayed as sent) marks the call failed."""
    try:
        relay.catch_up(primed)
    except Exception:
        _log.exception("stream tap failed", extra={"request_id": call.request_id})
    take(call, primed.tap)
    if ended_well and primed.tap.error is not None:
        call.fail(502, "stream_error")


async def write_quietly(response: web.StreamResponse, data: bytes) -> None:
    try:
        await response.write(data)
    except ConnectionError:
        pass


async def write_eof_quietly(response: web.StreamResponse, data: bytes = b"") -> bool:
    """End the response (``data`` first, in the same write); False when the client is gone."""
    try:
        await response.write_eof(data)
    except ConnectionError:
        return False
    return True
