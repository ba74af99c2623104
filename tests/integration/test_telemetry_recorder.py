"""TelemetryRecorder -> real OTLP/HTTP exporters -> the fake OTLP receiver.

Drives the recorder with Exchanges as dispatch hands them over and asserts
the exact log record and data points the receiver decoded; /metrics text from
the app-owned registry; temporality; dropped records with a down collector.
"""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import AsyncIterator
from typing import Any

import orjson
import pytest
from prometheus_client import CollectorRegistry, generate_latest

from sidecar.config import Config, ModelConfig, Prices, ProviderConfig, TelemetryConfig
from sidecar.exchange import Attempt, Exchange, ToolCall, Usage
from sidecar.routing.plan import RoutePlan
from sidecar.telemetry import names
from sidecar.telemetry.record import TelemetryRecorder
from sidecar.telemetry.settings import resolve_settings
from sidecar.telemetry.setup import Telemetry, build_telemetry
from tests.fakes.otlp import RECEIVER, Receiver, build_otlp_app

FAKE = ProviderConfig("fake", "openai", "http://127.0.0.1:9/v1")
BACKUP = ProviderConfig("backup", "anthropic", "http://127.0.0.1:9/anthropic")
CHEAP = ModelConfig("cheap", "fake", "fake-cheap", prices=Prices(input=1.0, output=2.0,
                    cache_read=0.1, cache_write=1.25))  # fmt: skip
STRONG = ModelConfig("strong", "backup", "fake-strong", prices=Prices(input=10.0, output=40.0))
CONFIG = Config(
    providers={"fake": FAKE, "backup": BACKUP}, models={"cheap": CHEAP, "strong": STRONG}
)
PLAN = RoutePlan(
    requested_model="claude-sonnet-4-5",
    candidates=(STRONG, CHEAP),
    tier="coding",
    profile="coder",
    method="heuristic",
    confidence=0.82,
    tags=("auth",),
    reason="implementation request",
)
USAGE = Usage(input_tokens=1000, output_tokens=200, cache_read_tokens=3000, cache_write_tokens=500)


def exchange(**overrides: Any) -> Exchange:
    values: dict[str, Any] = dict(
        request_id="req-1",
        session_id="sess-1",
        client_protocol="anthropic",
        stream=True,
        requested_model="claude-sonnet-4-5",
        model="cheap",
        provider="fake",
        upstream_model="fake-cheap",
        attempts=(
            Attempt("strong", "backup", 429, "rate_limited", "slow down", 0.01),
            Attempt("cheap", "fake", 200, "", "", 0.2),
        ),
        usage=USAGE,
        finish_reason="end_turn",
        duration_s=0.5,
        ttft_s=0.05,
        harness="claude_code",
    )
    values.update(overrides)
    return Exchange(**values)


@pytest.fixture
async def receiver(aiohttp_server: Any) -> AsyncIterator[tuple[Receiver, str]]:
    app = build_otlp_app()
    server = await aiohttp_server(app)
    yield app[RECEIVER], str(server.make_url("")).rstrip("/")


def telemetry_for(url: str, env: dict[str, str] | None = None, **cfg: Any) -> Telemetry:
    config = TelemetryConfig(endpoint=url, export_interval_ms=3_600_000, **cfg)
    return build_telemetry(resolve_settings(config, env or {}), CollectorRegistry())


async def flush(telemetry: Telemetry) -> None:
    await asyncio.to_thread(telemetry.flush)


async def test_log_record_per_exchange_with_every_attribute(receiver: Any) -> None:
    rx, url = receiver
    telemetry = telemetry_for(url)
    recorder = TelemetryRecorder(CONFIG, telemetry, STRONG)
    recorder.on_exchange(exchange(), PLAN)
    await flush(telemetry)
    await rx.wait_for(lambda: len(rx.log_records()) == 1)
    record = rx.log_records()[0]
    assert record["event_name"] == "tierline.api_request"
    assert record["resource"]["service.name"] == "tierline"
    a = record["attributes"]
    cost = (1000 * 1.0 + 200 * 2.0 + 3000 * 0.1 + 500 * 1.25) / 1e6
    baseline = (1000 * 10 + 200 * 40 + 3000 * 10 + 500 * 10) / 1e6  # no cache prices: input's
    expected = {
        "event.name": "tierline.api_request",
        "session.id": "sess-1",
        "tierline.request.id": "req-1",
        "tierline.protocol": "anthropic",
        "tierline.stream": True,
        "tierline.harness": "claude_code",
        "tierline.agent": "primary",
        "tierline.tier": "coding",
        "tierline.profile": "coder",
        "tierline.route.method": "heuristic",
        "tierline.route.reason": "implementation request",
        "tierline.route.tags": ["auth"],
        "tierline.model.requested": "claude-sonnet-4-5",
        "tierline.model": "cheap",
        "tierline.provider": "fake",
        "gen_ai.response.model": "fake-cheap",
        "tierline.attempts": 2,
        "tierline.fallback.reasons": ["strong:rate_limited"],
        "gen_ai.usage.input_tokens": 4500,
        "gen_ai.usage.output_tokens": 200,
        "tierline.usage.input_tokens": 1000,
        "tierline.usage.output_tokens": 200,
        "tierline.usage.cache_read_tokens": 3000,
        "tierline.usage.cache_write_tokens": 500,
        "tierline.usage.cache_write_1h_tokens": 0,
        "tierline.usage.reasoning_tokens": 0,
        "tierline.usage.estimated": False,
        "tierline.cost.status": "priced",
        "tierline.cost.source": "config",
        "tierline.baseline.model": "strong",
        "tierline.duration_ms": 500.0,
        "tierline.ttft_ms": 50.0,
        "tierline.finish_reason": "end_turn",
        "http.response.status_code": 200,
    }
    for key, value in expected.items():
        assert a[key] == value, key
    assert a["tierline.route.confidence"] == pytest.approx(0.82)
    assert a["tierline.cost.usd"] == pytest.approx(cost)
    assert a["tierline.cost.baseline_usd"] == pytest.approx(baseline)
    assert a["tierline.cost.savings_usd"] == pytest.approx(baseline - cost)
    assert "error.type" not in a and "tierline.prompt" not in a
    await asyncio.to_thread(telemetry.shutdown)


async def test_failed_request_gets_a_record_and_exhausted_metric(receiver: Any) -> None:
    rx, url = receiver
    telemetry = telemetry_for(url)
    recorder = TelemetryRecorder(CONFIG, telemetry, STRONG)
    failed = exchange(
        model=None, provider=None, upstream_model=None, usage=Usage(), status=503,
        error_type="upstream_failed", ttft_s=None, finish_reason=None,
        attempts=(Attempt("strong", "backup", 500, "server_error"),
                  Attempt("cheap", "fake", None, "timeout")),
    )  # fmt: skip
    recorder.on_exchange(failed, PLAN)
    await flush(telemetry)
    await rx.wait_for(lambda: bool(rx.log_records()) and bool(rx.metrics))
    a = rx.log_records()[0]["attributes"]
    assert a["error.type"] == "upstream_failed"
    assert a["tierline.model"] == "none"
    assert a["tierline.cost.status"] == "unpriced"
    assert a["tierline.fallback.reasons"] == ["strong:server_error", "cheap:timeout"]
    assert rx.log_records()[0]["severity"] == 17  # ERROR
    exhausted = rx.latest(names.PLAN_EXHAUSTED)
    assert [(p.attributes, p.value) for p in exhausted] == [({"tier": "coding"}, 1.0)]
    errors = {(p.attributes["provider"], p.attributes["error_type"]): p.value
              for p in rx.latest(names.UPSTREAM_ERROR)}  # fmt: skip
    assert errors == {("backup", "server_error"): 1.0, ("fake", "timeout"): 1.0}
    fallback = rx.latest(names.FALLBACK_COUNT)
    assert [p.attributes for p in fallback] == [
        {"reason": "server_error", "from_provider": "backup", "to_provider": "fake"}
    ]
    requests = rx.latest(names.REQUESTS)
    assert [(p.attributes, p.value) for p in requests] == [
        ({"tier": "coding", "model": "none", "provider": "none", "outcome": "error"}, 1.0)
    ]
    await asyncio.to_thread(telemetry.shutdown)


async def test_metrics_tokens_cost_route_genai_and_compat(receiver: Any) -> None:
    rx, url = receiver
    telemetry = telemetry_for(url, compat=("claude_code",))
    recorder = TelemetryRecorder(CONFIG, telemetry, STRONG)
    recorder.on_exchange(exchange(), PLAN)
    recorder.on_exchange(exchange(request_id="req-2", subagent=True, stream=False), PLAN)
    await flush(telemetry)
    await rx.wait_for(lambda: bool(rx.latest(names.TOKEN_USAGE)))
    labels = {"model": "cheap", "provider": "fake", "tier": "coding"}
    tokens = {p.attributes["type"]: p.value for p in rx.latest(names.TOKEN_USAGE)}
    assert tokens == {"input": 2000, "output": 400, "cache_read": 6000, "cache_write": 1000}
    assert all({k: p.attributes[k] for k in labels} == labels
               for p in rx.latest(names.TOKEN_USAGE))  # fmt: skip
    (cost,) = rx.latest(names.COST_USAGE)
    assert cost.attributes == labels and cost.unit == "USD" and cost.temporality == 2
    assert cost.value == pytest.approx(2 * (1000 + 400 + 300 + 625) / 1e6)
    (decision,) = rx.latest(names.ROUTE_DECISION)
    assert decision.attributes == {"tier": "coding", "method": "heuristic", "profile": "coder"}
    assert decision.value == 2
    assert [p.attributes for p in rx.latest(names.ROUTE_TAG)] == [{"tag": "auth"}]
    (confidence,) = rx.latest(names.ROUTE_CONFIDENCE)
    assert confidence.bounds == list(names.CONFIDENCE_BUCKETS) and confidence.count == 2
    gen_tokens = {p.attributes["gen_ai.token.type"]: p for p in rx.latest(names.GEN_AI_TOKEN_USAGE)}
    assert gen_tokens["input"].bounds == list(names.TOKEN_BUCKETS)
    assert gen_tokens["input"].value == 9000
    assert gen_tokens["input"].attributes == {
        "gen_ai.operation.name": "chat", "gen_ai.provider.name": "fake",
        "gen_ai.request.model": "fake-cheap", "gen_ai.response.model": "fake-cheap",
        "gen_ai.token.type": "input",
    }  # fmt: skip
    (duration,) = rx.latest(names.GEN_AI_OPERATION_DURATION)
    assert duration.bounds == list(names.DURATION_BUCKETS) and duration.count == 2
    (ttfc,) = rx.latest(names.GEN_AI_TIME_TO_FIRST_CHUNK)
    assert ttfc.count == 1  # streaming calls only
    cc_tokens = {(p.attributes["type"], p.attributes["query_source"]): p.value
                 for p in rx.latest(names.CC_TOKEN_USAGE)}  # fmt: skip
    assert cc_tokens[("cacheRead", "main")] == 3000
    assert cc_tokens[("cacheCreation", "subagent")] == 500
    assert cc_tokens[("input", "main")] == 1000
    assert {p.attributes["model"] for p in rx.latest(names.CC_COST_USAGE)} == {"fake-cheap"}
    for point in rx.points():
        assert "session.id" not in point.attributes and "request_id" not in point.attributes
    await asyncio.to_thread(telemetry.shutdown)


async def test_signals_from_tool_results_become_metrics(receiver: Any) -> None:
    rx, url = receiver
    telemetry = telemetry_for(url, compat=("claude_code",))
    recorder = TelemetryRecorder(CONFIG, telemetry, STRONG)
    edit = ToolCall("toolu_1", "Edit", orjson.dumps(
        {"file_path": "/src/app.py", "old_string": "a = 1\n", "new_string": "a = 2\nb = 3\n"}
    ).decode())  # fmt: skip
    commit = ToolCall("toolu_2", "Bash", orjson.dumps({"command": "git commit -m 'fix'"}).decode())
    recorder.on_exchange(exchange(tool_calls=(edit, commit)), PLAN)
    body = {
        "model": "claude-sonnet-4-5",
        "messages": [
            {"role": "user", "content": "fix it"},
            {"role": "assistant", "content": [
                {"type": "tool_use", "id": "toolu_1", "name": "Edit",
                 "input": orjson.loads(edit.arguments)},
                {"type": "tool_use", "id": "toolu_2", "name": "Bash",
                 "input": {"command": "git commit -m 'fix'"}},
            ]},
            {"role": "user", "content": [
                {"type": "tool_result", "tool_use_id": "toolu_1",
                 "content": "The file /src/app.py has been updated."},
                {"type": "tool_result", "tool_use_id": "toolu_2",
                 "content": "[main 1a2b3c4] fix\n 1 file changed, 2 insertions(+), 1 deletion(-)"},
            ]},
        ],
    }  # fmt: skip
    recorder.on_request("anthropic", body, {}, PLAN)
    recorder.on_request("anthropic", body, {}, PLAN)  # resent history counts nothing again
    await flush(telemetry)
    await rx.wait_for(lambda: bool(rx.latest(names.LINES_OF_CODE)))
    lines = {p.attributes["type"]: (p.value, p.attributes) for p in rx.latest(names.LINES_OF_CODE)}
    assert lines["added"] == (2, {"type": "added", "language": "python", "model": "cheap"})
    assert lines["removed"][0] == 1
    (decision,) = rx.latest(names.EDIT_DECISION)
    assert decision.attributes == {"tool_name": "Edit", "decision": "accept", "language": "python"}
    assert [(p.attributes, p.value) for p in rx.latest(names.COMMIT_COUNT)] == [
        ({"model": "cheap"}, 1.0)
    ]
    cc_lines = {p.attributes["type"]: p.value for p in rx.latest(names.CC_LINES_OF_CODE)}
    assert cc_lines == {"added": 2, "removed": 1}
    assert [p.value for p in rx.latest(names.CC_COMMIT_COUNT)] == [1.0]
    (cc_decision,) = rx.latest(names.CC_EDIT_DECISION)
    assert cc_decision.attributes == {
        "tool_name": "Edit", "decision": "accept", "source": "unknown", "language": "Python"
    }  # fmt: skip
    assert recorder.tally.lines_added == 2 and recorder.tally.commits == 1
    await asyncio.to_thread(telemetry.shutdown)


async def test_delta_temporality_from_env(receiver: Any) -> None:
    rx, url = receiver
    env = {"OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE": "delta"}
    telemetry = telemetry_for(url, env)
    recorder = TelemetryRecorder(CONFIG, telemetry, STRONG)
    recorder.on_exchange(exchange(), PLAN)
    await flush(telemetry)
    await rx.wait_for(lambda: bool(rx.latest(names.REQUESTS)))
    (point,) = rx.latest(names.REQUESTS)
    assert point.temporality == 1 and point.monotonic
    # /metrics stays cumulative whatever OTLP uses.
    assert telemetry.registry is not None
    text = generate_latest(telemetry.registry).decode()
    assert "tierline_requests_total{" in text
    await asyncio.to_thread(telemetry.shutdown)


def test_prometheus_names_from_the_app_registry() -> None:
    settings = resolve_settings(TelemetryConfig(compat=("claude_code",)), {})
    telemetry = build_telemetry(settings, CollectorRegistry())
    assert telemetry.logs is None and telemetry.traces is None
    recorder = TelemetryRecorder(CONFIG, telemetry, STRONG)
    recorder.on_exchange(exchange(), PLAN)
    assert telemetry.registry is not None
    text = generate_latest(telemetry.registry).decode()
    for family in (
        "tierline_requests_total", "tierline_token_usage_tokens_total",
        "tierline_cost_usage_USD_total", "tierline_cost_baseline_USD_total",
        "gen_ai_client_operation_duration_seconds_bucket", "gen_ai_client_token_usage_bucket",
        "claude_code_token_usage_tokens_total", "claude_code_cost_usage_USD_total",
    ):  # fmt: skip
        assert family + "{" in text, family
    assert 'le="81.92"' in text and 'le="67108864.0"' in text
    assert "sess-1" not in text and "req-1" not in text
    telemetry.shutdown()


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_down_collector_drops_and_counts_without_slowing_requests() -> None:
    url = f"http://127.0.0.1:{_closed_port()}"
    telemetry = telemetry_for(url, {"OTEL_EXPORTER_OTLP_TIMEOUT": "1000"}, queue_size=8)
    recorder = TelemetryRecorder(CONFIG, telemetry, STRONG)
    started = time.perf_counter()
    for i in range(200):
        recorder.on_exchange(exchange(request_id=f"r{i}"), PLAN)
    per_request = (time.perf_counter() - started) / 200
    assert per_request < 0.005  # recording never waits on the collector
    assert telemetry.dropped("logs") >= 200 - 8 - 8  # queue + one batch in flight
    assert telemetry.registry is not None
    text = generate_latest(telemetry.registry).decode()
    assert "tierline_telemetry_dropped_total{" in text and 'signal="logs"' in text
    # Shutdown is bounded even though every export fails.
    started = time.perf_counter()
    await asyncio.to_thread(telemetry.shutdown)
    assert time.perf_counter() - started < 5


async def test_prompt_content_only_with_log_prompts(receiver: Any) -> None:
    rx, url = receiver
    body = {"model": "m", "messages": [{"role": "user", "content": "secret plan sk-ant-123"}]}
    for log_prompts in (False, True):
        telemetry = telemetry_for(url, log_prompts=log_prompts)
        recorder = TelemetryRecorder(CONFIG, telemetry, STRONG)
        call = ToolCall("t1", "Read", '{"file_path": "a.py"}')
        recorder.on_request("anthropic", body, {"x-api-key": "sk-ant-123"}, PLAN)
        recorder.on_exchange(exchange(request_id=f"p{log_prompts}", tool_calls=(call,)), PLAN)
        await flush(telemetry)
        await asyncio.to_thread(telemetry.shutdown)
    await rx.wait_for(lambda: len(rx.log_records()) == 2)
    by_id = {r["attributes"]["tierline.request.id"]: r["attributes"] for r in rx.log_records()}
    assert "tierline.prompt" not in by_id["pFalse"]
    assert "tierline.tool_calls" not in by_id["pFalse"]
    assert by_id["pTrue"]["tierline.prompt"] == "secret plan sk-ant-123"
    assert by_id["pTrue"]["tierline.tool_calls"] == ['Read {"file_path": "a.py"}']
    for attrs in by_id.values():  # request headers (API keys) are never exported
        assert "sk-ant-123" not in str({k: v for k, v in attrs.items() if k != "tierline.prompt"})


async def test_response_without_usage_is_estimated_and_flagged(receiver: Any) -> None:
    rx, url = receiver
    telemetry = telemetry_for(url)
    recorder = TelemetryRecorder(CONFIG, telemetry, STRONG)
    body = {"model": "m", "messages": [{"role": "user", "content": "word " * 400}]}
    recorder.on_request("openai", body, {}, PLAN)
    recorder.on_exchange(exchange(usage=Usage(), client_protocol="openai"), PLAN)
    await flush(telemetry)
    await rx.wait_for(lambda: len(rx.log_records()) == 1)
    a = rx.log_records()[0]["attributes"]
    assert a["tierline.usage.estimated"] is True
    assert a["tierline.cost.status"] == "estimated"
    assert a["tierline.usage.input_tokens"] > 300
    assert a["tierline.cost.usd"] > 0
    await asyncio.to_thread(telemetry.shutdown)


async def test_traces_sampler_from_otel_env(receiver: Any) -> None:
    from opentelemetry import trace
    from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

    rx, url = receiver
    env = {"OTEL_TRACES_SAMPLER": "parentbased_traceidratio", "OTEL_TRACES_SAMPLER_ARG": "0"}
    telemetry = telemetry_for(url, env)
    assert (telemetry.settings.sampler, telemetry.settings.sampler_ratio) == (
        "parentbased_traceidratio",
        0.0,
    )
    for _ in range(20):  # roots: ratio 0, never sampled
        with telemetry.tracer.start_as_current_span("root", kind=trace.SpanKind.SERVER):
            telemetry.tracer.start_span("chat m", kind=trace.SpanKind.CLIENT).end()
    carrier = {"traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}
    parent = TraceContextTextMapPropagator().extract(carrier)
    with telemetry.tracer.start_as_current_span("sampled parent", context=parent):
        pass
    await flush(telemetry)
    await rx.wait_for(lambda: bool(rx.spans()))
    assert [s["name"] for s in rx.spans()] == ["sampled parent"]
    await asyncio.to_thread(telemetry.shutdown)


def test_traces_sampler_names_and_defaults() -> None:
    def settings(**env: str) -> Any:
        return resolve_settings(TelemetryConfig(), env)

    assert settings().sampler == "parentbased_always_on"
    assert settings(OTEL_TRACES_SAMPLER="AlWays_off").sampler == "always_off"
    assert settings(OTEL_TRACES_SAMPLER="jaeger_remote").sampler == "parentbased_always_on"
    assert settings(OTEL_TRACES_SAMPLER_ARG="0.25").sampler_ratio == 0.25
    assert settings(OTEL_TRACES_SAMPLER_ARG="2").sampler_ratio == 1.0
    assert settings(OTEL_TRACES_SAMPLER_ARG="x").sampler_ratio == 1.0
