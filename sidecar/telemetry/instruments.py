"""The metric instruments one recorder writes, created once per MeterProvider.

Every instrument feeds both readers (OTLP push and /metrics). Label values are
bounded by ``BoundedLabel``: past its cap a new value is reported as "other",
so a client sending random tags or model names cannot grow the series set.

Counters are ``CounterFamily``: a dict of running totals updated on the event
loop (a dict update, not an SDK measurement: the SDK's synchronous ``add``
costs tens of microseconds per call) and reported through an OTel
ObservableCounter when a reader collects. Both readers see cumulative totals;
an OTLP reader preferring delta gets deltas computed by the SDK.
"""

from __future__ import annotations

from collections.abc import Iterable

from opentelemetry.metrics import CallbackOptions, Meter, Observation

from sidecar.telemetry import names
from sidecar.telemetry.histograms import HistogramFamily, HistogramProducer


class BoundedLabel:
    """Passes at most ``cap`` distinct values through, then maps new ones to "other"."""

    def __init__(self, cap: int) -> None:
        self._cap = cap
        self._seen: set[str] = set()

    def __call__(self, value: str | None) -> str:
        if not value:
            return names.NONE_VALUE
        if value in self._seen:
            return value
        if len(self._seen) >= self._cap or len(value) > 128:
            return names.OTHER_VALUE
        self._seen.add(value)
        return value


class CounterFamily:
    """A monotonic counter with fixed label names, aggregated in a dict.

    ``add`` runs on the event loop; ``_observe`` runs in a reader's thread and
    reads a copy (``dict.copy`` is atomic under the GIL).
    """

    def __init__(
        self, meter: Meter, name: str, unit: str, labels: tuple[str, ...], description: str = ""
    ) -> None:
        self.name = name
        self._labels = labels
        self._values: dict[tuple[str, ...], float] = {}
        meter.create_observable_counter(
            name, callbacks=[self._observe], unit=unit, description=description
        )

    def add(self, value: float, *key: str) -> None:
        self._values[key] = self._values.get(key, 0) + value

    def add_to(self, key: tuple[str, ...], value: float) -> None:
        """``add`` with the label tuple already built (the recorder's hot path)."""
        values = self._values
        values[key] = values.get(key, 0) + value

    def total(self) -> float:
        return sum(self._values.copy().values())

    def _observe(self, options: CallbackOptions) -> Iterable[Observation]:
        labels = self._labels
        return [
            Observation(v, dict(zip(labels, k, strict=True)))
            for k, v in self._values.copy().items()
        ]


class Instruments:
    """tierline.*, GenAI and (when asked) claude_code.* instruments."""

    def __init__(self, meter: Meter, producer: HistogramProducer, compat: tuple[str, ...]) -> None:
        def c(name: str, unit: str, *labels: str) -> CounterFamily:
            return CounterFamily(meter, name, unit, labels)

        h = producer.family
        self.histogram_lock = producer.lock  # held while recording into any of them
        n = names
        self.requests = c(n.REQUESTS, n.UNIT_REQUEST, "tier", "model", "provider", "outcome")
        self.tokens = c(n.TOKEN_USAGE, n.UNIT_TOKENS, "model", "provider", "tier", "type")
        self.cost = c(n.COST_USAGE, n.UNIT_USD, "model", "provider", "tier")
        self.baseline = c(n.COST_BASELINE, n.UNIT_USD, "model", "provider", "tier")
        self.unpriced = c(n.COST_UNPRICED, n.UNIT_REQUEST, "model", "provider")
        self.shadow = c(n.COST_SHADOW, n.UNIT_USD, "model", "provider", "tier")
        self.route_decision = c(n.ROUTE_DECISION, "{decision}", "tier", "method", "profile")
        self.route_override = c(n.ROUTE_OVERRIDE, "{override}", "kind")
        self.route_tag = c(n.ROUTE_TAG, "{tag}", "tag")
        self.fallback = c(n.FALLBACK_COUNT, "{fallback}", "reason", "from_provider", "to_provider")
        self.upstream_error = c(n.UPSTREAM_ERROR, "{error}", "provider", "error_type")
        self.cooldown = c(n.UPSTREAM_COOLDOWN, "{skip}", "provider")
        self.exhausted = c(n.PLAN_EXHAUSTED, n.UNIT_REQUEST, "tier")
        self.lines = c(n.LINES_OF_CODE, n.UNIT_COUNT, "type", "language", "model")
        self.commits = c(n.COMMIT_COUNT, n.UNIT_COUNT, "model")
        self.prs = c(n.PULL_REQUEST_COUNT, n.UNIT_COUNT, "model")
        self.edit_decision = c(n.EDIT_DECISION, "{decision}", "tool_name", "decision", "language")
        self.route_confidence: HistogramFamily = h(
            n.ROUTE_CONFIDENCE, n.UNIT_ONE, n.CONFIDENCE_BUCKETS
        )
        self.attempts = h(n.UPSTREAM_ATTEMPTS, "{attempt}", n.ATTEMPT_BUCKETS)
        genai = (
            n.GEN_AI_OPERATION_NAME, n.GEN_AI_PROVIDER_NAME, n.GEN_AI_REQUEST_MODEL,
            n.GEN_AI_RESPONSE_MODEL, n.ERROR_TYPE,
        )  # fmt: skip
        self.gen_ai_tokens = h(
            n.GEN_AI_TOKEN_USAGE, n.UNIT_TOKEN, n.TOKEN_BUCKETS, *genai[:4], n.GEN_AI_TOKEN_TYPE
        )
        self.gen_ai_duration = h(n.GEN_AI_OPERATION_DURATION, "s", n.DURATION_BUCKETS, *genai)
        self.gen_ai_ttfc = h(n.GEN_AI_TIME_TO_FIRST_CHUNK, "s", n.DURATION_BUCKETS, *genai)
        self.compat = n.COMPAT_CLAUDE_CODE in compat
        self.cc_lines: CounterFamily | None = None
        self.cc_commits: CounterFamily | None = None
        self.cc_prs: CounterFamily | None = None
        self.cc_tokens: CounterFamily | None = None
        self.cc_cost: CounterFamily | None = None
        self.cc_edit_decision: CounterFamily | None = None
        if self.compat:
            self.cc_lines = c(n.CC_LINES_OF_CODE, n.UNIT_COUNT, "type")
            self.cc_commits = c(n.CC_COMMIT_COUNT, n.UNIT_COUNT)
            self.cc_prs = c(n.CC_PULL_REQUEST_COUNT, n.UNIT_COUNT)
            self.cc_tokens = c(n.CC_TOKEN_USAGE, n.UNIT_TOKENS, "model", "query_source", "type")
            self.cc_cost = c(n.CC_COST_USAGE, n.UNIT_USD, "model", "query_source")
            self.cc_edit_decision = c(
                n.CC_EDIT_DECISION, "{decision}", "tool_name", "decision", "source", "language"
            )
