"""A real OTLP/gRPC receiver for tests: grpc.aio services decoding into a ``Receiver``.

The three collector services (logs, metrics, traces) from ``opentelemetry-proto``'s
generated stubs, on a loopback port of the running event loop. Requests land in the
same ``Receiver`` the OTLP/HTTP fake uses (``tests/fakes/otlp.py``), with the call's
metadata as its headers, so the same flattening and ``wait_for`` apply.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import grpc
from opentelemetry.proto.collector.logs.v1 import logs_service_pb2, logs_service_pb2_grpc
from opentelemetry.proto.collector.metrics.v1 import (
    metrics_service_pb2,
    metrics_service_pb2_grpc,
)
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2, trace_service_pb2_grpc

from tests.fakes.otlp import Receiver


async def _keep(receiver: Receiver, store: list[Any], request: Any, context: Any) -> None:
    store.append(request)
    metadata = context.invocation_metadata() or ()
    receiver.headers.append({k.lower(): v for k, v in metadata})
    async with receiver.changed:
        receiver.changed.notify_all()


class _Logs(logs_service_pb2_grpc.LogsServiceServicer):
    def __init__(self, receiver: Receiver) -> None:
        self.receiver = receiver

    async def Export(self, request: Any, context: Any) -> Any:  # noqa: N802 - gRPC name
        await _keep(self.receiver, self.receiver.logs, request, context)
        return logs_service_pb2.ExportLogsServiceResponse()


class _Metrics(metrics_service_pb2_grpc.MetricsServiceServicer):
    def __init__(self, receiver: Receiver) -> None:
        self.receiver = receiver

    async def Export(self, request: Any, context: Any) -> Any:  # noqa: N802
        await _keep(self.receiver, self.receiver.metrics, request, context)
        return metrics_service_pb2.ExportMetricsServiceResponse()


class _Traces(trace_service_pb2_grpc.TraceServiceServicer):
    def __init__(self, receiver: Receiver) -> None:
        self.receiver = receiver

    async def Export(self, request: Any, context: Any) -> Any:  # noqa: N802
        await _keep(self.receiver, self.receiver.traces, request, context)
        return trace_service_pb2.ExportTraceServiceResponse()


@asynccontextmanager
async def grpc_receiver() -> AsyncIterator[tuple[Receiver, str]]:
    """A running receiver and its endpoint (``http://127.0.0.1:PORT``); stopped on exit."""
    receiver = Receiver()
    server = grpc.aio.server()
    logs_service_pb2_grpc.add_LogsServiceServicer_to_server(_Logs(receiver), server)
    metrics_service_pb2_grpc.add_MetricsServiceServicer_to_server(_Metrics(receiver), server)
    trace_service_pb2_grpc.add_TraceServiceServicer_to_server(_Traces(receiver), server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    try:
        yield receiver, f"http://127.0.0.1:{port}"
    finally:
        await server.stop(grace=None)
