"""Telemetry settings: OTEL_* env, seed-style OPENCODE_* env, [telemetry] wins."""

from __future__ import annotations

from sidecar.config import TelemetryConfig
from sidecar.telemetry.settings import parse_kv_list, resolve_settings


def test_nothing_set_exports_nothing() -> None:
    s = resolve_settings(TelemetryConfig(), {})
    assert (s.logs, s.metrics, s.traces) == (None, None, None)
    assert s.service_name == "tierline"
    assert s.temporality == "cumulative"
    assert s.export_interval_ms == 60_000


def test_otel_base_endpoint_gets_signal_paths_for_http() -> None:
    env = {
        "OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318/",
        "OTEL_EXPORTER_OTLP_HEADERS": "Authorization=Bearer%20abc,x-team=core",
        "OTEL_SERVICE_NAME": "sidecar-a",
        "OTEL_RESOURCE_ATTRIBUTES": "deployment.environment=prod,team=ml",
        "OTEL_METRIC_EXPORT_INTERVAL": "5000",
        "OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE": "delta",
    }
    s = resolve_settings(TelemetryConfig(), env)
    assert s.logs is not None and s.logs.url == "http://collector:4318/v1/logs"
    assert s.metrics is not None and s.metrics.url == "http://collector:4318/v1/metrics"
    assert s.traces is not None and s.traces.url == "http://collector:4318/v1/traces"
    assert s.logs.protocol == "http/protobuf"
    assert s.logs.headers == {"authorization": "Bearer abc", "x-team": "core"}
    assert s.service_name == "sidecar-a"
    assert s.resource_attributes["team"] == "ml"
    assert s.resource_attributes["service.name"] == "sidecar-a"
    assert s.export_interval_ms == 5000
    assert s.temporality == "delta"


def test_per_signal_env_endpoints_are_used_as_is_and_grpc_keeps_base() -> None:
    env = {
        "OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4317",
        "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc",
        "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT": "http://logs:4318/custom/logs",
        "OTEL_EXPORTER_OTLP_LOGS_PROTOCOL": "http/protobuf",
        "OTEL_TRACES_EXPORTER": "none",
    }
    s = resolve_settings(TelemetryConfig(), env)
    assert s.logs is not None and s.logs.url == "http://logs:4318/custom/logs"
    assert s.logs.protocol == "http/protobuf"
    assert s.metrics is not None and s.metrics.url == "http://collector:4317"
    assert s.metrics.protocol == "grpc"
    assert s.traces is None


def test_config_wins_over_env() -> None:
    env = {
        "OTEL_EXPORTER_OTLP_ENDPOINT": "http://env:4318",
        "OTEL_EXPORTER_OTLP_HEADERS": "authorization=env",
        "OTEL_SERVICE_NAME": "from-env",
        "OTEL_METRIC_EXPORT_INTERVAL": "5000",
    }
    cfg = TelemetryConfig(
        endpoint="http://cfg:4318",
        metrics_endpoint="http://metrics:9090/api/v1/otlp/v1/metrics",
        headers={"Authorization": "cfg"},
        service_name="from-config",
        export_interval_ms=1000,
    )
    s = resolve_settings(cfg, env)
    assert s.logs is not None and s.logs.url == "http://cfg:4318/v1/logs"
    assert s.metrics is not None and s.metrics.url == "http://metrics:9090/api/v1/otlp/v1/metrics"
    assert s.logs.headers["authorization"] == "cfg"
    assert s.service_name == "from-config"
    assert s.export_interval_ms == 1000


def test_seed_style_opencode_variables() -> None:
    env = {
        "OPENCODE_ENABLE_TELEMETRY": "1",
        "OPENCODE_OTLP_ENDPOINT": "https://api.example.com/ai/v1beta/logs:ingest",
        "OPENCODE_OTLP_METRICS_ENDPOINT": "https://api.example.com/ai/v1beta/metrics:ingest",
        "OPENCODE_OTLP_HEADERS": "Authorization=Bearer tok",
    }
    s = resolve_settings(TelemetryConfig(), env)
    assert s.logs is not None and s.logs.url == env["OPENCODE_OTLP_ENDPOINT"]
    assert s.metrics is not None and s.metrics.url == env["OPENCODE_OTLP_METRICS_ENDPOINT"]
    assert s.logs.headers == {"authorization": "Bearer tok"}
    assert s.traces is None
    disabled = resolve_settings(TelemetryConfig(), {**env, "OPENCODE_ENABLE_TELEMETRY": "0"})
    assert disabled.logs is None and disabled.metrics is None


def test_disabled_turns_export_off() -> None:
    env = {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}
    assert resolve_settings(TelemetryConfig(enabled=False), env).logs is None
    assert resolve_settings(TelemetryConfig(), {**env, "OTEL_SDK_DISABLED": "true"}).logs is None


def test_headers_repr_hides_secrets() -> None:
    s = resolve_settings(TelemetryConfig(headers={"authorization": "secret-token"}),
                         {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318"})  # fmt: skip
    assert "secret-token" not in repr(s)


def test_parse_kv_list_ignores_junk() -> None:
    assert parse_kv_list("a=1,,junk, b = 2 ,c=x%3Dy") == {"a": "1", "b": "2", "c": "x=y"}


def test_grpc_protocol_builds_grpc_exporters() -> None:
    from opentelemetry.exporter.otlp.proto.grpc._log_exporter import OTLPLogExporter
    from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

    from sidecar.telemetry.setup import _exporter

    env = {
        "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4317",
        "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc",
    }
    settings = resolve_settings(TelemetryConfig(), env)
    assert settings.logs is not None and settings.traces is not None
    logs = _exporter("logs", settings.logs, 1.0)
    spans = _exporter("traces", settings.traces, 1.0)
    assert isinstance(logs, OTLPLogExporter) and isinstance(spans, OTLPSpanExporter)
    logs.shutdown()
    spans.shutdown()
