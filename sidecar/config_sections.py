"""``[server]``, ``[telemetry]`` and ``[state]``: self-contained sections.

Each parser reads the keys of its dataclass (see ``config_fields``) and adds the
checks types cannot express: port ranges, positive timeouts, URLs, files that
must exist, settings that require each other.
"""

from __future__ import annotations

import dataclasses
import ssl
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sidecar import config_fields as cf
from sidecar.config import ServerConfig, StateConfig, TelemetryConfig
from sidecar.config_fields import INVALID, Issues
from sidecar.config_models import resolve_headers, resolve_secret

_SERVER_CHECKS: Mapping[str, cf.Check] = {
    "port": cf.port,
    "admin_port": cf.port,
    "max_body_bytes": cf.positive,
    "connect_timeout": cf.positive,
    "first_byte_timeout": cf.positive,
    "stall_timeout": cf.positive,
    "deadline": cf.positive,
    "retries_per_candidate": cf.non_negative,
    "backoff_base": cf.non_negative,
    "backoff_max": cf.non_negative,
    "cooldown_seconds": cf.non_negative,
    "key_cooldown_seconds": cf.non_negative,
}


def _table(raw: Any, path: str, issues: Issues) -> Mapping[str, Any]:
    return (cf.expect_table(raw, path, issues) if raw is not None else {}) or {}


def parse_server(raw: Any, base_dir: Path | None, issues: Issues) -> ServerConfig:
    """``[server]`` -> ServerConfig.

    ``admin_port`` without ``admin_host`` listens on ``host``; ``admin_host``
    without ``admin_port`` is an error. A relative ``ca_bundle`` is resolved
    against the config file's directory and must exist.
    """
    table = _table(raw, "server", issues)

    def ca_bundle(value: Any, path: str, issues: Issues) -> Any:
        if cf.convert(value, str, path, issues) is INVALID:
            return INVALID
        file = Path(value).expanduser()
        if not file.is_absolute() and base_dir is not None:
            file = base_dir / file
        if not file.is_file():
            issues.error(path, f"file not found: {file}")
            return INVALID
        try:
            ssl.create_default_context(cafile=str(file))
        except (OSError, ValueError) as exc:  # ssl.SSLError is an OSError
            issues.error(path, f"not a PEM certificate bundle: {file} ({exc})")
            return INVALID
        return str(file)

    fields = cf.read_fields(
        ServerConfig,
        table,
        "server",
        issues,
        custom={"ca_bundle": ca_bundle},
        checks=_SERVER_CHECKS,
    )
    return _server_cross_checks(ServerConfig(**fields), issues)


def _server_cross_checks(server: ServerConfig, issues: Issues) -> ServerConfig:
    if server.admin_host is not None and server.admin_port is None:
        issues.error("server.admin_port", "required when server.admin_host is set")
    if server.admin_port is not None and server.admin_host is None:
        server = dataclasses.replace(server, admin_host=server.host)
    if server.admin_port and server.admin_port == server.port and server.admin_host == server.host:
        issues.error("server.admin_port", "must differ from server.port on the same host")
    if server.backoff_max < server.backoff_base:
        issues.error("server.backoff_max", "must not be smaller than server.backoff_base")
    return server


_COMPAT = ("claude_code",)  # telemetry.compat name sets (sidecar.telemetry.names)


def parse_telemetry(
    raw: Any, env: Mapping[str, str], base_dir: Path | None, issues: Issues
) -> TelemetryConfig:
    """``[telemetry]`` -> TelemetryConfig; header values may be ``env:``/``file:``."""
    table = _table(raw, "telemetry", issues)

    def headers(value: Any, path: str, issues: Issues) -> Any:
        return resolve_headers(value, path, env, base_dir, issues)

    endpoints = ("endpoint", "logs_endpoint", "metrics_endpoint", "traces_endpoint")
    checks: dict[str, cf.Check] = dict.fromkeys(endpoints, cf.url)
    checks.update(export_interval_ms=cf.positive, queue_size=cf.positive)
    fields = cf.read_fields(
        TelemetryConfig, table, "telemetry", issues, custom={"headers": headers}, checks=checks
    )
    for i, name in enumerate(fields.get("compat", ())):
        if name not in _COMPAT:
            close = cf.suggest(name, _COMPAT)
            hint = f"did you mean {close!r}?" if close else f"known: {', '.join(_COMPAT)}"
            issues.error(f"telemetry.compat[{i}]", f"unknown name set {name!r} ({hint})")
    return TelemetryConfig(**fields)


def parse_state(
    raw: Any, env: Mapping[str, str], base_dir: Path | None, issues: Issues
) -> StateConfig:
    """``[state]`` -> StateConfig; ``redis_url`` may be ``env:VAR`` (it can hold a password)."""
    table = _table(raw, "state", issues)

    def redis_url(value: Any, path: str, issues: Issues) -> Any:
        resolved = resolve_secret(value, path, env, base_dir, issues)
        if resolved is None:
            return INVALID
        unix = resolved.startswith("unix:///")
        if not unix and cf.url(resolved, ("redis", "rediss")):
            # Do not echo a URL that may carry a password.
            issues.error(path, "must be a redis://, rediss:// or unix:// URL")
            return INVALID
        return resolved

    checks = {"max_sessions": cf.positive, "ttl_seconds": cf.positive}
    fields = cf.read_fields(
        StateConfig, table, "state", issues, custom={"redis_url": redis_url}, checks=checks
    )
    state = StateConfig(**fields)
    if state.backend == "redis" and state.redis_url is None and "redis_url" not in table:
        issues.error("state.redis_url", 'required when state.backend = "redis"')
    return state
