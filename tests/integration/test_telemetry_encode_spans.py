"""The direct OTLP span encoder produces what the SDK's encoder produces."""

from __future__ import annotations

from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans as sdk_encode
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from sidecar.telemetry.otlp_logs import _Cache
from sidecar.telemetry.otlp_spans import encode_spans

TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


def test_direct_span_encoder_matches_the_sdk() -> None:
    memory = InMemorySpanExporter()
    provider = TracerProvider(resource=Resource({"service.name": "t"}), shutdown_on_exit=False)
    provider.add_span_processor(SimpleSpanProcessor(memory))
    tracer = provider.get_tracer("tierline", "1.0")
    parent = TraceContextTextMapPropagator().extract(
        {"traceparent": TRACEPARENT, "tracestate": "vendor=x"}
    )
    with tracer.start_as_current_span(
        "POST /v1/messages", context=parent, kind=trace.SpanKind.SERVER,
        attributes={"http.request.method": "POST", "n": 3},
    ) as server:  # fmt: skip
        client = tracer.start_span("chat m", kind=trace.SpanKind.CLIENT,
                                   attributes={"tags": ["a", "b"], "c": 0.5})  # fmt: skip
        client.add_event("retry", {"attempt": 2})
        client.set_status(trace.Status(trace.StatusCode.ERROR, "timeout"))
        client.end()
        server.set_attribute("http.response.status_code", 200)
    with tracer.start_as_current_span("internal"):
        pass
    spans = memory.get_finished_spans()
    assert len(spans) == 3
    cache = _Cache()
    for _ in range(2):
        mine = ExportTraceServiceRequest.FromString(encode_spans(spans, cache))
        assert mine == sdk_encode(spans)
    provider.shutdown()
