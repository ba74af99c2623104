"""A real OTLP/HTTP receiver for tests: an aiohttp app decoding protobuf.

POST /v1/logs, /v1/metrics, /v1/traces accept ``application/x-protobuf``
bodies (optionally gzip), decode them with ``opentelemetry-proto`` and keep
the requests. Helpers flatten them into plain dicts for asserting, and
``wait_for`` blocks on a condition (woken by each arriving request, bounded by
a timeout) instead of sleeping.
"""

from __future__ import annotations

import asyncio
import gzip
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import (
    ExportLogsServiceRequest,
    ExportLogsServiceResponse,
)
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
    ExportMetricsServiceResponse,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue


def any_value(value: AnyValue) -> Any:
    kind = value.WhichOneof("value")
    if kind == "array_value":
        return [any_value(v) for v in value.array_value.values]
    if kind == "kvlist_value":
        return {kv.key: any_value(kv.value) for kv in value.kvlist_value.values}
    return getattr(value, kind) if kind else None


def attrs(kvs: Any) -> dict[str, Any]:
    return {kv.key: any_value(kv.value) for kv in kvs}


@dataclass
class Point:
    """One metric data point, flattened."""

    name: str
    kind: str  # sum | histogram | gauge
    attributes: dict[str, Any]
    value: float = 0.0  # sum/gauge value; histogram sum
    count: int = 0  # histogram count
    bounds: list[float] = field(default_factory=list)
    buckets: list[int] = field(default_factory=list)
    temporality: int = 0  # 1 delta, 2 cumulative
    monotonic: bool = False
    unit: str = ""


@dataclass
class Receiver:
    logs: list[ExportLogsServiceRequest] = field(default_factory=list)
    metrics: list[ExportMetricsServiceRequest] = field(default_factory=list)
    traces: list[ExportTraceServiceRequest] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    changed: asyncio.Condition = field(default_factory=asyncio.Condition)

    # -- flattening ----------------------------------------------------------------

    def log_records(self) -> list[dict[str, Any]]:
        out = []
        for req in self.logs:
            for rl in req.resource_logs:
                resource = attrs(rl.resource.attributes)
                for sl in rl.scope_logs:
                    for rec in sl.log_records:
                        out.append(
                            {
                                "event_name": rec.event_name,
                                "severity": rec.severity_number,
                                "attributes": attrs(rec.attributes),
                                "resource": resource,
                                "scope": sl.scope.name,
                                "trace_id": rec.trace_id.hex(),
                            }
                        )
        return out

    def points(self, name: str | None = None) -> list[Point]:
        out: list[Point] = []
        for req in self.metrics:
            for rm in req.resource_metrics:
                for sm in rm.scope_metrics:
                    for metric in sm.metrics:
                        if name is None or metric.name == name:
                            out.extend(_points(metric))
        return out

    def latest(self, name: str) -> list[Point]:
        """Points of the last export that carried ``name`` (cumulative: the totals)."""
        for req in reversed(self.metrics):
            found = [
                p
                for rm in req.resource_metrics
                for sm in rm.scope_metrics
                for m in sm.metrics
                if m.name == name
                for p in _points(m)
            ]
            if found:
                return found
        return []

    def spans(self) -> list[dict[str, Any]]:
        out = []
        for req in self.traces:
            for rs in req.resource_spans:
                for ss in rs.scope_spans:
                    for span in ss.spans:
                        out.append(
                            {
                                "name": span.name,
                                "kind": span.kind,
                                "trace_id": span.trace_id.hex(),
                                "span_id": span.span_id.hex(),
                                "parent_span_id": span.parent_span_id.hex(),
                                "attributes": attrs(span.attributes),
                                "status": span.status.code,
                            }
                        )
        return out

    async def wait_for(self, predicate: Callable[[], bool], timeout: float = 10.0) -> None:
        """Until ``predicate()`` holds (re-checked on every request), or TimeoutError."""
        async with asyncio.timeout(timeout):
            async with self.changed:
                await self.changed.wait_for(predicate)


RECEIVER = web.AppKey("otlp_receiver", Receiver)


def _points(metric: Any) -> list[Point]:
    kind = metric.WhichOneof("data")
    out: list[Point] = []
    if kind == "sum":
        for dp in metric.sum.data_points:
            value = dp.as_double if dp.HasField("as_double") else float(dp.as_int)
            out.append(
                Point(
                    metric.name, "sum", attrs(dp.attributes), value,
                    temporality=metric.sum.aggregation_temporality,
                    monotonic=metric.sum.is_monotonic, unit=metric.unit,
                )
            )  # fmt: skip
    elif kind == "histogram":
        for dp in metric.histogram.data_points:
            out.append(
                Point(
                    metric.name, "histogram", attrs(dp.attributes), dp.sum, dp.count,
                    list(dp.explicit_bounds), list(dp.bucket_counts),
                    metric.histogram.aggregation_temporality, unit=metric.unit,
                )
            )  # fmt: skip
    elif kind == "gauge":
        for dp in metric.gauge.data_points:
            value = dp.as_double if dp.HasField("as_double") else float(dp.as_int)
            out.append(Point(metric.name, "gauge", attrs(dp.attributes), value, unit=metric.unit))
    return out


async def _body(request: web.Request) -> bytes:
    data = await request.read()
    if request.headers.get("Content-Encoding") == "gzip":
        data = gzip.decompress(data)
    return data


def _handler(kind: str) -> Any:
    async def handle(request: web.Request) -> web.Response:
        receiver = request.app[RECEIVER]
        data = await _body(request)
        if kind == "logs":
            receiver.logs.append(ExportLogsServiceRequest.FromString(data))
            reply: Any = ExportLogsServiceResponse()
        elif kind == "metrics":
            receiver.metrics.append(ExportMetricsServiceRequest.FromString(data))
            reply = ExportMetricsServiceResponse()
        else:
            receiver.traces.append(ExportTraceServiceRequest.FromString(data))
            reply = ExportTraceServiceResponse()
        receiver.headers.append({k.lower(): v for k, v in request.headers.items()})
        async with receiver.changed:
            receiver.changed.notify_all()
        return web.Response(body=reply.SerializeToString(), content_type="application/x-protobuf")

    return handle


def build_otlp_app() -> web.Application:
    app = web.Application(client_max_size=64 * 1024 * 1024)
    app[RECEIVER] = Receiver()
    app.router.add_post("/v1/logs", _handler("logs"))
    app.router.add_post("/v1/metrics", _handler("metrics"))
    app.router.add_post("/v1/traces", _handler("traces"))
    return app
