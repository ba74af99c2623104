"""Every telemetry name tierline emits: metrics, attributes, events, spans.

This module is the contract behind the dashboards, the chart, the README and
DESIGN.md ("Telemetry names"). Change a name here only together with every
consumer. Metric names are in OTel dot form; Prometheus sees the usual
translation (dots -> underscores, counters get ``_total``, a ``USD`` unit
becomes ``_USD``, ``tokens`` becomes ``_tokens``, ``s`` becomes ``_seconds``).

Metric labels are bounded: configured model and provider names, tier and
profile names, closed enums. Session, request and prompt ids and paths go on
log records and spans only.
"""

from __future__ import annotations

from typing import Final

# --- instrumentation scope ---------------------------------------------------
SCOPE: Final = "tierline"
SERVICE_NAME_DEFAULT: Final = "tierline"

# --- tierline.* metrics (name, unit) --------------------------------------------
REQUESTS: Final = "tierline.requests"  # counter {tier, model, provider, outcome}
TOKEN_USAGE: Final = "tierline.token.usage"  # counter tokens {type, model, provider, tier}
COST_USAGE: Final = "tierline.cost.usage"  # counter USD {model, provider, tier}
COST_BASELINE: Final = "tierline.cost.baseline"  # counter USD {model, provider, tier}
COST_UNPRICED: Final = "tierline.cost.unpriced"  # counter {model, provider}
# Shadow mode: USD the router's choice would have cost for the same tokens.
COST_SHADOW: Final = "tierline.cost.shadow"  # counter USD {model, provider, tier}
ROUTE_DECISION: Final = "tierline.route.decision"  # counter {tier, method, profile}
ROUTE_OVERRIDE: Final = "tierline.route.override"  # counter {kind}
ROUTE_TAG: Final = "tierline.route.tag"  # counter {tag}
ROUTE_CONFIDENCE: Final = "tierline.route.confidence"  # histogram 1
FALLBACK_COUNT: Final = "tierline.fallback.count"  # counter {reason, from_provider, to_provider}
UPSTREAM_ATTEMPTS: Final = "tierline.upstream.attempts"  # histogram {attempt}
UPSTREAM_ERROR: Final = "tierline.upstream.error"  # counter {provider, error_type}
UPSTREAM_COOLDOWN: Final = "tierline.upstream.cooldown"  # counter {provider}: skipped, resting
PLAN_EXHAUSTED: Final = "tierline.plan.exhausted"  # counter {tier}
TELEMETRY_DROPPED: Final = "tierline.telemetry.dropped"  # counter {signal}
LINES_OF_CODE: Final = "tierline.lines_of_code.count"  # counter {type, language, model}
COMMIT_COUNT: Final = "tierline.commit.count"  # counter {model}
PULL_REQUEST_COUNT: Final = "tierline.pull_request.count"  # counter {model}
EDIT_DECISION: Final = "tierline.code_edit_tool.decision"  # counter {tool_name, decision, language}

# --- GenAI semantic-convention histograms ------------------------------------------
GEN_AI_TOKEN_USAGE: Final = "gen_ai.client.token.usage"
GEN_AI_OPERATION_DURATION: Final = "gen_ai.client.operation.duration"
GEN_AI_TIME_TO_FIRST_CHUNK: Final = "gen_ai.client.operation.time_to_first_chunk"

# Bucket boundaries the GenAI conventions specify (ExplicitBucketBoundaries);
# the three client duration histograms share the duration set.
TOKEN_BUCKETS: Final = (
    1.0, 4.0, 16.0, 64.0, 256.0, 1024.0, 4096.0, 16384.0, 65536.0, 262144.0,
    1048576.0, 4194304.0, 16777216.0, 67108864.0,
)  # fmt: skip
DURATION_BUCKETS: Final = (
    0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92,
)  # fmt: skip
CONFIDENCE_BUCKETS: Final = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)
ATTEMPT_BUCKETS: Final = (1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0)

# --- Claude Code compatibility (telemetry.compat = ["claude_code"]) ------------------
COMPAT_CLAUDE_CODE: Final = "claude_code"
CC_LINES_OF_CODE: Final = "claude_code.lines_of_code.count"  # {type=added|removed}
CC_COMMIT_COUNT: Final = "claude_code.commit.count"
CC_PULL_REQUEST_COUNT: Final = "claude_code.pull_request.count"
CC_TOKEN_USAGE: Final = "claude_code.token.usage"  # tokens {type, model, query_source}
CC_COST_USAGE: Final = "claude_code.cost.usage"  # USD {model, query_source}
CC_EDIT_DECISION: Final = "claude_code.code_edit_tool.decision"  # {tool_name, decision, ...}
# Claude Code's token types, keyed by ours.
CC_TOKEN_TYPES: Final = {
    "input": "input",
    "output": "output",
    "cache_read": "cacheRead",
    "cache_write": "cacheCreation",
}
CC_QUERY_MAIN: Final = "main"
CC_QUERY_SUBAGENT: Final = "subagent"

# --- units -------------------------------------------------------------------------
UNIT_REQUEST: Final = "{request}"
UNIT_TOKENS: Final = "tokens"
UNIT_TOKEN: Final = "{token}"
UNIT_USD: Final = "USD"
UNIT_SECONDS: Final = "s"
UNIT_COUNT: Final = "count"
UNIT_ONE: Final = "1"

# --- metric attribute keys ---------------------------------------------------------
A_TIER: Final = "tier"
A_MODEL: Final = "model"
A_PROVIDER: Final = "provider"
A_OUTCOME: Final = "outcome"
A_TYPE: Final = "type"
A_METHOD: Final = "method"
A_PROFILE: Final = "profile"
A_KIND: Final = "kind"
A_TAG: Final = "tag"
A_REASON: Final = "reason"
A_FROM_PROVIDER: Final = "from_provider"
A_TO_PROVIDER: Final = "to_provider"
A_ERROR_TYPE: Final = "error_type"
A_SIGNAL: Final = "signal"
A_LANGUAGE: Final = "language"
A_TOOL_NAME: Final = "tool_name"
A_DECISION: Final = "decision"
A_SOURCE: Final = "source"
A_QUERY_SOURCE: Final = "query_source"

# Closed label values.
OUTCOME_SUCCESS: Final = "success"
OUTCOME_ERROR: Final = "error"
OUTCOME_CANCELLED: Final = "cancelled"
TOKEN_TYPES: Final = ("input", "output", "cache_read", "cache_write")
LOC_ADDED: Final = "added"
LOC_REMOVED: Final = "removed"
DECISION_ACCEPT: Final = "accept"
DECISION_REJECT: Final = "reject"
SIGNAL_LOGS: Final = "logs"
SIGNAL_METRICS: Final = "metrics"
SIGNAL_TRACES: Final = "traces"
NONE_VALUE: Final = "none"  # label value when a request had no model / tier / profile
OTHER_VALUE: Final = "other"  # label value past a bounded label's distinct-value cap

# --- GenAI semconv attributes (metrics and spans) ------------------------------------
GEN_AI_OPERATION_NAME: Final = "gen_ai.operation.name"
GEN_AI_PROVIDER_NAME: Final = "gen_ai.provider.name"
GEN_AI_REQUEST_MODEL: Final = "gen_ai.request.model"
GEN_AI_RESPONSE_MODEL: Final = "gen_ai.response.model"
GEN_AI_TOKEN_TYPE: Final = "gen_ai.token.type"
GEN_AI_RESPONSE_FINISH_REASONS: Final = "gen_ai.response.finish_reasons"
GEN_AI_USAGE_INPUT_TOKENS: Final = "gen_ai.usage.input_tokens"  # includes cached tokens
GEN_AI_USAGE_OUTPUT_TOKENS: Final = "gen_ai.usage.output_tokens"
GEN_AI_USAGE_CACHE_READ: Final = "gen_ai.usage.cache_read.input_tokens"
GEN_AI_USAGE_CACHE_CREATION: Final = "gen_ai.usage.cache_creation.input_tokens"
GEN_AI_USAGE_REASONING: Final = "gen_ai.usage.reasoning.output_tokens"
GEN_AI_CONVERSATION_ID: Final = "gen_ai.conversation.id"
GEN_AI_REQUEST_STREAM: Final = "gen_ai.request.stream"
OPERATION_CHAT: Final = "chat"
ERROR_TYPE: Final = "error.type"
SERVER_ADDRESS: Final = "server.address"
SERVER_PORT: Final = "server.port"
HTTP_STATUS: Final = "http.response.status_code"
HTTP_METHOD: Final = "http.request.method"
HTTP_ROUTE: Final = "http.route"
URL_PATH: Final = "url.path"

# --- log record: event tierline.api_request -----------------------------------------
EVENT_API_REQUEST: Final = "tierline.api_request"
L_EVENT_NAME: Final = "event.name"
L_SESSION_ID: Final = "session.id"
L_REQUEST_ID: Final = "tierline.request.id"
L_PROTOCOL: Final = "tierline.protocol"
L_STREAM: Final = "tierline.stream"
L_HARNESS: Final = "tierline.harness"
L_AGENT: Final = "tierline.agent"  # primary | subagent
L_TIER: Final = "tierline.tier"
L_PROFILE: Final = "tierline.profile"
L_ROUTE_METHOD: Final = "tierline.route.method"
L_ROUTE_REASON: Final = "tierline.route.reason"
L_ROUTE_CONFIDENCE: Final = "tierline.route.confidence"
L_ROUTE_TAGS: Final = "tierline.route.tags"
L_MODEL_REQUESTED: Final = "tierline.model.requested"  # what the client sent
L_MODEL: Final = "tierline.model"  # configured model that answered
L_PROVIDER: Final = "tierline.provider"
L_ATTEMPTS: Final = "tierline.attempts"
L_FALLBACK_REASONS: Final = "tierline.fallback.reasons"  # ["model:reason", ...] per failed try
L_INPUT_TOKENS: Final = "tierline.usage.input_tokens"  # uncached input
L_OUTPUT_TOKENS: Final = "tierline.usage.output_tokens"
L_CACHE_READ_TOKENS: Final = "tierline.usage.cache_read_tokens"
L_CACHE_WRITE_TOKENS: Final = "tierline.usage.cache_write_tokens"  # 5-minute writes
L_CACHE_WRITE_1H_TOKENS: Final = "tierline.usage.cache_write_1h_tokens"
L_REASONING_TOKENS: Final = "tierline.usage.reasoning_tokens"
L_USAGE_ESTIMATED: Final = "tierline.usage.estimated"
L_COST_USD: Final = "tierline.cost.usd"  # absent when unpriced
L_COST_BASELINE_USD: Final = "tierline.cost.baseline_usd"
L_COST_SAVINGS_USD: Final = "tierline.cost.savings_usd"
L_COST_STATUS: Final = "tierline.cost.status"  # priced | estimated | unpriced
L_COST_SOURCE: Final = "tierline.cost.source"  # genai-prices | config | none
L_BASELINE_MODEL: Final = "tierline.baseline.model"
L_SHADOW_MODEL: Final = "tierline.shadow.model"  # shadow mode: the router's choice
L_COST_SHADOW_USD: Final = "tierline.cost.shadow_usd"  # the same usage priced on it
L_COST_SHADOW_SAVINGS_USD: Final = "tierline.cost.shadow_savings_usd"  # cost - shadow cost
L_DURATION_MS: Final = "tierline.duration_ms"
L_TTFT_MS: Final = "tierline.ttft_ms"
L_FINISH_REASON: Final = "tierline.finish_reason"
L_ERROR_TYPE: Final = "error.type"
L_STATUS: Final = "http.response.status_code"
L_PROMPT: Final = "tierline.prompt"  # only with telemetry.log_prompts
L_TOOL_CALLS: Final = "tierline.tool_calls"  # only with telemetry.log_prompts
# Claude Code's api_request keys, added to the record under compat "claude_code".
CC_LOG_KEYS: Final = (
    "model", "cost_usd", "duration_ms", "input_tokens", "output_tokens",
    "cache_read_tokens", "cache_creation_tokens", "request_id", "query_source",
)  # fmt: skip

# --- spans ----------------------------------------------------------------------------
SPAN_SERVER_PREFIX: Final = "tierline"  # SERVER span "{METHOD} {route}"
S_ROUTE_TIER: Final = "tierline.tier"
S_ROUTE_PROFILE: Final = "tierline.profile"
S_ROUTE_METHOD: Final = "tierline.route.method"
S_ROUTE_CONFIDENCE: Final = "tierline.route.confidence"
S_ROUTE_TAGS: Final = "tierline.route.tags"
S_ATTEMPT: Final = "tierline.attempt"
S_ATTEMPT_REASON: Final = "tierline.attempt.reason"
S_MODEL: Final = "tierline.model"
S_PROVIDER: Final = "tierline.provider"
S_REQUEST_ID: Final = "tierline.request.id"
