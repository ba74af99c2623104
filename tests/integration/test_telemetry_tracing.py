"""tierline's LightTracer produces the spans the SDK's tracer produces, on the wire."""

from __future__ import annotations

import random
from typing import Any

from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans as sdk_encode
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.sampling import (
    ALWAYS_ON,
    ParentBased,
    Sampler,
    TraceIdRatioBased,
)
from opentelemetry.sdk.util.instrumentation import InstrumentationScope
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from sidecar.telemetry.otlp_spans import encode_spans
from sidecar.telemetry.setup import build_sampler, sampling
from sidecar.telemetry.tracing import LightSpan, LightTracer, Sampling, readable

TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
RESOURCE = Resource({"service.name": "t"})
DEFAULT = Sampling(1 << 64, True)  # parentbased_always_on


def _scenario(tracer: Any) -> None:
    """What a request does: a SERVER span continuing the client's trace, a CLIENT child."""
    parent = TraceContextTextMapPropagator().extract(
        {"traceparent": TRACEPARENT, "tracestate": "vendor=x"}
    )
    with tracer.start_as_current_span(
        "POST /v1/messages", context=parent, kind=trace.SpanKind.SERVER,
        attributes={"http.request.method": "POST", "n": 3},
        record_exception=False, set_status_on_exception=False,
    ) as server:  # fmt: skip
        client = tracer.start_span("chat m", kind=trace.SpanKind.CLIENT,
                                   attributes={"tags": ["a", "b"], "c": 0.5})  # fmt: skip
        client.add_event("retry", {"attempt": 2})
        client.set_attributes({"gen_ai.usage.input_tokens": 10})
        client.set_status(trace.Status(trace.StatusCode.ERROR, "timeout"))
        client.set_status(trace.Status(trace.StatusCode.UNSET))  # ignored
        client.end()
        client.set_attribute("after", "end")  # ignored: ended
        server.set_attribute("http.response.status_code", 200)
        server.set_status(trace.StatusCode.OK)
        server.set_status(trace.StatusCode.ERROR)  # ignored: OK is final
    with tracer.start_as_current_span("root", kind=trace.SpanKind.SERVER):
        tracer.start_span("child").end()


def _normalised(request: ExportTraceServiceRequest) -> list[dict[str, Any]]:
    """Spans with ids replaced by their roles (the client's ids, or the index of the span
    that has them) and times by their order, so two tracers' outputs compare."""
    spans = [s for rs in request.resource_spans for ss in rs.scope_spans for s in ss.spans]
    own = {s.span_id: i for i, s in enumerate(spans)}
    traces = {bytes.fromhex(TRACEPARENT.split("-")[1]): "client"}
    out = []
    for s in spans:
        trace_role = traces.setdefault(s.trace_id, f"trace{len(traces)}")
        parent = s.parent_span_id
        out.append({
            "name": s.name, "kind": s.kind, "trace": trace_role,
            "parent": own.get(parent, parent.hex()), "trace_state": s.trace_state,
            "attributes": sorted((kv.key, str(kv.value)) for kv in s.attributes),
            "events": [(e.name, str(e.attributes)) for e in s.events],
            "status": (s.status.code, s.status.message), "flags": s.flags,
            "ordered": s.start_time_unix_nano <= s.end_time_unix_nano,
        })  # fmt: skip
    return out


def _light(sampler: Sampler | Sampling) -> tuple[LightTracer, list[LightSpan]]:
    ended: list[LightSpan] = []
    return LightTracer(sampler, RESOURCE, InstrumentationScope("tierline"), ended.append), ended


def test_light_spans_equal_the_sdk_spans_on_the_wire() -> None:
    memory = InMemorySpanExporter()
    provider = TracerProvider(resource=RESOURCE, shutdown_on_exit=False)
    provider.add_span_processor(SimpleSpanProcessor(memory))
    _scenario(provider.get_tracer("tierline"))
    sdk = memory.get_finished_spans()
    for sampler in (ParentBased(ALWAYS_ON), DEFAULT):  # the SDK's, and decided inline
        tracer, ended = _light(sampler)
        _scenario(tracer)
        assert len(ended) == len(sdk) == 4
        mine = ExportTraceServiceRequest.FromString(encode_spans(ended))
        assert _normalised(mine) == _normalised(sdk_encode(sdk))
        # The direct encoder reads a LightSpan as the SDK's encoder reads a ReadableSpan copy.
        assert mine == sdk_encode([readable(s) for s in ended])
        ids = {(s.get_span_context().trace_id, s.get_span_context().span_id) for s in ended}
        assert len(ids) == 4 and all(s.get_span_context().trace_flags == 3 for s in ended[2:])
    provider.shutdown()


def test_sampled_out_spans_are_not_recorded_and_their_children_follow() -> None:
    tracer, ended = _light(ParentBased(TraceIdRatioBased(0.0)))
    with tracer.start_as_current_span("root", kind=trace.SpanKind.SERVER) as root:
        assert not root.is_recording()
        child = tracer.start_span("chat m", kind=trace.SpanKind.CLIENT)
        assert not child.is_recording()
        assert child.get_span_context().trace_id == root.get_span_context().trace_id
        headers: dict[str, str] = {}
        TraceContextTextMapPropagator().inject(headers, trace.set_span_in_context(child))
        assert headers["traceparent"].endswith("-02")  # not sampled, random trace id
        child.end()
    parent = TraceContextTextMapPropagator().extract({"traceparent": TRACEPARENT})
    with tracer.start_as_current_span("continued", context=parent) as span:
        assert span.is_recording()  # the client sampled it: parent-based follows
        assert span.get_span_context().trace_flags == 1  # the client's id is not "random"
    assert [s.name for s in ended] == ["continued"]


def test_default_sampler_follows_a_parent_that_was_not_sampled() -> None:
    tracer, ended = _light(DEFAULT)
    unsampled = TRACEPARENT[:-2] + "00"
    parent = TraceContextTextMapPropagator().extract({"traceparent": unsampled})
    with tracer.start_as_current_span("server", context=parent) as server:
        assert not server.is_recording()
        tracer.start_span("chat m").end()
    with tracer.start_as_current_span("root") as root:
        assert root.is_recording()
    assert [s.name for s in ended] == ["root"]


def test_an_exception_escaping_the_current_span_is_recorded_as_the_sdk_does() -> None:
    memory = InMemorySpanExporter()
    provider = TracerProvider(resource=RESOURCE, shutdown_on_exit=False)
    provider.add_span_processor(SimpleSpanProcessor(memory))
    light, ended = _light(DEFAULT)
    for tracer in (provider.get_tracer("tierline"), light):
        for record in (True, False):
            try:
                with tracer.start_as_current_span("s", record_exception=record) as span:
                    assert trace.get_current_span() is span
                    raise ValueError("boom")
            except ValueError:
                pass
            assert trace.get_current_span() is trace.INVALID_SPAN
    sdk = memory.get_finished_spans()
    for theirs, mine in zip(sdk, ended, strict=True):
        assert [e.name for e in mine.events] == [e.name for e in theirs.events]
        assert mine.status.status_code == theirs.status.status_code == trace.StatusCode.ERROR
        assert mine.status.description == theirs.status.description == "ValueError: boom"
    provider.shutdown()


def test_inline_sampling_decides_as_the_sdk_samplers() -> None:
    from sidecar.config import TelemetryConfig
    from sidecar.telemetry.settings import resolve_settings

    rng = random.Random(3)
    names = ("always_on", "always_off", "traceidratio")
    for name in (*names, *(f"parentbased_{n}" for n in names)):
        settings = resolve_settings(
            TelemetryConfig(), {"OTEL_TRACES_SAMPLER": name, "OTEL_TRACES_SAMPLER_ARG": "0.3"}
        )
        sdk, inline = build_sampler(settings), sampling(settings)
        for _ in range(300):
            trace_id = rng.getrandbits(128)
            for flags in (None, 0, 1):
                parent = None
                context = None
                if flags is not None:
                    parent = trace.SpanContext(trace_id, rng.getrandbits(64), True,
                                               trace.TraceFlags(flags))  # fmt: skip
                    context = trace.set_span_in_context(trace.NonRecordingSpan(parent))
                want = sdk.should_sample(context, trace_id, "s").decision.is_sampled()
                assert inline.sampled(parent, trace_id) == want, (name, flags)
