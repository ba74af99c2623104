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
    prompt_cache: Literal["off", "auto"] = "off"  # auto: upstream/prompt_cache.py (anthropic)


@dataclass(frozen=True)
class Prices:
    """USD per million tokens; None where unknown. ``as_of`` dates catalog prices."""

    input: float | None = None
    output: float | None = None
    cache_read: float | None = None
    cache_write: float | None = None  # 5-minute writes
    cache_write_1h: float | None = None
    as_of: str | None = None
    # Money fields the config's own [models.X.prices] table set (they win over
    # genai-prices in the ledger); empty for catalog/genai-prices prices.
    explicit: frozenset[str] = field(default=frozenset(), compare=False, repr=False)


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
    clamp_max_tokens: bool = False  # keep a model whose max output < max_tokens; clamp
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
    # (key path, reason) for accepted-but-discouraged settings (e.g. a literal key).
    warnings: tuple[tuple[str, str], ...] = ()


# Sections a later capability brings; until then naming one is an error.
_NOT_SUPPORTED_YET = ("auth", "budgets", "limits")
_SECTIONS = ("server", "providers", "models", "routing", "telemetry", "state")


def load_config(path: str | None, env: Mapping[str, str] | None = None) -> Config:
    """Read and validate a TOML config file.

    ``path`` falls back to ``env["TIERLINE_CONFIG"]`` (``env`` defaults to
    ``os.environ``). Raises ``ConfigError`` when no path is given, the file
    cannot be read or is not TOML, or ``parse_config`` finds problems.
    """
    import os
    import tomllib

    env = os.environ if env is None else env
    path = path or env.get("TIERLINE_CONFIG") or None
    if path is None:
        reason = "no configuration file: pass --config FILE or set TIERLINE_CONFIG"
        raise ConfigError([("config", reason)])
    try:
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
    except OSError as exc:
        raise ConfigError([(path, f"cannot read the file ({exc.strerror or exc})")]) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError([(path, f"invalid TOML: {exc}")]) from None
    return parse_config(data, env, source=path)


def parse_config(
    data: Mapping[str, Any], env: Mapping[str, str], source: str | None = None
) -> Config:
    """Validate a parsed TOML document into a ``Config``.

    ``env`` resolves ``env:VAR`` references; relative ``file:`` paths are taken
    relative to ``source``'s directory. Every problem is collected and raised
    once as ``ConfigError`` with (key path, reason) pairs; secrets never appear
    in reasons. Warnings are returned in ``Config.warnings``.
    """
    from pathlib import Path

    from sidecar import config_fields as cf
    from sidecar.config_models import parse_models, parse_providers
    from sidecar.config_routing import parse_routing
    from sidecar.config_sections import parse_server, parse_state, parse_telemetry

    issues = cf.Issues()
    base_dir = Path(source).resolve().parent if source else None
    for key in data:
        if key in _NOT_SUPPORTED_YET:
            issues.error(key, f"[{key}] is not supported yet")
    cf.unknown_keys(
        {k: v for k, v in data.items() if k not in _NOT_SUPPORTED_YET}, _SECTIONS, "", issues
    )
    providers = parse_providers(data.get("providers"), env, base_dir, issues)
    models = parse_models(data.get("models"), providers, issues)
    routing = parse_routing(data.get("routing"), models, providers, issues)
    server = parse_server(data.get("server"), base_dir, issues)
    telemetry = parse_telemetry(data.get("telemetry"), env, base_dir, issues)
    state = parse_state(data.get("state"), env, base_dir, issues)
    lock = env.get("TIERLINE_TIER", "").strip()
    if lock and lock not in routing.tier_order:
        close = cf.suggest(lock, routing.tier_order)
        hint = f"did you mean {close!r}? " if close else ""
        order = ", ".join(routing.tier_order)
        reason = f"unknown tier {lock!r} in the environment ({hint}routing.tier_order: {order})"
        issues.error("TIERLINE_TIER", reason)
    if issues.errors:
        raise ConfigError(issues.errors)
    return Config(
        server=server,
        providers=providers,
        models=models,
        routing=routing,
        telemetry=telemetry,
        state=state,
        source=source,
        warnings=tuple(issues.warnings),
    )
