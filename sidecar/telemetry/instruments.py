"""The metric instruments one recorder writes, created once per MeterProvider.

Every instrument feeds both readers (OTLP push and /metrics). Label values are
bounded by ``BoundedLabel``: past its cap a new value is reported as "other",
so a client sending random tags or model names cannot grow the series set.
"""

from __future__ import annotations

from opentelemetry.metrics import Counter, Histogram, Meter

from sidecar.telemetry import names


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


class Instruments:
    """tierline.*, GenAI and (when asked) claude_code.* instruments."""

    def __init__(self, meter: Meter, compat: tuple[str, ...]) -> None:
        c, h = meter.create_counter, meter.create_histogram
        self.requests = c(names.REQUESTS, unit=names.UNIT_REQUEST, description="Requests")
        self.tokens = c(names.TOKEN_USAGE, unit=names.UNIT_TOKENS, description="Tokens by type")
        self.cost = c(names.COST_USAGE, unit=names.UNIT_USD, description="Cost in USD")
        self.baseline = c(
            names.COST_BASELINE, unit=names.UNIT_USD, description="Baseline model cost in USD"
        )
        self.unpriced = c(names.COST_UNPRICED, unit=names.UNIT_REQUEST, description="Unpriced")
        self.route_decision = c(names.ROUTE_DECISION, unit="{decision}")
        self.route_override = c(names.ROUTE_OVERRIDE, unit="{override}")
        self.route_tag = c(names.ROUTE_TAG, unit="{tag}")
        self.route_confidence = h(names.ROUTE_CONFIDENCE, unit=names.UNIT_ONE)
        self.fallback = c(names.FALLBACK_COUNT, unit="{fallback}")
        self.attempts = h(names.UPSTREAM_ATTEMPTS, unit="{attempt}")
        self.upstream_error = c(names.UPSTREAM_ERROR, unit="{error}")
        self.cooldown = c(names.UPSTREAM_COOLDOWN, unit="{skip}")
        self.exhausted = c(names.PLAN_EXHAUSTED, unit=names.UNIT_REQUEST)
        self.lines = c(names.LINES_OF_CODE, unit=names.UNIT_COUNT)
        self.commits = c(names.COMMIT_COUNT, unit=names.UNIT_COUNT)
        self.prs = c(names.PULL_REQUEST_COUNT, unit=names.UNIT_COUNT)
        self.edit_decision = c(names.EDIT_DECISION, unit="{decision}")
        self.gen_ai_tokens: Histogram = h(names.GEN_AI_TOKEN_USAGE, unit=names.UNIT_TOKEN)
        self.gen_ai_duration: Histogram = h(names.GEN_AI_OPERATION_DURATION, unit="s")
        self.gen_ai_ttfc: Histogram = h(names.GEN_AI_TIME_TO_FIRST_CHUNK, unit="s")
        self.compat = names.COMPAT_CLAUDE_CODE in compat
        self.cc_lines: Counter | None = None
        self.cc_commits: Counter | None = None
        self.cc_prs: Counter | None = None
        self.cc_tokens: Counter | None = None
        self.cc_cost: Counter | None = None
        self.cc_edit_decision: Counter | None = None
        if self.compat:
            self.cc_lines = c(names.CC_LINES_OF_CODE, unit=names.UNIT_COUNT)
            self.cc_commits = c(names.CC_COMMIT_COUNT, unit=names.UNIT_COUNT)
            self.cc_prs = c(names.CC_PULL_REQUEST_COUNT, unit=names.UNIT_COUNT)
            self.cc_tokens = c(names.CC_TOKEN_USAGE, unit=names.UNIT_TOKENS)
            self.cc_cost = c(names.CC_COST_USAGE, unit=names.UNIT_USD)
            self.cc_edit_decision = c(names.CC_EDIT_DECISION, unit="{decision}")
