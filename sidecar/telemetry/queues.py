"""The drop-counting ``Gate`` (every signal) and the metric exporter wrapper.

A ``Gate`` bounds the records of one signal that are queued or being exported
(``telemetry.queue_size``); past it a record is dropped at once, on the event
loop, without waiting. A failed export (collector down, timeout) drops its
batch. Both count into ``tierline.telemetry.dropped{signal}``.
"""

from __future__ import annotations

import threading
from typing import Any

from opentelemetry.metrics import Counter
from opentelemetry.sdk.metrics import Histogram
from opentelemetry.sdk.metrics.export import (
    AggregationTemporality,
    MetricExporter,
    MetricExportResult,
    MetricsData,
)

from sidecar.telemetry import names
from sidecar.telemetry.histograms import HistogramProducer
from sidecar.telemetry.settings import Signal


class Gate:
    """Bounds records in flight for one signal and counts the ones dropped."""

    def __init__(self, capacity: int, signal: Signal) -> None:
        self._capacity = capacity
        self._signal = signal
        self._pending = 0
        self._lock = threading.Lock()
        self.counter: Counter | None = None  # set once the meter exists
        self.dropped = 0

    def admit(self) -> bool:
        with self._lock:
            if self._pending < self._capacity:
                self._pending += 1
                return True
        self.drop(1)
        return False

    def release(self, n: int) -> None:
        with self._lock:
            self._pending = max(0, self._pending - n)

    def drop(self, n: int) -> None:
        with self._lock:
            self.dropped += n
        if self.counter is not None and n:
            self.counter.add(n, {names.A_SIGNAL: self._signal})


class CountingMetricExporter(MetricExporter):
    """Counts the data points of a failed export as dropped metrics."""

    def __init__(
        self,
        inner: MetricExporter,
        gate: Gate,
        temporality: dict[type, Any],
        producer: HistogramProducer,
    ) -> None:
        super().__init__(preferred_temporality=temporality)
        self._inner, self._gate, self._producer = inner, gate, producer
        self._delta = temporality.get(Histogram) == AggregationTemporality.DELTA

    def export(
        self, metrics_data: MetricsData, timeout_millis: float = 10_000, **kwargs: Any
    ) -> MetricExportResult:
        try:
            metrics_data = self._producer.inject(metrics_data, self._delta)
            result = self._inner.export(metrics_data, timeout_millis=timeout_millis)
        except Exception:  # noqa: BLE001
            result = MetricExportResult.FAILURE
        if result != MetricExportResult.SUCCESS:
            self._gate.drop(data_points(metrics_data))
        return result

    def force_flush(self, timeout_millis: float = 10_000) -> bool:
        return self._inner.force_flush(timeout_millis)

    def shutdown(self, timeout_millis: float = 30_000, **kwargs: Any) -> None:
        self._inner.shutdown(timeout_millis=timeout_millis)


def data_points(data: MetricsData) -> int:
    return sum(
        len(metric.data.data_points)
        for rm in data.resource_metrics
        for sm in rm.scope_metrics
        for metric in sm.metrics
    )
