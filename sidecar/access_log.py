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

    def on_request(
        self, protocol: str, body: Mapping[str, Any], headers: Mapping[str, str], plan: RoutePlan
    ) -> None:
        """Nothing to do before dispatch."""

    def on_exchange(self, exchange: Exchange, plan: RoutePlan | None) -> None:
        if not self._log.isEnabledFor(logging.INFO):
            return
        self._lines.info(access_fields(exchange, plan))

    def flush(self) -> None:
        """Write the lines still waiting for the end of the event-loop tick."""
        self._lines.flush()


def _tenths(ms: float) -> float:
    """``ms`` to 0.1 ms, half up (``round(ms, 1)`` formats the float to decimal: ~2x
    the cost, twice per line)."""
    return int(ms * 10 + 0.5) / 10


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
