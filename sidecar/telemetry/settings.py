"""Telemetry settings from ``[telemetry]`` and the process environment.

Precedence, per signal (logs, metrics, traces), highest first:
1. ``telemetry.<signal>_endpoint`` (used as is), then ``telemetry.endpoint``
   (a base: ``/v1/<signal>`` is appended for http/protobuf);
2. ``OTEL_EXPORTER_OTLP_<SIGNAL>_ENDPOINT`` (as is), then
   ``OTEL_EXPORTER_OTLP_ENDPOINT`` (a base, as above);
3. the seed-style ``OPENCODE_OTLP_ENDPOINT`` (logs) and
   ``OPENCODE_OTLP_METRICS_ENDPOINT`` (metrics), full URLs, honoured when
   ``OPENCODE_ENABLE_TELEMETRY`` is 1/true, with ``OPENCODE_OTLP_HEADERS``.
Headers, protocol, service name, resource attributes and the export interval
follow the same rule: config, then OTEL_*, then defaults. Traces are sampled as
``OTEL_TRACES_SAMPLER`` / ``OTEL_TRACES_SAMPLER_ARG`` say (the spec's names; default
``parentbased_always_on``; an unknown name keeps the default). A signal without an
endpoint is not exported (no exporter, no thread). ``telemetry.enabled =
false``, ``OTEL_SDK_DISABLED=true`` or ``OTEL_<SIGNAL>_EXPORTER=none`` turn
OTLP export off; ``/metrics`` is governed by ``server.metrics`` alone.

Pure: reads only the mapping it is given.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import unquote

from sidecar import __version__
from sidecar.config import TelemetryConfig
from sidecar.telemetry import names

Signal = Literal["logs", "metrics", "traces"]
OtlpProtocol = Literal["http/protobuf", "grpc"]
Temporality = Literal["cumulative", "delta", "lowmemory"]
Sampler = Literal[
    "always_on", "always_off", "traceidratio",
    "parentbased_always_on", "parentbased_always_off", "parentbased_traceidratio",
]  # fmt: skip
SAMPLERS: tuple[Sampler, ...] = (
    "always_on", "always_off", "traceidratio",
    "parentbased_always_on", "parentbased_always_off", "parentbased_traceidratio",
)  # fmt: skip
SIGNALS: tuple[Signal, ...] = ("logs", "metrics", "traces")

_TRUE = {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class ExportTarget:
    """Where one signal goes. ``headers`` may hold credentials: never logged."""

    url: str
    protocol: OtlpProtocol
    headers: Mapping[str, str] = field(default_factory=dict, repr=False)


@dataclass(frozen=True)
class TelemetrySettings:
    logs: ExportTarget | None
    metrics: ExportTarget | None
    traces: ExportTarget | None
    service_name: str
    resource_attributes: Mapping[str, str]
    export_interval_ms: int
    temporality: Temporality
    timeout_s: float
    queue_size: int
    compat: tuple[str, ...]
    log_prompts: bool
    propagate_trace: bool
    sampler: Sampler = "parentbased_always_on"
    sampler_ratio: float = 1.0  # for the traceidratio samplers

    def target(self, signal: Signal) -> ExportTarget | None:
        target: ExportTarget | None = getattr(self, signal)
        return target


def parse_kv_list(text: str) -> dict[str, str]:
    """``k=v,k2=v2`` (OTEL_EXPORTER_OTLP_HEADERS / OTEL_RESOURCE_ATTRIBUTES form).

    Values are URL-decoded; entries without ``=`` are ignored.
    """
    out: dict[str, str] = {}
    for item in text.split(","):
        key, sep, value = item.partition("=")
        if sep and key.strip():
            out[unquote(key.strip())] = unquote(value.strip())
    return out


def _env(env: Mapping[str, str], name: str) -> str | None:
    value = env.get(name, "").strip()
    return value or None


def _protocol(cfg: TelemetryConfig, env: Mapping[str, str], signal: Signal) -> OtlpProtocol:
    raw = (
        cfg.protocol
        or _env(env, f"OTEL_EXPORTER_OTLP_{signal.upper()}_PROTOCOL")
        or _env(env, "OTEL_EXPORTER_OTLP_PROTOCOL")
        or "http/protobuf"
    )
    return "grpc" if raw == "grpc" else "http/protobuf"


def _join(base: str, signal: Signal, protocol: OtlpProtocol) -> str:
    if protocol == "grpc":
        return base
    return base.rstrip("/") + "/v1/" + signal


def _opencode(env: Mapping[str, str], signal: Signal) -> str | None:
    if env.get("OPENCODE_ENABLE_TELEMETRY", "").strip().lower() not in _TRUE:
        return None
    if signal == "logs":
        return _env(env, "OPENCODE_OTLP_ENDPOINT")
    if signal == "metrics":
        return _env(env, "OPENCODE_OTLP_METRICS_ENDPOINT")
    return None


def _target(cfg: TelemetryConfig, env: Mapping[str, str], signal: Signal) -> ExportTarget | None:
    if not cfg.enabled or env.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return None
    if env.get(f"OTEL_{signal.upper()}_EXPORTER", "").strip().lower() == "none":
        return None
    protocol = _protocol(cfg, env, signal)
    headers = parse_kv_list(env.get("OTEL_EXPORTER_OTLP_HEADERS", ""))
    headers.update(parse_kv_list(env.get(f"OTEL_EXPORTER_OTLP_{signal.upper()}_HEADERS", "")))
    url: str | None = getattr(cfg, f"{signal}_endpoint")
    if url is None and cfg.endpoint:
        url = _join(cfg.endpoint, signal, protocol)
    if url is None:
        url = _env(env, f"OTEL_EXPORTER_OTLP_{signal.upper()}_ENDPOINT")
    if url is None and (base := _env(env, "OTEL_EXPORTER_OTLP_ENDPOINT")):
        url = _join(base, signal, protocol)
    if url is None and (url := _opencode(env, signal)):
        protocol = "http/protobuf"
        headers.update(parse_kv_list(env.get("OPENCODE_OTLP_HEADERS", "")))
    if url is None:
        return None
    headers.update(cfg.headers)
    return ExportTarget(url, protocol, {k.lower(): v for k, v in headers.items()})


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    try:
        value = int(float(env.get(name, "")))
    except ValueError:
        return default
    return value if value > 0 else default


def resolve_settings(cfg: TelemetryConfig, env: Mapping[str, str]) -> TelemetrySettings:
    """Settings for this process; ``env`` is usually ``os.environ``."""
    resource = parse_kv_list(env.get("OTEL_RESOURCE_ATTRIBUTES", ""))
    resource.update(cfg.resource_attributes)
    service = (
        cfg.service_name
        or _env(env, "OTEL_SERVICE_NAME")
        or resource.get("service.name")
        or names.SERVICE_NAME_DEFAULT
    )
    resource["service.name"] = service
    resource.setdefault("service.version", __version__)
    raw_temporality = env.get("OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE", "").lower()
    temporality: Temporality = "cumulative"
    if raw_temporality in ("delta", "lowmemory"):
        temporality = "delta" if raw_temporality == "delta" else "lowmemory"
    return TelemetrySettings(
        logs=_target(cfg, env, "logs"),
        metrics=_target(cfg, env, "metrics"),
        traces=_target(cfg, env, "traces"),
        service_name=service,
        resource_attributes=resource,
        export_interval_ms=cfg.export_interval_ms
        or _int(env, "OTEL_METRIC_EXPORT_INTERVAL", 60_000),
        temporality=temporality,
        timeout_s=_int(env, "OTEL_EXPORTER_OTLP_TIMEOUT", 10_000) / 1000.0,
        queue_size=max(1, cfg.queue_size),
        compat=tuple(cfg.compat),
        log_prompts=cfg.log_prompts,
        propagate_trace=cfg.propagate_trace,
        sampler=_sampler(env),
        sampler_ratio=_ratio(env),
    )


def _sampler(env: Mapping[str, str]) -> Sampler:
    raw = env.get("OTEL_TRACES_SAMPLER", "").strip().lower()
    for name in SAMPLERS:
        if raw == name:
            return name
    return "parentbased_always_on"


def _ratio(env: Mapping[str, str]) -> float:
    """``OTEL_TRACES_SAMPLER_ARG`` as a probability in [0, 1]; 1.0 when unset or invalid."""
    try:
        ratio = float(env.get("OTEL_TRACES_SAMPLER_ARG", "1.0"))
    except ValueError:
        return 1.0
    return ratio if 0.0 <= ratio <= 1.0 else 1.0
