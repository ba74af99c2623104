"""The log and span pipelines: a ``Batcher`` each, feeding the signal's OTLP exporter.

The exporter is what ``setup`` picked for the signal: tierline's direct
encoder over OTLP/HTTP (``otlp_logs``, ``otlp_spans``) or the SDK's gRPC
exporter. Log records are encoded straight from ``PendingLog`` on the exporter
thread (``otlp_logs.encode_pending``), or for another exporter built into the
SDK records its own pipeline would hand it (``logrecord.readable``);
spans as they ended (the direct encoder reads ``LightSpan`` as it is, any
other exporter gets ``ReadableSpan`` copies). Only sampled spans arrive here.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from opentelemetry.sdk._logs import LogRecordLimits
from opentelemetry.sdk._logs.export import LogRecordExporter, LogRecordExportResult
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace.export import SpanExportResult
from opentelemetry.sdk.trace.sampling import Sampler
from opentelemetry.sdk.util.instrumentation import InstrumentationScope

from sidecar.telemetry import names
from sidecar.telemetry.batch import Batcher
from sidecar.telemetry.logrecord import PendingLog, readable
from sidecar.telemetry.otlp_logs import FastOTLPLogExporter, encode_pending
from sidecar.telemetry.queues import Gate
from sidecar.telemetry.settings import TelemetrySettings
from sidecar.telemetry.tracing import LightSpan, LightTracer, Sampling
from sidecar.telemetry.tracing import readable as readable_span

_DELAY_S = 1.0  # at most this long between a record and its export


class LogPipeline:
    """``emit`` (event loop) queues a ``PendingLog``; the thread builds and exports."""

    def __init__(
        self,
        exporter: LogRecordExporter,
        resource: Resource,
        gate: Gate,
        settings: TelemetrySettings,
    ) -> None:
        self.resource = resource
        self._exporter = exporter
        self._scope = InstrumentationScope(names.SCOPE)
        self._limits = LogRecordLimits()  # reads the OTEL_* limits once
        self._compat = names.COMPAT_CLAUDE_CODE in settings.compat
        self._batcher: Batcher[PendingLog] = Batcher(
            "logs", self._export, gate, min(512, settings.queue_size), _DELAY_S
        )
        self.emit = self._batcher.put  # never blocks, never raises

    def _export(self, batch: Sequence[PendingLog]) -> bool:
        scope, compat, exporter = self._scope, self._compat, self._exporter
        if isinstance(exporter, FastOTLPLogExporter) and exporter.direct:
            return exporter.send(
                encode_pending(batch, self.resource, scope, compat, exporter.cache)
            )
        records = [readable(p, self.resource, scope, self._limits, compat) for p in batch]
        return exporter.export(records) == LogRecordExportResult.SUCCESS

    def flush(self) -> bool:
        return self._batcher.flush()

    def shutdown(self) -> None:
        self._batcher.shutdown()
        self._exporter.shutdown()  # type: ignore[no-untyped-call]


class SpanPipeline:
    """``tracer`` starts spans; each sampled one is queued when it ends."""

    def __init__(
        self,
        exporter: Any,
        resource: Resource,
        gate: Gate,
        settings: TelemetrySettings,
        sampler: Sampler | Sampling,
    ) -> None:
        from sidecar.telemetry.otlp_spans import FastOTLPSpanExporter

        self._exporter = exporter
        # The direct encoder reads LightSpan itself (while it has the SDK's transport).
        self._direct = isinstance(exporter, FastOTLPSpanExporter) and hasattr(exporter, "_client")
        self._batcher: Batcher[LightSpan] = Batcher(
            "traces", self._export, gate, min(512, settings.queue_size), _DELAY_S
        )
        scope = InstrumentationScope(names.SCOPE)
        self.tracer = LightTracer(sampler, resource, scope, self._batcher.put)

    def _export(self, batch: Sequence[LightSpan]) -> bool:
        spans: Sequence[Any] = batch if self._direct else [readable_span(s) for s in batch]
        return bool(self._exporter.export(spans) == SpanExportResult.SUCCESS)

    def flush(self) -> bool:
        return self._batcher.flush()

    def shutdown(self) -> None:
        self._batcher.shutdown()
        self._exporter.shutdown()
