"""Observers: who hears about each request, and the JSON access log (one of them).

An observer has two methods, both called by ingress, both synchronous and
cheap (queue anything slow): ``on_request(protocol, body, headers, plan)``
before dispatch, ``on_exchange(exchange, plan)`` exactly once after the response
completed, failed or the client went away. Ingress wraps every call, so an
observer that raises is logged and never breaks a request.

``AccessLog`` writes one structured line per request to the
``tierline.access`` logger (a mapping message: ``sidecar.logs`` renders it as
top-level JSON keys; ``LineWriter`` skips the ``LogRecord`` when tierline's own
handler is the only one listening). It logs names, counts and timings only; never bodies,
headers or keys.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any, Protocol

import orjson

from sidecar.exchange import Exchange
from sidecar.logs import LineWriter
from sidecar.routing.plan import RoutePlan


class Observer(Protocol):
    def on_request(
        self, protocol: str, body: Mapping[str, Any], headers: Mapping[str, str], plan: RoutePlan
    ) -> None: ...

    def on_exchange(self, exchange: Exchange, plan: RoutePlan | None) -> None: ...


class AccessLog:
    """The JSON access-log observer."""

    def __init__(self, logger: logging.Logger | None = None) -> None:
        self._log = logger or logging.getLogger("tierline.access")
        self._lines = LineWriter(self._log)
        self._encode = AccessEncoder()

    def on_request(
        self, protocol: str, body: Mapping[str, Any], headers: Mapping[str, str], plan: RoutePlan
    ) -> None:
        """Nothing to do before dispatch."""

    def on_exchange(self, exchange: Exchange, plan: RoutePlan | None) -> None:
        self._lines.info_encoded(self._encode, access_fields, exchange, plan)

    def flush(self) -> None:
        """Write the lines still waiting for the end of the event-loop tick."""
        self._lines.flush()


def _tenths(ms: float) -> float:
    """``ms`` to 0.1 ms, half up (``round(ms, 1)`` formats the float to decimal: ~2x
    the cost, twice per line)."""
    return int(ms * 10 + 0.5) / 10


def _tenths_json(ms: float) -> bytes:
    """``orjson.dumps(_tenths(ms))`` as digits: ``k / 10`` for an int ``k`` below 10**14
    is the double nearest that decimal, a tenth apart from any other, so its shortest
    repr (orjson's, Python's) is ``k // 10`` "." ``k % 10``; anything else goes to orjson."""
    k = int(ms * 10 + 0.5)
    if 0 <= k < 100_000_000_000_000:
        return b"%d.%d" % divmod(k, 10)
    return orjson.dumps(_tenths(ms))


def access_fields(exchange: Exchange, plan: RoutePlan | None) -> dict[str, Any]:
    """The access-log line's fields (no secrets, no content)."""
    usage = exchange.usage
    fields: dict[str, Any] = {
        "event": "request",
        "request_id": exchange.request_id,
        "protocol": exchange.client_protocol,
        "stream": exchange.stream,
        "model_requested": exchange.requested_model,
        "model": exchange.model,
        "provider": exchange.provider,
        "status": exchange.status,
        "error_type": exchange.error_type,
        "attempts": [
            f"{a.model}@{a.provider}:{a.status if a.status is not None else '-'}:{a.reason or 'ok'}"
            for a in exchange.attempts
        ],
        "input_tokens": usage.input_tokens,
        "output_tokens": usage.output_tokens,
        "cache_read_tokens": usage.cache_read_tokens,
        "cache_write_tokens": usage.cache_write_tokens + usage.cache_write_1h_tokens,
        "tool_calls": len(exchange.tool_calls),
        "finish_reason": exchange.finish_reason,
        "duration_ms": _tenths(exchange.duration_s * 1000),
        "ttft_ms": _tenths(exchange.ttft_s * 1000) if exchange.ttft_s is not None else None,
    }
    if exchange.session_id:
        fields["session_id"] = exchange.session_id
    if plan is not None:
        fields["tier"] = plan.tier
        fields["route"] = plan.route_header
    return fields


# Stand-ins for the fields that vary between requests of one kind, and what replaces
# each in a template: the JSON of a value (%s) or an int (%d).
_VARYING = (
    ("request_id", b"%s"),
    ("input_tokens", b"%d"),
    ("output_tokens", b"%d"),
    ("cache_read_tokens", b"%d"),
    ("cache_write_tokens", b"%d"),
    ("tool_calls", b"%d"),
    ("duration_ms", b"%s"),
    ("ttft_ms", b"%s"),
    ("session_id", b"%s"),
)


def _stand_in(name: str) -> str:
    return f"\x00tierline:{name}\x00"


def template(exchange: Exchange, plan: RoutePlan | None) -> bytes | None:
    """The JSON object of ``access_fields`` for requests of this kind, with a ``%``
    placeholder per varying field (in ``_VARYING`` order, ``session_id`` when the
    request has one); None when a constant value contains a stand-in."""
    fields = access_fields(exchange, plan)
    for name, _ in _VARYING:
        if name in fields:
            fields[name] = _stand_in(name)
    line = orjson.dumps(fields, default=str).replace(b"%", b"%%")
    for name, placeholder in _VARYING:
        stand_in = orjson.dumps(_stand_in(name))
        if line.count(stand_in) != (name in fields):
            return None
        line = line.replace(stand_in, placeholder)
    return line


class AccessEncoder:
    """``orjson.dumps(access_fields(exchange, plan))`` without building the fields.

    Most requests of a running sidecar are of a few kinds (protocol, models, provider,
    status, attempts, finish reason, route): the line of a kind is encoded once as a
    template (by orjson itself, so constant parts are byte-identical) and a request
    fills in what varies: ids as JSON by orjson, counts as ints, times as orjson's
    floats. The cache is bounded: past ``limit`` kinds it starts over.
    """

    def __init__(self, limit: int = 1024) -> None:
        self._limit = limit
        self._templates: dict[tuple[Any, ...], bytes | None] = {}

    def __call__(self, exchange: Exchange, plan: RoutePlan | None) -> bytes:
        ex = exchange
        attempts = ex.attempts
        if len(attempts) == 1:  # the common case, without a comprehension
            a = attempts[0]
            tried: tuple[Any, ...] = (a.model, a.provider, a.status, a.reason)
        else:
            tried = tuple([(a.model, a.provider, a.status, a.reason) for a in attempts])
        key = (
            ex.client_protocol, ex.stream, ex.requested_model, ex.model, ex.provider,
            ex.status, ex.error_type, ex.finish_reason, not ex.session_id, len(attempts),
            tried, plan.tier if plan is not None else None,
            plan.route_header if plan is not None else None,
        )  # fmt: skip
        try:
            line = self._templates[key]
        except KeyError:
            if len(self._templates) >= self._limit:
                self._templates.clear()
            line = self._templates[key] = template(ex, plan)
        if line is None:
            return orjson.dumps(access_fields(ex, plan), default=str)
        usage, dumps, ttft = ex.usage, orjson.dumps, ex.ttft_s
        values = (
            dumps(ex.request_id), usage.input_tokens, usage.output_tokens,
            usage.cache_read_tokens, usage.cache_write_tokens + usage.cache_write_1h_tokens,
            len(ex.tool_calls), _tenths_json(ex.duration_s * 1000),
            _tenths_json(ttft * 1000) if ttft is not None else b"null",
        )  # fmt: skip
        if ex.session_id:
            return line % (*values, dumps(ex.session_id))
        return line % values
