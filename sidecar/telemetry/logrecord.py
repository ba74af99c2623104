"""The ``tierline.api_request`` log record: its attributes, and the record deferred.

Ids (session, request) and the route's reason live here, never on metrics.
Prompt and tool content are added only with ``telemetry.log_prompts``.

The recorder does not build the record on the event loop: it queues a
``PendingLog`` (the frozen exchange, plan and savings, the trace context and
the time) and the exporter thread turns it into an SDK ``ReadableLogRecord``
with ``readable``, the same record the SDK's logger would have produced.
"""

from __future__ import annotations

import copy
from typing import NamedTuple, TypeVar

from opentelemetry import trace
from opentelemetry._logs import LogRecord, SeverityNumber
from opentelemetry.context import Context
from opentelemetry.sdk._logs import LogRecordLimits, ReadableLogRecord
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.util.instrumentation import InstrumentationScope
from opentelemetry.trace import NonRecordingSpan, SpanContext
from opentelemetry.util.types import AnyValue

from sidecar.exchange import Exchange
from sidecar.ledger.baseline import Savings
from sidecar.routing.plan import RoutePlan
from sidecar.telemetry import names

T = TypeVar("T")


class PendingLog(NamedTuple):
    """One record, deferred: everything it is built from, captured at emit time.

    Immutable like a frozen dataclass; a NamedTuple because one is made per request on
    the event loop and a frozen dataclass's ``__init__`` costs 5x more."""

    exchange: Exchange
    plan: RoutePlan
    savings: Savings | None
    severity: SeverityNumber
    observed_ns: int
    span: SpanContext  # the request's trace context (invalid when not traced)
    prompt: str | None = None  # log_prompts only


def pending(
    ex: Exchange,
    plan: RoutePlan,
    savings: Savings | None,
    severity: SeverityNumber,
    observed_ns: int,
    prompt: str | None,
    keep_content: bool,
) -> PendingLog:
    """A ``PendingLog`` that holds no more than its record will carry: a rewritten
    request body (``plan.body``) and, without ``keep_content``, tool call arguments
    are dropped first, so a queue of pending records stays as small as the records."""
    if plan.body is not None:
        plan = _without(plan, "body", None)
    if ex.tool_calls and not keep_content:
        ex = ex._replace(tool_calls=())
    span = trace.get_current_span().get_span_context()
    return PendingLog(ex, plan, savings, severity, observed_ns, span, prompt)


def _without(frozen: T, name: str, value: object) -> T:
    """A shallow copy of a frozen dataclass with one field replaced: what
    ``dataclasses.replace`` gives without re-running ``__init__`` (about 5x cheaper;
    the copied values were valid already)."""
    clone = copy.copy(frozen)
    object.__setattr__(clone, name, value)
    return clone


def readable(
    p: PendingLog,
    resource: Resource,
    scope: InstrumentationScope,
    limits: LogRecordLimits,
    compat: bool,
) -> ReadableLogRecord:
    """The SDK record for a pending one (exporter thread); attributes are trusted
    (built here, flat and typed), so the SDK's re-validation is not run."""
    attrs = log_attributes(p.exchange, p.plan, p.savings, compat)
    attrs.update(content_attributes(p))
    context = trace.set_span_in_context(NonRecordingSpan(p.span), Context())
    record = LogRecord(
        observed_timestamp=p.observed_ns,
        context=context,
        severity_number=p.severity,
        severity_text=p.severity.name,
        attributes=attrs,
        event_name=names.EVENT_API_REQUEST,
    )
    return ReadableLogRecord(record, resource, scope, limits)


Pairs = tuple[tuple[str, AnyValue], ...]


def log_attributes(
    ex: Exchange, plan: RoutePlan, savings: Savings | None, compat: bool = False
) -> dict[str, AnyValue]:
    """Every attribute of one ``tierline.api_request`` record (no content; arrays as lists);
    ``compat`` adds Claude Code's ``api_request`` attribute names."""
    attrs: dict[str, AnyValue] = {
        k: list(v) if isinstance(v, tuple) else v
        for k, v in fixed_attributes(ex, plan, savings, compat)
    }
    attrs.update(varying_attributes(ex, savings, compat))
    return attrs


def fixed_attributes(ex: Exchange, plan: RoutePlan, savings: Savings | None, compat: bool) -> Pairs:
    """The attributes requests of one kind share (route, models, outcome, cost status), as
    hashable pairs (arrays as tuples): the direct encoder caches their encoding by value.
    Disjoint from ``varying_attributes``."""
    pairs: list[tuple[str, AnyValue]] = [
        (names.L_EVENT_NAME, names.EVENT_API_REQUEST),
        (names.L_PROTOCOL, ex.client_protocol),
        (names.L_STREAM, ex.stream),
        (names.L_HARNESS, ex.harness),
        (names.L_AGENT, "subagent" if ex.subagent else "primary"),
        (names.L_TIER, plan.tier or names.NONE_VALUE),
        (names.L_PROFILE, plan.profile or names.NONE_VALUE),
        (names.L_ROUTE_METHOD, plan.method),
        (names.L_ROUTE_REASON, plan.reason),
        (names.L_ROUTE_CONFIDENCE, float(plan.confidence)),
        (names.L_ROUTE_TAGS, tuple(plan.tags)),
        (names.L_MODEL_REQUESTED, ex.requested_model),
        (names.L_MODEL, ex.model or names.NONE_VALUE),
        (names.L_PROVIDER, ex.provider or names.NONE_VALUE),
        (names.L_ATTEMPTS, len(ex.attempts)),
        (names.L_FALLBACK_REASONS, tuple(f"{a.model}:{a.reason}" for a in ex.attempts if a.reason)),
        (names.L_STATUS, ex.status),
    ]
    if ex.upstream_model:
        pairs.append((names.GEN_AI_RESPONSE_MODEL, ex.upstream_model))
    if ex.finish_reason:
        pairs.append((names.L_FINISH_REASON, ex.finish_reason))
    if ex.error_type:
        pairs.append((names.L_ERROR_TYPE, ex.error_type))
    if savings is None:
        pairs += [(names.L_COST_STATUS, "unpriced"), (names.L_COST_SOURCE, "none")]
    else:
        pairs += [
            (names.L_COST_STATUS, savings.cost.status),
            (names.L_COST_SOURCE, savings.cost.source),
        ]
        if savings.baseline_model:
            pairs.append((names.L_BASELINE_MODEL, savings.baseline_model))
        if savings.shadow_model and savings.shadow is not None:
            pairs.append((names.L_SHADOW_MODEL, savings.shadow_model))
    if compat:
        pairs.append(("model", ex.upstream_model or ex.model or names.NONE_VALUE))
        source = names.CC_QUERY_SUBAGENT if ex.subagent else names.CC_QUERY_MAIN
        pairs.append(("query_source", source))
    return tuple(pairs)


def varying_attributes(ex: Exchange, savings: Savings | None, compat: bool) -> dict[str, AnyValue]:
    """The attributes that differ request by request (ids, tokens, times, amounts)."""
    u = ex.usage
    duration_ms = round(ex.duration_s * 1000.0, 3)
    attrs: dict[str, AnyValue] = {
        names.L_SESSION_ID: ex.session_id,
        names.L_REQUEST_ID: ex.request_id,
        names.GEN_AI_USAGE_INPUT_TOKENS: u.prompt_tokens,
        names.GEN_AI_USAGE_OUTPUT_TOKENS: u.output_tokens,
        names.L_INPUT_TOKENS: u.input_tokens,
        names.L_OUTPUT_TOKENS: u.output_tokens,
        names.L_CACHE_READ_TOKENS: u.cache_read_tokens,
        names.L_CACHE_WRITE_TOKENS: u.cache_write_tokens,
        names.L_CACHE_WRITE_1H_TOKENS: u.cache_write_1h_tokens,
        names.L_REASONING_TOKENS: u.reasoning_tokens,
        names.L_USAGE_ESTIMATED: u.estimated,
        names.L_DURATION_MS: duration_ms,
    }
    if ex.ttft_s is not None:
        attrs[names.L_TTFT_MS] = round(ex.ttft_s * 1000.0, 3)
    if savings is not None:
        _amounts(attrs, savings)
    if compat:
        attrs.update(
            duration_ms=duration_ms,
            input_tokens=u.input_tokens,
            output_tokens=u.output_tokens,
            cache_read_tokens=u.cache_read_tokens,
            cache_creation_tokens=u.cache_write_tokens + u.cache_write_1h_tokens,
            request_id=ex.request_id,
        )
        if savings is not None and savings.cost.usd is not None:
            attrs["cost_usd"] = savings.cost.usd
    return attrs


def _amounts(attrs: dict[str, AnyValue], savings: Savings) -> None:
    if savings.cost.usd is not None:
        attrs[names.L_COST_USD] = savings.cost.usd
    if savings.baseline.usd is not None:
        attrs[names.L_COST_BASELINE_USD] = savings.baseline.usd
    if savings.usd is not None:
        attrs[names.L_COST_SAVINGS_USD] = savings.usd
    if savings.shadow_model and savings.shadow is not None:
        if savings.shadow.usd is not None:
            attrs[names.L_COST_SHADOW_USD] = savings.shadow.usd
        if savings.shadow_usd is not None:
            attrs[names.L_COST_SHADOW_SAVINGS_USD] = savings.shadow_usd


def content_attributes(p: PendingLog) -> dict[str, AnyValue]:
    """Prompt and tool calls (present only with ``telemetry.log_prompts``)."""
    attrs: dict[str, AnyValue] = {}
    if p.prompt:
        attrs[names.L_PROMPT] = p.prompt
    if p.exchange.tool_calls:  # kept only with log_prompts
        calls = p.exchange.tool_calls
        attrs[names.L_TOOL_CALLS] = [f"{c.name} {c.arguments}" for c in calls]
    return attrs
