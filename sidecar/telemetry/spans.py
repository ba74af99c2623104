"""Attributes of the CLIENT span dispatch opens per upstream attempt (``chat {model}``).

Set at start (sampling-relevant, per the GenAI conventions): operation,
provider, request model, server address and port, plus the route (tier,
profile, method, confidence, tags) and the request id. Set at end: usage,
finish reason and the response model. ``inject_trace`` adds a W3C
``traceparent`` for the attempt's span to outgoing headers; dispatch calls it
only with ``telemetry.propagate_trace`` on. No aiohttp; no content.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any
from urllib.parse import urlsplit

from opentelemetry import trace
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from opentelemetry.util.types import AttributeValue

from sidecar.config import ModelConfig, ProviderConfig
from sidecar.routing.plan import RoutePlan
from sidecar.telemetry import names


def client_span_attributes(
    plan: RoutePlan, model: ModelConfig, provider: ProviderConfig, url: str, request_id: str
) -> dict[str, AttributeValue]:
    """Start attributes of one attempt's CLIENT span."""
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    attrs: dict[str, AttributeValue] = {
        names.GEN_AI_OPERATION_NAME: names.OPERATION_CHAT,
        names.GEN_AI_PROVIDER_NAME: provider.name,
        names.GEN_AI_REQUEST_MODEL: model.upstream,
        names.SERVER_ADDRESS: parts.hostname or "",
        names.SERVER_PORT: port,
        names.S_MODEL: model.name,
        names.S_PROVIDER: provider.name,
        names.S_REQUEST_ID: request_id,
        names.S_ROUTE_METHOD: plan.method,
        names.S_ROUTE_CONFIDENCE: plan.confidence,
    }
    if plan.tier:
        attrs[names.S_ROUTE_TIER] = plan.tier
    if plan.profile:
        attrs[names.S_ROUTE_PROFILE] = plan.profile
    if plan.tags:
        attrs[names.S_ROUTE_TAGS] = list(plan.tags)
    if plan.session_id:
        attrs[names.L_SESSION_ID] = plan.session_id
    return attrs


def finish_client_span(span: trace.Span, call: Any, model: ModelConfig) -> None:
    """End attributes from the call, when this attempt is the one that answered."""
    if call.model is not model and getattr(call.model, "name", None) != model.name:
        return
    usage = call.usage
    attrs: dict[str, AttributeValue] = {
        names.GEN_AI_USAGE_INPUT_TOKENS: usage.prompt_tokens,
        names.GEN_AI_USAGE_OUTPUT_TOKENS: usage.output_tokens,
        names.GEN_AI_USAGE_CACHE_READ: usage.cache_read_tokens,
        names.GEN_AI_USAGE_CACHE_CREATION: usage.cache_write_tokens + usage.cache_write_1h_tokens,
    }
    if usage.reasoning_tokens:
        attrs[names.GEN_AI_USAGE_REASONING] = usage.reasoning_tokens
    if call.finish_reason:
        attrs[names.GEN_AI_RESPONSE_FINISH_REASONS] = [call.finish_reason]
    span.set_attributes(attrs)  # one lock and one pass instead of one per attribute


def inject_trace(headers: MutableMapping[str, str], span: trace.Span) -> None:
    """Add ``traceparent`` (and ``tracestate``) naming ``span`` to ``headers``."""
    TraceContextTextMapPropagator().inject(headers, context=trace.set_span_in_context(span))
