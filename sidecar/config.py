"""Configuration: TOML -> frozen dataclasses, validated once at load.

The dataclasses below are the contract every other module reads; the loader
(``load_config`` / ``parse_config``) turns a TOML document plus the process
environment into a ``Config`` or raises ``ConfigError`` listing every problem
with its key path. Secrets (resolved ``env:VAR`` keys) live only in
``ProviderConfig.api_keys`` and are never rendered by ``repr``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

ProviderKind = Literal["openai", "anthropic"]


class ConfigError(Exception):
    """The configuration is invalid; ``errors`` holds (key path, reason) pairs."""

    def __init__(self, errors: list[tuple[str, str]]) -> None:
        self.errors = errors
        super().__init__("; ".join(f"{path}: {reason}" for path, reason in errors))


@dataclass(frozen=True)
class ServerConfig:
    host: str = "127.0.0.1"
    port: int = 8787
    admin_host: str | None = None
    admin_port: int | None = None
    max_body_bytes: int = 32 * 1024 * 1024
    metrics: bool = True  # serve GET /metrics
    ca_bundle: str | None = None  # PEM file for outbound TLS; else SSL_CERT_FILE or system
    # Dispatch timings, seconds.
    connect_timeout: float = 10.0
    first_byte_timeout: float = 300.0  # long enough for reasoning models
    stall_timeout: float = 120.0  # max silence between chunks once streaming
    deadline: float = 600.0  # overall budget for one request's attempts before first byte
    retries_per_candidate: int = 1  # brief retries on 5xx/timeouts before moving on
    backoff_base: float = 0.5
    backoff_max: float = 8.0
    cooldown_seconds: float = 30.0  # a candidate that keeps failing rests this long
    key_cooldown_seconds: float = 60.0  # a key that got 429/401/403 rests this long


@dataclass(frozen=True)
class ProviderConfig:
    name: str
    kind: ProviderKind
    base_url: str  # without trailing slash, e.g. https://api.openai.com/v1
    api_keys: tuple[str, ...] = field(default=(), repr=False)  # resolved secrets
    headers: Mapping[str, str] = field(default_factory=dict)
    prompt_cache: Literal["off", "auto"] = "off"


@dataclass(frozen=True)
class Prices:
    """USD per million tokens; None where unknown. ``as_of`` dates catalog prices."""

    input: float | None = None
    output: float | None = None
    cache_read: float | None = None
    cache_write: float | None = None  # 5-minute writes
    cache_write_1h: float | None = None
    as_of: str | None = None


@dataclass(frozen=True)
class ModelConfig:
    name: str  # the name clients and config use
    provider: str  # key into Config.providers
    upstream: str  # id sent to the provider
    context_window: int = 128_000
    max_output: int | None = None
    prices: Prices = field(default_factory=Prices)
    extra_body: Mapping[str, Any] = field(default_factory=dict)
    vision: bool = True
    tools: bool = True
    thinking: bool = False
    reasoning: bool = False
    token_param: Literal["max_tokens", "max_completion_tokens"] = "max_tokens"


@dataclass(frozen=True)
class RoutingConfig:
    default_model: str | None = None
    default_tier: str = "coding"
    tiers: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # tier -> models
    tier_order: tuple[str, ...] = ("reasoning", "coding", "quick")  # strongest first
    aliases: tuple[tuple[str, str], ...] = (("*", "auto"),)  # (glob, target), first match
    fallback_chain: tuple[str, ...] = ()
    baseline_model: str | None = None
    heavy_tags: tuple[str, ...] = ()
    heavy_model: str | None = None
    ui_tags: tuple[str, ...] = ()
    ui_model: str | None = None
    review_strategy: Literal["same", "alternate"] = "same"
    path_tags: tuple[tuple[str, str], ...] = ()  # (glob, tag)
    mode: Literal["route", "shadow"] = "route"
    # Sub-tables owned by the router: parsed into the router's own dataclasses.
    classifier: Mapping[str, Any] = field(default_factory=dict)
    rules: tuple[Mapping[str, Any], ...] = ()
    profiles: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class TelemetryConfig:
    """``[telemetry]``; values here win over the OTEL_* environment."""

    enabled: bool = True
    endpoint: str | None = None  # OTLP base endpoint
    logs_endpoint: str | None = None
    metrics_endpoint: str | None = None
    traces_endpoint: str | None = None
    protocol: Literal["http/protobuf", "grpc"] | None = None
    headers: Mapping[str, str] = field(default_factory=dict, repr=False)
    service_name: str | None = None
    resource_attributes: Mapping[str, str] = field(default_factory=dict)
    export_interval_ms: int | None = None
    compat: tuple[str, ...] = ()  # e.g. ("claude_code",)
    log_prompts: bool = False  # export prompt / tool content
    propagate_trace: bool = False  # send traceparent to providers
    queue_size: int = 2048


@dataclass(frozen=True)
class StateConfig:
    backend: Literal["memory", "redis"] = "memory"
    redis_url: str | None = None
    max_sessions: int = 10_000
    ttl_seconds: float = 6 * 3600


@dataclass(frozen=True)
class Config:
    server: ServerConfig = field(default_factory=ServerConfig)
    providers: Mapping[str, ProviderConfig] = field(default_factory=dict)
    models: Mapping[str, ModelConfig] = field(default_factory=dict)
    routing: RoutingConfig = field(default_factory=RoutingConfig)
    telemetry: TelemetryConfig = field(default_factory=TelemetryConfig)
    state: StateConfig = field(default_factory=StateConfig)
    source: str | None = None  # path the config was read from, for messages
