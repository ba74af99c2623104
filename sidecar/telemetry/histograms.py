"""Explicit-bucket histograms aggregated by tierline, produced into both readers.

The SDK's synchronous ``Histogram.record`` costs tens of microseconds per call
and is paid once per reader; a request records several histogram values. Here
a record is a bisect and a few list updates under an uncontended lock (one lock
per producer: the recorder takes it once for all of a request's values), and the
data points are produced at collection time: ``HistogramProducer.inject``
adds them to the ``MetricsData`` a reader collected (the Prometheus reader and
the OTLP exporter wrapper call it), as the OTel "MetricProducer" concept does.

Temporality: cumulative for /metrics; for OTLP as the exporter prefers
(delta keeps the last exported totals and sends the difference).
"""

from __future__ import annotations

import threading
import time
from bisect import bisect_left
from collections.abc import Sequence

from opentelemetry.sdk.metrics.export import (
    AggregationTemporality,
    Histogram,
    HistogramDataPoint,
    Metric,
    MetricsData,
    ResourceMetrics,
    ScopeMetrics,
)
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.util.instrumentation import InstrumentationScope

from sidecar.telemetry import names

Key = tuple[str, ...]


class HistogramFamily:
    """One histogram with fixed label names; ``record`` runs on the event loop.

    State per label set: ``[bucket counts (len(bounds) + 1)..., count, sum, min, max]``.
    """

    def __init__(
        self,
        name: str,
        unit: str,
        bounds: Sequence[float],
        labels: tuple[str, ...],
        lock: threading.Lock | None = None,
    ) -> None:
        self.name, self.unit = name, unit
        self.bounds = tuple(bounds)
        self._n = len(self.bounds) + 1  # bucket counts per label set
        self._labels = labels
        self._points: dict[Key, list[float]] = {}
        self.lock = lock or threading.Lock()  # guards _points; shared by a producer's families

    def record(self, value: float, *key: str) -> None:
        self.record_to(key, value)

    def record_to(self, key: Key, value: float) -> None:
        """``record`` with the label tuple already built."""
        with self.lock:
            self.add(key, value)

    def add(self, key: Key, value: float) -> None:
        """``record_to`` for a caller that holds ``lock`` (several values, one acquisition)."""
        n = self._n
        bucket = bisect_left(self.bounds, value)
        state = self._points.get(key)
        if state is None:
            state = [0.0] * (n + 2) + [value, value]
            self._points[key] = state
        state[bucket] += 1
        state[n] += 1
        state[n + 1] += value
        if value < state[n + 2]:
            state[n + 2] = value
        if value > state[n + 3]:
            state[n + 3] = value

    def snapshot(self) -> dict[Key, list[float]]:
        with self.lock:
            return {key: list(state) for key, state in self._points.items()}

    def labels(self, key: Key) -> dict[str, str]:
        """Attributes of a label set; an empty value means the attribute is absent."""
        return {k: v for k, v in zip(self._labels, key, strict=True) if v}


class HistogramProducer:
    """Turns the families into OTel ``Metric`` objects and adds them to collected data."""

    def __init__(self, resource: Resource) -> None:
        self.families: list[HistogramFamily] = []
        self.lock = threading.Lock()  # every family's: one acquisition records a request
        self._resource = resource
        self._scope = InstrumentationScope(names.SCOPE)
        self._start = time.time_ns()
        self._last: dict[tuple[str, Key], list[float]] = {}  # delta exporter's last totals
        self._last_time = self._start

    def family(
        self, name: str, unit: str, bounds: Sequence[float], *labels: str
    ) -> HistogramFamily:
        family = HistogramFamily(name, unit, bounds, labels, self.lock)
        self.families.append(family)
        return family

    def metrics(self, delta: bool = False) -> list[Metric]:
        """Current data points; ``delta``: differences since the previous delta call."""
        now = time.time_ns()
        start = self._last_time if delta else self._start
        out = []
        for family in self.families:
            points = []
            n = len(family.bounds) + 1
            for key, state in family.snapshot().items():
                if delta:
                    previous = self._last.get((family.name, key))
                    self._last[(family.name, key)] = state
                    if previous is not None:
                        state = [a - b for a, b in zip(state[: n + 2], previous, strict=False)]
                        state += [0.0, 0.0]  # min/max are not defined for a delta here
                    if not state[n]:
                        continue
                points.append(_point(family, key, state, n, start, now))
            if points:
                temporality = (
                    AggregationTemporality.DELTA if delta else AggregationTemporality.CUMULATIVE
                )
                out.append(Metric(family.name, "", family.unit, Histogram(points, temporality)))
        if delta:
            self._last_time = now
        return out

    def inject(self, data: MetricsData | None, delta: bool = False) -> MetricsData:
        """``data`` plus these histograms, in the tierline scope of its first resource."""
        extra = self.metrics(delta)
        resources = list(data.resource_metrics) if data is not None else []
        if not extra:
            return MetricsData(resources)
        if not resources:
            scope = ScopeMetrics(self._scope, extra, "")
            return MetricsData([ResourceMetrics(self._resource, [scope], "")])
        # Same scope as the SDK's instruments: merge (encoders key scopes by identity).
        first = resources[0]
        scopes = list(first.scope_metrics)
        for i, sm in enumerate(scopes):
            if sm.scope.name == names.SCOPE:
                scopes[i] = ScopeMetrics(sm.scope, [*sm.metrics, *extra], sm.schema_url)
                break
        else:
            scopes.append(ScopeMetrics(self._scope, extra, ""))
        resources[0] = ResourceMetrics(first.resource, scopes, first.schema_url)
        return MetricsData(resources)


def _point(
    family: HistogramFamily, key: Key, state: list[float], n: int, start: int, now: int
) -> HistogramDataPoint:
    return HistogramDataPoint(
        attributes=family.labels(key),
        start_time_unix_nano=start,
        time_unix_nano=now,
        count=int(state[n]),
        sum=state[n + 1],
        bucket_counts=[int(c) for c in state[:n]],
        explicit_bounds=list(family.bounds),
        min=state[n + 2],
        max=state[n + 3],
    )
