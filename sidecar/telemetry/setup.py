"""Build the OpenTelemetry providers one app owns, and shut them down.

Ownership: ``build_telemetry`` creates a MeterProvider (a Prometheus reader on
a CollectorRegistry the app owns, plus an OTLP periodic reader when metrics go
out), a LoggerProvider when logs go out and a TracerProvider when traces go
out. Nothing touches the global providers, so a process may build many apps.
``Telemetry.shutdown`` flushes and stops every exporter thread; it blocks, so
the app calls it in a worker thread.

Never slow a request: records go into bounded queues (``telemetry.queue_size``)
drained by exporter threads. A full queue or a failed export drops records and
counts them in ``tierline.telemetry.dropped{signal}``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from opentelemetry import trace
from opentelemetry._logs import LogRecord, SeverityNumber
from opentelemetry.metrics import Meter
from opentelemetry.sdk._logs import LoggerProvider, LogRecordLimits
from opentelemetry.sdk._logs.export import (
    BatchLogRecordProcessor,
)
from opentelemetry.sdk.metrics import (
    Counter as SdkCounter,
)
from opentelemetry.sdk.metrics import (
    Histogram,
    MeterProvider,
    ObservableCounter,
    ObservableGauge,
    ObservableUpDownCounter,
    UpDownCounter,
)
from opentelemetry.sdk.metrics.export import (
    AggregationTemporality,
    MetricReader,
    MetricsData,
    PeriodicExportingMetricReader,
)
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider, sampling
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.sdk.trace.sampling import Sampler
from opentelemetry.sdk.util.instrumentation import InstrumentationScope
from prometheus_client import CollectorRegistry

from sidecar.telemetry import names
from sidecar.telemetry.histograms import HistogramProducer
from sidecar.telemetry.queues import (
    CountingMetricExporter,
    Gate,
    GatedLogExporter,
    GatedLogProcessor,
    GatedSpanExporter,
    GatedSpanProcessor,
    TrustedLogRecord,
)
from sidecar.telemetry.settings import ExportTarget, Signal, TelemetrySettings


def _temporality(settings: TelemetrySettings) -> dict[type, Any]:
    delta, cumulative = AggregationTemporality.DELTA, AggregationTemporality.CUMULATIVE
    if settings.temporality == "cumulative":
        return {}
    observable = delta if settings.temporality == "delta" else cumulative
    preferences: dict[type, Any] = {
        SdkCounter: delta,
        Histogram: delta,
        UpDownCounter: cumulative,
        ObservableGauge: cumulative,
        ObservableUpDownCounter: cumulative,
        ObservableCounter: observable,
    }
    return preferences


def _resource(settings: TelemetrySettings) -> Resource:
    from opentelemetry.sdk.version import __version__ as sdk_version

    attrs: dict[str, str] = {
        "telemetry.sdk.name": "opentelemetry",
        "telemetry.sdk.language": "python",
        "telemetry.sdk.version": sdk_version,
    }
    attrs.update(settings.resource_attributes)
    return Resource(attrs)


def _exporter(signal: Signal, target: ExportTarget, timeout: float) -> Any:
    """The OTLP exporter for one signal; grpc modules load only when asked for."""
    headers = dict(target.headers)
    if target.protocol == "grpc":
        insecure = target.url.startswith("http://")
        if signal == "logs":
            from opentelemetry.exporter.otlp.proto.grpc._log_exporter import OTLPLogExporter

            return OTLPLogExporter(target.url, insecure, headers=headers, timeout=timeout)
        if signal == "metrics":
            from opentelemetry.exporter.otlp.proto.grpc.metric_exporter import OTLPMetricExporter

            return OTLPMetricExporter(target.url, insecure, headers=headers, timeout=timeout)
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

        return OTLPSpanExporter(target.url, insecure, headers=headers, timeout=timeout)
    if signal == "logs":
        from sidecar.telemetry.otlp_logs import FastOTLPLogExporter

        return FastOTLPLogExporter(target.url, headers=headers, timeout=timeout)
    if signal == "metrics":
        from opentelemetry.exporter.otlp.proto.http.metric_exporter import (
            OTLPMetricExporter as HttpMetricExporter,
        )

        return HttpMetricExporter(target.url, headers=headers, timeout=timeout)
    from sidecar.telemetry.otlp_spans import FastOTLPSpanExporter

    return FastOTLPSpanExporter(target.url, headers=headers, timeout=timeout)


@dataclass
class Telemetry:
    """The providers one app owns. ``logger`` is None when logs are not exported."""

    settings: TelemetrySettings
    meter_provider: MeterProvider
    meter: Meter
    producer: HistogramProducer
    registry: CollectorRegistry | None
    logger_provider: LoggerProvider | None
    tracer_provider: TracerProvider | None
    tracer: trace.Tracer
    gates: dict[str, Gate]
    _scope: InstrumentationScope = field(default_factory=lambda: InstrumentationScope(names.SCOPE))
    _logger: Any = None
    _limits: LogRecordLimits = field(default_factory=LogRecordLimits)  # read env once

    @property
    def logs_enabled(self) -> bool:
        return self.logger_provider is not None

    def logger(self) -> Any:
        assert self.logger_provider is not None
        if self._logger is None:
            self._logger = self.logger_provider.get_logger(names.SCOPE)
        return self._logger

    def emit_event(
        self, event_name: str, attributes: dict[str, Any], severity: SeverityNumber
    ) -> None:
        """Emit one log record (current trace context) with pre-validated attributes."""
        if self.logger_provider is None:
            return
        record = LogRecord(
            event_name=event_name,
            severity_number=severity,
            severity_text=severity.name,
            attributes=attributes,
        )
        self.logger().emit(
            TrustedLogRecord(
                log_record=record,
                resource=self.logger_provider.resource,
                instrumentation_scope=self._scope,
                limits=self._limits,
            )
        )

    def dropped(self, signal: Signal) -> int:
        """Records dropped so far for a signal (the counter's running total)."""
        return self.gates[signal].dropped

    def flush(self, timeout_s: float = 5.0) -> None:
        """Blocking: push everything queued now. Call from a worker thread."""
        ms = int(timeout_s * 1000)
        if self.tracer_provider is not None:
            self.tracer_provider.force_flush(ms)
        if self.logger_provider is not None:
            self.logger_provider.force_flush(ms)
        self.meter_provider.force_flush(ms)

    def shutdown(self) -> None:
        """Blocking: flush and stop every exporter thread. Idempotent."""
        if self.tracer_provider is not None:
            self.tracer_provider.shutdown()
        if self.logger_provider is not None:
            self.logger_provider.shutdown()
        self.meter_provider.shutdown()


def build_telemetry(settings: TelemetrySettings, registry: CollectorRegistry | None) -> Telemetry:
    """Providers for one app; exporter threads only for signals with an endpoint.

    ``registry`` (owned by the app) gets the Prometheus reader; None: no /metrics.
    """
    resource = _resource(settings)
    producer = HistogramProducer(resource)
    gates = {s: Gate(settings.queue_size, s) for s in ("logs", "metrics", "traces")}
    readers: list[MetricReader] = []
    if registry is not None:
        readers.append(_prometheus_reader(registry, producer))
    if settings.metrics is not None:
        temporality = _temporality(settings)
        inner = _exporter("metrics", settings.metrics, settings.timeout_s)
        exporter = CountingMetricExporter(inner, gates["metrics"], temporality, producer)
        readers.append(
            PeriodicExportingMetricReader(
                exporter,
                export_interval_millis=settings.export_interval_ms,
                export_timeout_millis=settings.timeout_s * 1000,
            )
        )
    meter_provider = MeterProvider(
        metric_readers=readers, resource=resource, shutdown_on_exit=False
    )
    meter = meter_provider.get_meter(names.SCOPE)
    dropped = meter.create_counter(
        names.TELEMETRY_DROPPED, unit="{record}", description="Telemetry records dropped"
    )
    for gate in gates.values():
        gate.counter = dropped
    logger_provider = _logger_provider(settings, resource, meter_provider, gates["logs"])
    tracer_provider = _tracer_provider(settings, resource, meter_provider, gates["traces"])
    tracer: trace.Tracer = (
        tracer_provider.get_tracer(names.SCOPE) if tracer_provider else trace.NoOpTracer()
    )
    return Telemetry(
        settings,
        meter_provider,
        meter,
        producer,
        registry,
        logger_provider,
        tracer_provider,
        tracer,
        dict(gates),
    )


def _prometheus_reader(registry: CollectorRegistry, producer: HistogramProducer) -> MetricReader:
    """A PrometheusMetricReader on the app's registry that also reports our histograms."""
    from opentelemetry.exporter.prometheus import PrometheusMetricReader

    class Reader(PrometheusMetricReader):
        def _receive_metrics(
            self, metrics_data: MetricsData, timeout_millis: float = 10_000, **kwargs: Any
        ) -> None:
            super()._receive_metrics(producer.inject(metrics_data), timeout_millis, **kwargs)

    return Reader(registry=registry)


def _logger_provider(
    settings: TelemetrySettings, resource: Resource, mp: MeterProvider, gate: Gate
) -> LoggerProvider | None:
    if settings.logs is None:
        return None
    exporter = GatedLogExporter(_exporter("logs", settings.logs, settings.timeout_s), gate)
    batch = BatchLogRecordProcessor(
        exporter,
        schedule_delay_millis=1000,
        max_queue_size=settings.queue_size + 1,
        max_export_batch_size=min(512, settings.queue_size),
        meter_provider=mp,
    )
    provider = LoggerProvider(resource=resource, shutdown_on_exit=False, meter_provider=mp)
    provider.add_log_record_processor(GatedLogProcessor(batch, gate))
    return provider


def _tracer_provider(
    settings: TelemetrySettings, resource: Resource, mp: MeterProvider, gate: Gate
) -> TracerProvider | None:
    if settings.traces is None:
        return None
    exporter = GatedSpanExporter(_exporter("traces", settings.traces, settings.timeout_s), gate)
    batch = BatchSpanProcessor(
        exporter,
        schedule_delay_millis=1000,
        max_queue_size=settings.queue_size + 1,
        max_export_batch_size=min(512, settings.queue_size),
    )
    provider = TracerProvider(
        sampler=build_sampler(settings),
        resource=resource,
        shutdown_on_exit=False,
        meter_provider=mp,
    )
    provider.add_span_processor(GatedSpanProcessor(batch, gate))
    return provider


def build_sampler(settings: TelemetrySettings) -> Sampler:
    """The SDK sampler ``OTEL_TRACES_SAMPLER`` / ``_ARG`` name (read from the settings' env,
    not the process's, so each app decides its own)."""
    ratio = settings.sampler_ratio
    base: Sampler = {
        "always_on": sampling.ALWAYS_ON,
        "always_off": sampling.ALWAYS_OFF,
        "traceidratio": sampling.TraceIdRatioBased(ratio),
        "parentbased_always_on": sampling.ALWAYS_ON,
        "parentbased_always_off": sampling.ALWAYS_OFF,
        "parentbased_traceidratio": sampling.TraceIdRatioBased(ratio),
    }[settings.sampler]
    return sampling.ParentBased(base) if settings.sampler.startswith("parentbased") else base
