"""TelemetryRecorder: the observer that turns each Exchange into telemetry.

Per request, exactly once, after the response completed (stream end, error or
client disconnect): cost and baseline cost (ledger), one OTLP log record
``tierline.api_request`` when logs are exported, the ``tierline.*``, GenAI and
(under ``telemetry.compat``) ``claude_code.*`` metrics, and the demo tally.
Before dispatch, ``on_request`` settles tool results in the request body with
the SignalTracker and counts lines, edit decisions, commits and PRs; after the
response, ``on_exchange`` registers the new tool calls as pending.

Contract: never raises into the request path (each hook catches and logs),
never blocks (metric calls aggregate in memory; log records go into a bounded
queue drained by a thread, which also builds them). Metric labels are bounded; ids and content go on
the log record only, content only with ``telemetry.log_prompts``.
"""

from __future__ import annotations

import contextvars
import logging
import time
from collections.abc import Mapping
from typing import Any, cast

from opentelemetry._logs import SeverityNumber

from sidecar.config import Config, ModelConfig
from sidecar.exchange import Attempt, Exchange, Protocol
from sidecar.ledger.baseline import Baseline, Savings, resolve_model_ref
from sidecar.ledger.pricing import Pricer
from sidecar.routing.plan import RoutePlan
from sidecar.signals.events import Commit, EditDecision, LinesChanged, PullRequest, SignalEvent
from sidecar.signals.languages import display_language
from sidecar.signals.tracker import SignalTracker
from sidecar.telemetry import names
from sidecar.telemetry.instruments import BoundedLabel, Instruments
from sidecar.telemetry.logrecord import pending
from sidecar.telemetry.series import Labels, Shape, Shapes, shape_key
from sidecar.telemetry.setup import Telemetry
from sidecar.telemetry.summary import Tally

_log = logging.getLogger("tierline.telemetry")

# The prompt of the request being handled, for log_prompts only (per task).
_PROMPT: contextvars.ContextVar[str | None] = contextvars.ContextVar("tierline_prompt")
# The request being handled (protocol, body), to estimate usage a response did not report.
_REQUEST: contextvars.ContextVar[tuple[str, Mapping[str, Any]] | None] = contextvars.ContextVar(
    "tierline_request"
)

# Attempt reasons that are skips, not upstream errors.
_SKIPS = frozenset({"cooldown", "protocol_mismatch", "deadline", "config", "context_length"})
# Indexes of the four token counts (input, output, cache read, cache write) in a Shape.
_TOKEN_INDEXES = (0, 1, 2, 3)
# Claude Code's edit tool names, for the compat decision series.
_CC_TOOLS = {"edit": "Edit", "multiedit": "Edit", "write": "Write", "notebookedit": "NotebookEdit"}


def _skipped(attempt: Attempt) -> bool:
    """A candidate dispatch passed over without sending anything."""
    return attempt.status is None and attempt.reason in _SKIPS


def _exhausted(ex: Exchange, outcome: str) -> bool:
    """The plan ran out: candidates were tried or skipped and none answered.

    Not the client's own error: a request refused before routing (no attempts)
    or a provider's plain 400 passed back (last attempt ``bad_request``).
    """
    if ex.model is not None or not ex.attempts or outcome != names.OUTCOME_ERROR:
        return False
    return ex.attempts[-1].reason != "bad_request"


def _outcome(exchange: Exchange) -> str:
    if exchange.error_type is None:
        return names.OUTCOME_SUCCESS
    kind = exchange.error_type.lower()
    if "disconnect" in kind or "cancel" in kind or "client_closed" in kind:
        return names.OUTCOME_CANCELLED
    return names.OUTCOME_ERROR


class TelemetryRecorder:
    """One per app; owns the SignalTracker, the pricer, the baseline and the tally."""

    def __init__(
        self,
        config: Config,
        telemetry: Telemetry,
        baseline_model: ModelConfig | None,
        tracker: SignalTracker | None = None,
    ) -> None:
        self._config = config
        self._telemetry = telemetry
        self._pricer = Pricer(config.providers)
        self.baseline = Baseline(baseline_model, self._pricer)
        self.tracker = tracker or SignalTracker()
        self.tally = Tally()
        self._m = Instruments(telemetry.meter, telemetry.producer, telemetry.settings.compat)
        self._logs = telemetry.logs_enabled
        self._log_prompts = telemetry.settings.log_prompts
        self._model = BoundedLabel(256)
        self._provider = BoundedLabel(64)
        self._tier = BoundedLabel(32)
        self._profile = BoundedLabel(32)
        self._method = BoundedLabel(32)
        self._tag = BoundedLabel(64)
        self._reason = BoundedLabel(32)
        self._language = BoundedLabel(128)
        self._tool = BoundedLabel(64)
        self._shapes = Shapes(
            Labels(
                self._model, self._provider, self._tier, self._profile, self._method,
                self._tag, self._reason,
            )
        )  # fmt: skip

    # -- observer hooks ------------------------------------------------------------

    def on_request(
        self,
        protocol: str,
        body: Mapping[str, Any],
        headers: Mapping[str, str],
        plan: RoutePlan,
    ) -> None:
        """Settle tool results in this request body; count their signals."""
        try:
            proto = cast(Protocol, protocol)
            _REQUEST.set((protocol, body))
            if self._log_prompts:
                _PROMPT.set(_last_user_text(proto, body))
            self.count_signals(self.tracker.settle(proto, body))
        except Exception:  # noqa: BLE001 - telemetry never fails a request
            _log.exception("signals settle failed")

    def on_exchange(self, exchange: Exchange, plan: RoutePlan | None) -> None:
        """Record one completed request (called exactly once per request).

        ``plan`` is None when the request failed before routing (invalid body).
        """
        try:
            if exchange.tool_calls:
                self.tracker.propose(exchange.tool_calls, exchange.model or "unknown")
            routed = plan is not None
            if plan is None:
                plan = RoutePlan(exchange.requested_model, (), method=names.NONE_VALUE)
            exchange = _with_usage_estimate(exchange)
            savings = self._savings(exchange, plan)
            self._metrics(exchange, plan, savings, routed)
            self._update_tally(exchange, plan, savings)
            if self._logs:
                self._emit(exchange, plan, savings)
        except Exception:  # noqa: BLE001
            _log.exception("telemetry record failed")
        finally:  # a keep-alive connection may run its next request in this context
            _PROMPT.set(None)
            _REQUEST.set(None)

    # -- cost ------------------------------------------------------------------------

    def model_config(self, exchange: Exchange, plan: RoutePlan) -> ModelConfig | None:
        if exchange.model is None:
            return None
        for candidate in plan.candidates:
            if candidate.name == exchange.model:
                return candidate
        found = self._config.models.get(exchange.model)
        if found is not None:
            return found
        upstream = exchange.upstream_model or exchange.model
        return ModelConfig(exchange.model, exchange.provider or "", upstream)

    def _savings(self, exchange: Exchange, plan: RoutePlan) -> Savings | None:
        model = self.model_config(exchange, plan)
        if model is None:
            return None
        cost = self._pricer.price(model, exchange.usage)
        savings = self.baseline.savings(cost, exchange.usage)
        if plan.shadow_model and exchange.model is not None:  # routing.mode = "shadow"
            chosen = self._config.models.get(plan.shadow_model) or resolve_model_ref(
                self._config, plan.shadow_model
            )
            shadow = self._pricer.price(chosen, exchange.usage)
            savings = savings._replace(shadow=shadow, shadow_model=plan.shadow_model)
        return savings

    # -- metrics -------------------------------------------------------------------

    def _metrics(
        self, ex: Exchange, plan: RoutePlan, savings: Savings | None, routed: bool
    ) -> None:
        m = self._m
        outcome = _outcome(ex)
        shape = self._shapes.get(shape_key(ex, plan, routed, outcome))
        m.requests.add_to(shape.requests, 1)
        usage = ex.usage
        counts = (
            usage.input_tokens,
            usage.output_tokens,
            usage.cache_read_tokens,
            usage.cache_write_tokens + usage.cache_write_1h_tokens,
        )
        tokens, keys = m.tokens, shape.tokens
        for i in _TOKEN_INDEXES:  # no zip(strict=True): its keyword parsing costs per call
            if counts[i]:
                tokens.add_to(keys[i], counts[i])
        self._cost_metrics(ex, shape, savings)
        if shape.route_decision is not None:
            self._route_metrics(shape)
        sent = self._attempt_metrics(ex, shape, outcome)
        with m.histogram_lock:  # one acquisition for all of the request's values
            self._histograms(ex, plan, shape, sent)
        if m.compat:
            self._compat_usage(shape, counts, savings)

    def _cost_metrics(self, ex: Exchange, shape: Shape, savings: Savings | None) -> None:
        if savings is None:
            return
        if savings.cost.usd is not None:
            self._m.cost.add_to(shape.base, savings.cost.usd)
        elif ex.usage.prompt_tokens or ex.usage.output_tokens:
            self._m.unpriced.add_to(shape.unpriced, 1)
        if savings.baseline.usd is not None:
            self._m.baseline.add_to(shape.base, savings.baseline.usd)
        if savings.shadow is not None and savings.shadow.usd is not None:
            self._m.shadow.add_to(shape.base, savings.shadow.usd)

    def _route_metrics(self, shape: Shape) -> None:
        m = self._m
        assert shape.route_decision is not None
        m.route_decision.add_to(shape.route_decision, 1)
        if shape.route_override is not None:
            m.route_override.add_to(shape.route_override, 1)
        for tag in shape.route_tags:
            m.route_tag.add_to(tag, 1)

    def _attempt_metrics(self, ex: Exchange, shape: Shape, outcome: str) -> int:
        """Counts fallbacks and an exhausted plan; returns the requests sent upstream
        (0: no attempt, nothing to record)."""
        attempts = ex.attempts
        if not attempts:
            return 0
        if _exhausted(ex, outcome):
            self._m.exhausted.add_to(shape.exhausted, 1)
        if len(attempts) == 1 and not attempts[0].reason:  # the common case: one clean try
            return 1  # no reason: sent, not skipped
        self._fallbacks(attempts)
        return sum(1 for a in attempts if not _skipped(a))  # skipped ones are not attempts

    def _fallbacks(self, attempts: tuple[Attempt, ...]) -> None:
        m = self._m
        for i, attempt in enumerate(attempts):
            provider = self._provider(attempt.provider)
            if attempt.reason == "cooldown" and attempt.status is None:
                m.cooldown.add(1, provider)
            elif attempt.reason and not _skipped(attempt):
                m.upstream_error.add(1, provider, self._reason(attempt.reason))
            nxt = attempts[i + 1] if i + 1 < len(attempts) else None
            if attempt.reason and nxt is not None and nxt.model != attempt.model:
                reason, to = self._reason(attempt.reason), self._provider(nxt.provider)
                m.fallback.add(1, reason, provider, to)

    def _histograms(self, ex: Exchange, plan: RoutePlan, shape: Shape, sent: int) -> None:
        """The request's histogram values; the caller holds ``histogram_lock``."""
        m = self._m
        if shape.route_decision is not None:
            m.route_confidence.add((), plan.confidence)
        if ex.attempts:
            m.attempts.add((), sent)
        m.gen_ai_duration.add(shape.gen_ai, ex.duration_s)
        if ex.stream and ex.ttft_s is not None:
            m.gen_ai_ttfc.add(shape.gen_ai, ex.ttft_s)
        usage = ex.usage
        if ex.model is not None and (usage.prompt_tokens or usage.output_tokens):
            m.gen_ai_tokens.add(shape.gen_ai_tokens[0], usage.prompt_tokens)
            m.gen_ai_tokens.add(shape.gen_ai_tokens[1], usage.output_tokens)

    def _compat_usage(
        self, shape: Shape, counts: tuple[int, int, int, int], savings: Savings | None
    ) -> None:
        m = self._m
        assert m.cc_tokens is not None and m.cc_cost is not None
        for i in _TOKEN_INDEXES:
            if counts[i]:
                m.cc_tokens.add_to(shape.cc_tokens[i], counts[i])
        if savings is not None and savings.cost.usd is not None:
            m.cc_cost.add_to(shape.cc_base, savings.cost.usd)

    # -- signals -------------------------------------------------------------------

    def count_signals(self, events: list[SignalEvent]) -> None:
        """Metrics and tally for settled signal events."""
        m, t = self._m, self.tally
        for event in events:
            if isinstance(event, LinesChanged):
                lang, model = self._language(event.language), self._model(event.model)
                for kind, n in (("added", event.added), ("removed", event.removed)):
                    if n:
                        m.lines.add(n, kind, lang, model)
                        if m.cc_lines is not None:
                            m.cc_lines.add(n, kind)
                t.lines_added += event.added
                t.lines_removed += event.removed
            elif isinstance(event, EditDecision):
                self._count_decision(event)
            elif isinstance(event, Commit):
                m.commits.add(1, self._model(event.model))
                if m.cc_commits is not None:
                    m.cc_commits.add(1)
                t.commits += 1
            elif isinstance(event, PullRequest):
                m.prs.add(1, self._model(event.model))
                if m.cc_prs is not None:
                    m.cc_prs.add(1)
                t.pull_requests += 1

    def _count_decision(self, event: EditDecision) -> None:
        m = self._m
        lang = self._language(event.language)
        m.edit_decision.add(1, self._tool(event.tool_name), event.decision, lang)
        if m.cc_edit_decision is not None:
            tool = _CC_TOOLS.get(event.tool_name.lower(), "Edit")
            source = "user_reject" if event.decision == "reject" else "unknown"
            language = display_language(event.language)
            m.cc_edit_decision.add(1, tool, event.decision, source, language)
        if event.decision == "accept":
            self.tally.edits_accepted += 1
        else:
            self.tally.edits_rejected += 1

    # -- tally and log record ----------------------------------------------------------

    def _update_tally(self, ex: Exchange, plan: RoutePlan, savings: Savings | None) -> None:
        t = self.tally
        if ex.model is None:
            t.failed += 1
            return
        t.requests[(plan.tier or names.NONE_VALUE, ex.model)] += 1
        if savings is None:
            return
        if savings.cost.usd is None:
            t.unpriced += 1
        elif savings.baseline.usd is not None:
            # Only requests priced on both sides enter the savings figure.
            t.cost_usd += savings.cost.usd
            t.baseline_usd += savings.baseline.usd
        if savings.cost.estimated:
            t.estimated += 1

    def _emit(self, ex: Exchange, plan: RoutePlan, savings: Savings | None) -> None:
        """Queue the request's log record; the exporter thread builds it (``logrecord``)."""
        logs = self._telemetry.logs
        assert logs is not None
        failed = ex.error_type is not None and _outcome(ex) == names.OUTCOME_ERROR
        severity = SeverityNumber.ERROR if failed else SeverityNumber.INFO
        prompt = _PROMPT.get(None) if self._log_prompts else None
        logs.emit(pending(ex, plan, savings, severity, time.time_ns(), prompt, self._log_prompts))


def _with_usage_estimate(ex: Exchange) -> Exchange:
    """The exchange, with input estimated when a model answered but no prompt count came.

    The tap already estimated output from what it received (text, reasoning and tool
    arguments, also for an aborted stream); input is estimated from the request body,
    output from the tool calls when the tap saw nothing. ``Usage.estimated`` flags it,
    so the cost is "estimated".
    """
    usage = ex.usage
    if ex.model is None or usage.prompt_tokens:
        return ex
    request = _REQUEST.get(None)
    if request is None:
        return ex
    from sidecar.protocols.tokens import estimate_tokens, text_tokens

    protocol, body = request
    output = usage.output_tokens or sum(
        text_tokens(call.name + call.arguments) for call in ex.tool_calls
    )
    estimate = usage._replace(
        input_tokens=estimate_tokens(protocol, body), output_tokens=output, estimated=True
    )
    return ex._replace(usage=estimate)


def _last_user_text(protocol: Protocol, body: Mapping[str, Any]) -> str | None:
    from sidecar.protocols.conversation import Conversation

    text = Conversation.from_body(protocol, body).last_user_text
    return text[:8192] if text else None
