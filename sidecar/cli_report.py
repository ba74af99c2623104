"""Text the ``check`` and ``models`` commands print. Pure: Config in, str out."""

from __future__ import annotations

import json
from collections.abc import Sequence

from sidecar.config import Config, ModelConfig


def _table(header: Sequence[str], rows: Sequence[Sequence[str]], indent: str = "") -> list[str]:
    """Left-aligned columns separated by two spaces."""
    widths = [max(len(r[i]) for r in (header, *rows)) for i in range(len(header))]
    return [
        indent + "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in (header, *rows)
    ]


def _money(value: float | None) -> str:
    return "-" if value is None else f"{value:g}"


def _tokens(value: int | None) -> str:
    return "-" if value is None else f"{value:,}"


def check_summary(config: Config) -> str:
    """A short summary of a valid config: listeners, providers, models, routing."""
    s, r = config.server, config.routing
    lines = [f"ok: {config.source or 'configuration'} is valid"]
    listen = f"{s.host}:{s.port}"
    if s.admin_port is not None:
        listen += f" (admin {s.admin_host}:{s.admin_port})"
    lines.append(f"listen: {listen}")
    lines.append(f"providers ({len(config.providers)}):")
    rows = [(p.name, p.kind, p.base_url, _keys(len(p.api_keys))) for p in config.providers.values()]
    if rows:
        lines += _table(("name", "kind", "base_url", "keys"), rows, indent="  ")[1:]
    lines.append(f"models ({len(config.models)}):")
    lines += [f"  {m.name} -> {m.provider}/{m.upstream}" for m in config.models.values()]
    lines.append(f"default model: {r.default_model or '(none)'}; default tier: {r.default_tier}")
    if r.fallback_chain:
        lines.append("fallback chain: " + " -> ".join(r.fallback_chain))
    lines.append("aliases: " + ", ".join(f"{g} -> {t}" for g, t in r.aliases))
    return "\n".join(lines)


def _keys(count: int) -> str:
    return "no key" if count == 0 else f"{count} key" + ("s" if count > 1 else "")


def models_table(config: Config) -> str:
    """One row per configured model with provider, upstream id, window and prices."""
    header = ("model", "provider", "upstream", "context", "in $/M", "out $/M", "cache r/w $/M")
    rows = [_model_row(m, m.name == config.routing.default_model) for m in config.models.values()]
    if not rows:
        return "no models configured"
    return "\n".join(_table(header, rows)) + "\n(* default model; prices USD per million tokens)"


def _model_row(m: ModelConfig, default: bool) -> tuple[str, ...]:
    p = m.prices
    return (
        m.name + (" *" if default else ""),
        m.provider,
        m.upstream,
        _tokens(m.context_window),
        _money(p.input),
        _money(p.output),
        f"{_money(p.cache_read)}/{_money(p.cache_write)}",
    )


def models_json(config: Config) -> str:
    """The configured models as a JSON array (no secrets: providers by name only)."""
    out = [
        {
            "name": m.name,
            "provider": m.provider,
            "upstream": m.upstream,
            "context_window": m.context_window,
            "max_output": m.max_output,
            "prices": {
                "input": m.prices.input,
                "output": m.prices.output,
                "cache_read": m.prices.cache_read,
                "cache_write": m.prices.cache_write,
                "cache_write_1h": m.prices.cache_write_1h,
                "as_of": m.prices.as_of,
            },
            "default": m.name == config.routing.default_model,
        }
        for m in config.models.values()
    ]
    return json.dumps(out, indent=2)
