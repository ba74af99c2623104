"""Build the OpenTelemetry providers one app owns, and shut them down.

Ownership: ``build_telemetry`` creates a MeterProvider (a Prometheus reader on
a CollectorRegistry the app owns, plus an OTLP periodic reader when metrics go
out), a log pipeline when logs go out and a span pipeline when traces go
out; logs and traces go through tierline's own pipelines (``pipelines``: a
bounded queue and one exporter thread each, records built on that thread).
Nothing touches the global providers, so a process may build many apps.
``Telemetry.shutdown`` flushes and stops every exporter thread; it blocks, so
the app calls it in a worker thread.

Never slow a request: records go into bounded queues (``telemetry.queue_size``)
drained by exporter threads. A full queue or a failed export drops records and
counts them in ``tierline.telemetry.dropped{signal}``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from opentelemetry import trace
from opentelemetry.metrics import Meter
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
from opentelemetry.sdk.trace import sampling as sampling_api
from opentelemetry.sdk.trace.sampling import Sampler
from prometheus_client import CollectorRegistry

from sidecar.telemetry import names
from sidecar.telemetry.histograms import HistogramProducer
from sidecar.telemetry.pipelines import LogPipeline, SpanPipeline
from sidecar.telemetry.queues import CountingMetricExporter, Gate
from sidecar.telemetry.settings import ExportTarget, Signal, TelemetrySettings
from sidecar.telemetry.tracing import Sampling


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
    """The providers and pipelines one app owns; ``logs`` / ``traces`` are None when
    that signal is not exported (``tracer`` is then the API's no-op tracer)."""

    settings: TelemetrySettings
    meter_provider: MeterProvider
    meter: Meter
    producer: HistogramProducer
    registry: CollectorRegistry | None
    logs: LogPipeline | None
    traces: SpanPipeline | None
    tracer: trace.Tracer
    gates: dict[str, Gate]

    @property
    def logs_enabled(self) -> bool:
        return self.logs is not None

    def dropped(self, signal: Signal) -> int:
        """Records dropped so far for a signal (the counter's running total)."""
        return self.gates[signal].dropped

    def flush(self, timeout_s: float = 5.0) -> None:
        """Blocking: push everything queued now. Call from a worker thread."""
        ms = int(timeout_s * 1000)
        if self.traces is not None:
            self.traces.flush()
        if self.logs is not None:
            self.logs.flush()
        self.meter_provider.force_flush(ms)

    def shutdown(self) -> None:
        """Blocking: flush and stop every exporter thread. Idempotent."""
        if self.traces is not None:
            self.traces.shutdown()
        if self.logs is not None:
            self.logs.shutdown()
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
    logs, traces = _pipelines(settings, resource, gates)
    tracer: trace.Tracer = traces.tracer if traces is not None else trace.NoOpTracer()
    return Telemetry(
        settings, meter_provider, meter, producer, registry, logs, traces, tracer, dict(gates)
    )


def _pipelines(
    settings: TelemetrySettings, resource: Resource, gates: dict[str, Gate]
) -> tuple[LogPipeline | None, SpanPipeline | None]:
    """The log and span pipelines of the signals that have an endpoint."""
    logs = traces = None
    if settings.logs is not None:
        exporter = _exporter("logs", settings.logs, settings.timeout_s)
        logs = LogPipeline(exporter, resource, gates["logs"], settings)
    if settings.traces is not None:
        exporter = _exporter("traces", settings.traces, settings.timeout_s)
        traces = SpanPipeline(exporter, resource, gates["traces"], settings, sampling(settings))
    return logs, traces


def _prometheus_reader(registry: CollectorRegistry, producer: HistogramProducer) -> MetricReader:
    """A PrometheusMetricReader on the app's registry that also reports our histograms."""
    from opentelemetry.exporter.prometheus import PrometheusMetricReader

    class Reader(PrometheusMetricReader):
        def _receive_metrics(
            self, metrics_data: MetricsData, timeout_millis: float = 10_000, **kwargs: Any
        ) -> None:
            super()._receive_metrics(producer.inject(metrics_data), timeout_millis, **kwargs)

    return Reader(registry=registry)


def sampling(settings: TelemetrySettings) -> Sampling:
    """``build_sampler``'s decision, for the LightTracer to take inline."""
    bound = {
        "always_on": 1 << 64,
        "always_off": 0,
        "traceidratio": sampling_api.TraceIdRatioBased.get_bound_for_rate(settings.sampler_ratio),
    }[settings.sampler.removeprefix("parentbased_")]
    return Sampling(bound, settings.sampler.startswith("parentbased"))


def build_sampler(settings: TelemetrySettings) -> Sampler:
    """The SDK sampler ``OTEL_TRACES_SAMPLER`` / ``_ARG`` name (read from the settings' env,
    not the process's, so each app decides its own)."""
    ratio = settings.sampler_ratio
    base: Sampler = {
        "always_on": sampling_api.ALWAYS_ON,
        "always_off": sampling_api.ALWAYS_OFF,
        "traceidratio": sampling_api.TraceIdRatioBased(ratio),
        "parentbased_always_on": sampling_api.ALWAYS_ON,
        "parentbased_always_off": sampling_api.ALWAYS_OFF,
        "parentbased_traceidratio": sampling_api.TraceIdRatioBased(ratio),
    }[settings.sampler]
    if settings.sampler.startswith("parentbased"):
        return sampling_api.ParentBased(base)
    return base
