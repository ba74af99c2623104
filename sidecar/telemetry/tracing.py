"""tierline's own span type and tracer, exported through the OTLP span encoder.

Why not the SDK's: its two spans per request (SERVER and CLIENT) cost about
120 µs on the event loop (locks, attribute validation, processors, a
``ReadableSpan`` copy at end); tierline's spans are few, flat and built from
values it owns. ``LightTracer`` keeps the SDK's semantics where they show:

- the configured sampler decides (``OTEL_TRACES_SAMPLER`` / ``_ARG``, parent-based
  by default; the built-in ones inline as ``Sampling``, any other SDK ``Sampler``
  with the same inputs as the SDK gives it); a dropped span is the API's
  ``NonRecordingSpan`` carrying fresh ids, so its children follow it;
- ids as the SDK's random generator makes them; a child continues its
  parent's trace (a W3C ``traceparent`` the client sent, or the SERVER span);
  trace flags sampled and random-trace-id as the SDK sets them;
- status as ``Span.set_status`` (OK is final, UNSET ignored); attributes as
  given (tierline's are valid by construction; no limits are applied);
- ``start_as_current_span`` is the API's ``use_span`` around ``start_span``
  (``CurrentSpan``, the same rules without its two generator layers).

An ended, sampled span goes into the traces ``Batcher``; the exporter thread
encodes it (``otlp_spans``, the attributes it reads are the ``ReadableSpan``
names) or, for the SDK's gRPC exporter, copies it into a ``ReadableSpan``.
"""

from __future__ import annotations

import random
import time
import traceback
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from opentelemetry import trace
from opentelemetry.context import Context, attach, detach
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import Event, ReadableSpan
from opentelemetry.sdk.trace.sampling import Decision, Sampler
from opentelemetry.sdk.util.instrumentation import InstrumentationScope
from opentelemetry.trace import (
    Link,
    SpanContext,
    SpanKind,
    Status,
    StatusCode,
    TraceFlags,
    TraceState,
)
from opentelemetry.util.types import AttributeValue

# (sampled, random trace id) -> flags, as the SDK's tracer sets them.
_FLAGS = {
    (s, r): TraceFlags((TraceFlags.SAMPLED if s else 0) | (TraceFlags.RANDOM_TRACE_ID if r else 0))
    for s in (False, True)
    for r in (False, True)
}
_UNSET = Status(StatusCode.UNSET)


_ID_LIMIT = (1 << 64) - 1  # TraceIdRatioBased reads the low 64 bits of the trace id


@dataclass(frozen=True, slots=True)
class Sampling:
    """The built-in samplers (``OTEL_TRACES_SAMPLER``) decided inline, as the SDK's
    decide: a span without a parent is sampled when the low 64 bits of its trace id are
    below ``bound`` (always_on: 2**64, always_off: 0, traceidratio: the SDK's bound for
    the ratio); with ``parent_based`` a span with a parent follows the parent's flag."""

    bound: int
    parent_based: bool

    def sampled(self, parent: SpanContext | None, trace_id: int) -> bool:
        if parent is not None and self.parent_based:
            return bool(parent.trace_flags.sampled)
        return trace_id & _ID_LIMIT < self.bound


class LightSpan(trace.Span):
    """A recording span; ``on_end`` receives it once, when it ends."""

    __slots__ = (
        "name", "kind", "parent", "start_time", "end_time", "attributes", "events",
        "status", "resource", "instrumentation_scope", "_context", "_on_end",
    )  # fmt: skip
    links: tuple[Link, ...] = ()
    dropped_attributes = 0
    dropped_events = 0
    dropped_links = 0

    def __init__(
        self,
        name: str,
        context: SpanContext,
        parent: SpanContext | None,
        kind: SpanKind,
        attributes: dict[str, Any],
        tracer: LightTracer,
    ) -> None:
        self.name, self.kind, self.parent = name, kind, parent
        self._context = context
        self.attributes = attributes
        self.events: list[Event] = []
        self.status = _UNSET
        self.resource, self.instrumentation_scope = tracer.resource, tracer.scope
        self._on_end: Callable[[LightSpan], None] | None = tracer.on_end
        self.start_time = time.time_ns()
        self.end_time: int | None = None

    def get_span_context(self) -> SpanContext:
        return self._context

    def is_recording(self) -> bool:
        return self.end_time is None

    def set_attribute(self, key: str, value: AttributeValue) -> None:
        if self.end_time is None:
            self.attributes[key] = value

    def set_attributes(self, attributes: Mapping[str, AttributeValue]) -> None:
        if self.end_time is None:
            self.attributes.update(attributes)

    def add_event(self, name: str, attributes: Any = None, timestamp: int | None = None) -> None:
        if self.end_time is None:
            self.events.append(Event(name, attributes, timestamp or time.time_ns()))

    def update_name(self, name: str) -> None:
        if self.end_time is None:
            self.name = name

    def set_status(self, status: Status | StatusCode, description: str | None = None) -> None:
        if self.end_time is not None or self.status.status_code is StatusCode.OK:
            return
        if not isinstance(status, Status):
            status = Status(status, description)
        if status.status_code is not StatusCode.UNSET:
            self.status = status

    def record_exception(
        self,
        exception: BaseException,
        attributes: Any = None,
        timestamp: int | None = None,
        escaped: bool = False,
    ) -> None:
        attrs: dict[str, Any] = {
            "exception.type": type(exception).__name__,
            "exception.message": str(exception),
            "exception.stacktrace": "".join(traceback.format_exception(exception)),
            "exception.escaped": str(escaped),
        }
        attrs.update(attributes or {})
        self.add_event("exception", attrs, timestamp)

    def end(self, end_time: int | None = None) -> None:
        if self.end_time is not None:
            return
        self.end_time = end_time or time.time_ns()
        on_end, self._on_end = self._on_end, None
        if on_end is not None and self._context.trace_flags.sampled:
            on_end(self)


class LightTracer(trace.Tracer):
    """Starts ``LightSpan``s (see the module docstring); ``on_end`` gets sampled ones."""

    def __init__(
        self,
        sampler: Sampler | Sampling,
        resource: Resource,
        scope: InstrumentationScope,
        on_end: Callable[[LightSpan], None],
    ) -> None:
        """``sampler``: an SDK sampler, or a built-in one as ``Sampling`` (decided inline:
        the SDK's sampler objects cost a third of a span here)."""
        self.sampler, self.resource, self.scope, self.on_end = sampler, resource, scope, on_end
        self._bits = random.getrandbits

    def start_span(
        self,
        name: str,
        context: Context | None = None,
        kind: SpanKind = SpanKind.INTERNAL,
        attributes: Any = None,
        links: Sequence[Link] | None = (),
        start_time: int | None = None,
        record_exception: bool = True,
        set_status_on_exception: bool = True,
    ) -> trace.Span:
        parent: SpanContext | None = trace.get_current_span(context).get_span_context()
        if parent is None or not parent.is_valid:
            parent, random_id = None, True
            trace_id = self._bits(128) or 1
        else:
            trace_id, random_id = parent.trace_id, parent.trace_flags.random_trace_id
        decision, state, attrs = self._decide(
            context, parent, trace_id, name, kind, attributes, links
        )
        span_context = SpanContext(
            trace_id,
            self._bits(64) or 1,
            is_remote=False,
            trace_flags=_FLAGS[(decision is Decision.RECORD_AND_SAMPLE, random_id)],
            trace_state=state,
        )
        if decision is Decision.DROP:
            return trace.NonRecordingSpan(span_context)
        span = LightSpan(name, span_context, parent, kind, attrs, self)
        if start_time is not None:
            span.start_time = start_time
        return span

    def _decide(
        self,
        context: Context | None,
        parent: SpanContext | None,
        trace_id: int,
        name: str,
        kind: SpanKind,
        attributes: Any,
        links: Sequence[Link] | None,
    ) -> tuple[Decision, TraceState | None, dict[str, Any]]:
        """The sampler's decision, the new span's trace state and its first attributes."""
        sampler = self.sampler
        if isinstance(sampler, Sampling):
            if not sampler.sampled(parent, trace_id):
                return Decision.DROP, parent.trace_state if parent is not None else None, {}
            state = parent.trace_state if parent is not None else None
            return Decision.RECORD_AND_SAMPLE, state, dict(attributes) if attributes else {}
        result = sampler.should_sample(context, trace_id, name, kind, attributes, links)
        return result.decision, result.trace_state, dict(result.attributes or {})

    def start_as_current_span(  # type: ignore[override]
        self,
        name: str,
        context: Context | None = None,
        kind: SpanKind = SpanKind.INTERNAL,
        attributes: Any = None,
        links: Sequence[Link] | None = (),
        start_time: int | None = None,
        record_exception: bool = True,
        set_status_on_exception: bool = True,
        end_on_exit: bool = True,
    ) -> CurrentSpan:
        span = self.start_span(name, context, kind, attributes, links, start_time)
        return CurrentSpan(span, end_on_exit, record_exception, set_status_on_exception)


class CurrentSpan:
    """The API's ``use_span`` as a plain context manager (no generators): the span is
    current inside the block; an ``Exception`` escaping it is recorded and sets the
    status as asked; the span ends on exit when ``end_on_exit``."""

    __slots__ = ("_span", "_end", "_record", "_status", "_token")

    def __init__(self, span: trace.Span, end: bool, record: bool, status: bool) -> None:
        self._span, self._end, self._record, self._status = span, end, record, status

    def __enter__(self) -> trace.Span:
        self._token = attach(trace.set_span_in_context(self._span))
        return self._span

    def __exit__(self, kind: Any, exc: BaseException | None, tb: Any) -> None:
        detach(self._token)
        span = self._span
        if isinstance(exc, Exception) and span.is_recording():
            if self._record:
                span.record_exception(exc)
            if self._status:
                description = f"{type(exc).__name__}: {exc}"
                span.set_status(Status(StatusCode.ERROR, description))
        if self._end:
            span.end()


def readable(span: LightSpan) -> ReadableSpan:
    """The SDK's read-only copy of a span (for exporters other than tierline's encoder)."""
    return ReadableSpan(
        name=span.name,
        context=span.get_span_context(),
        parent=span.parent,
        resource=span.resource,
        attributes=span.attributes,
        events=span.events,
        kind=span.kind,
        status=span.status,
        start_time=span.start_time,
        end_time=span.end_time,
        instrumentation_scope=span.instrumentation_scope,
    )
