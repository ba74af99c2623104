"""The per-request record dispatch fills while it works, frozen into an ``Exchange``.

One ``Call`` per client request, owned by the ingress handler: dispatch appends
attempts and sets the outcome; the handler freezes it (``exchange``) exactly
once when the response has completed, failed or the client went away.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from sidecar.config import ModelConfig
from sidecar.exchange import Attempt, Exchange, Protocol, ToolCall, Usage
from sidecar.routing.plan import RoutePlan


@dataclass(slots=True)
class Call:
    request_id: str
    protocol: Protocol
    stream: bool
    requested_model: str
    started_at: float = field(default_factory=time.time)
    t0: float = field(default_factory=time.perf_counter)
    attempts: list[Attempt] = field(default_factory=list)
    model: ModelConfig | None = None
    provider: str | None = None
    usage: Usage = field(default_factory=Usage)
    tool_calls: tuple[ToolCall, ...] = ()
    finish_reason: str | None = None
    ttft_s: float | None = None
    status: int = 200
    error_type: str | None = None
    duration_s: float | None = None  # set by ``stop``
    settle: Callable[[], None] | None = None  # the tap's work, left for after the response

    def elapsed(self) -> float:
        return time.perf_counter() - self.t0

    def stop(self) -> None:
        """The response is over: its duration is fixed now, whenever it is frozen."""
        if self.duration_s is None:
            self.duration_s = time.perf_counter() - self.t0

    def fail(self, status: int, error_type: str) -> None:
        """Record the outcome as an error (the first error wins over later ones)."""
        if self.error_type is None:
            self.status = status
            self.error_type = error_type

    def exchange(self, plan: RoutePlan | None) -> Exchange:
        """Freeze, once ``settle`` has run; session fields come from the plan (None:
        failed before routing)."""
        if self.settle is not None:
            settle, self.settle = self.settle, None
            settle()
        model = self.model
        return Exchange(  # positional: keywords cost ~700 instructions each here
            self.request_id,
            plan.session_id if plan else "",  # session_id
            self.protocol,
            self.stream,
            self.requested_model,
            model.name if model else None,  # model
            self.provider,
            model.upstream if model else None,  # upstream_model
            tuple(self.attempts),
            self.usage,
            self.tool_calls,
            self.finish_reason,
            self.error_type,
            self.status,
            self.started_at,
            self.duration_s if self.duration_s is not None else self.elapsed(),
            self.ttft_s,
            plan.harness if plan else "unknown",
            plan.subagent if plan else False,
        )
