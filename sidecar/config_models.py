"""``[providers.*]`` and ``[models.*]``, and model references from anywhere.

Model references: wherever the config names a model (``routing.default_model``,
``fallback_chain``, ``heavy_model``, ``ui_model``, ``baseline_model``, ``tiers``,
alias targets) it may use a ``[models.NAME]`` name or the seed-style
``"provider:upstream-id"`` form (``"openrouter:moonshotai/kimi-k2.5"``). The
latter creates an implicit ``ModelConfig`` named exactly that string, with that
provider and upstream id, unless a ``[models."provider:upstream-id"]`` table
exists (then the table is used and its provider defaults to the prefix).

Every model, explicit or implicit, is built by ``build_model`` from a table:
that is the one place where a shipped catalog entry can be merged in later.
"""

from __future__ import annotations

import types
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sidecar import config_fields as cf
from sidecar.config import ModelConfig, Prices, ProviderConfig, ProviderKind
from sidecar.config_fields import INVALID, Issues

# Providers whose kind and base URL are known, so the table may leave them out.
KNOWN_PROVIDERS: Mapping[str, tuple[ProviderKind, str]] = types.MappingProxyType(
    {
        "openai": ("openai", "https://api.openai.com/v1"),
        "anthropic": ("anthropic", "https://api.anthropic.com"),
        "openrouter": ("openai", "https://openrouter.ai/api/v1"),
        "fireworks": ("openai", "https://api.fireworks.ai/inference/v1"),
        "together": ("openai", "https://api.together.xyz/v1"),
        "moonshot": ("openai", "https://api.moonshot.ai/v1"),
        "groq": ("openai", "https://api.groq.com/openai/v1"),
        "deepseek": ("openai", "https://api.deepseek.com/v1"),
        "google": ("openai", "https://generativelanguage.googleapis.com/v1beta/openai"),
        "ollama": ("openai", "http://127.0.0.1:11434/v1"),
    }
)

# Names a client may send that are not models: the router's virtual models.
VIRTUAL_MODELS = ("auto",)


def resolve_secret(
    value: Any, path: str, env: Mapping[str, str], base_dir: Path | None, issues: Issues
) -> str | None:
    """Resolve ``env:VAR``, ``file:/path`` or a literal; None after recording a problem.

    A relative ``file:`` path is taken relative to the config file's directory.
    The resolved value is never put into a message.
    """
    if not isinstance(value, str):
        issues.error(path, f"expected a string, got {cf.toml_type(value)}")
        return None
    if value.startswith("env:"):
        var = value[4:]
        if not var:
            issues.error(path, "empty variable name after 'env:'")
            return None
        if var not in env:
            issues.error(path, f"environment variable {var} is not set")
            return None
        if not env[var].strip():
            issues.error(path, f"environment variable {var} is empty")
            return None
        return env[var].strip()
    if value.startswith("file:"):
        file = Path(value[5:]).expanduser()
        if not file.is_absolute() and base_dir is not None:
            file = base_dir / file
        try:
            text = file.read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as exc:
            issues.error(path, f"cannot read {file}: {getattr(exc, 'strerror', None) or exc}")
            return None
        if not text:
            issues.error(path, f"file {file} is empty")
            return None
        return text
    return value


def parse_providers(
    raw: Any, env: Mapping[str, str], base_dir: Path | None, issues: Issues
) -> dict[str, ProviderConfig]:
    """``[providers.NAME]`` tables -> ProviderConfig by name."""
    table = cf.expect_table(raw, "providers", issues) if raw is not None else {}
    if table is None:
        issues.invalid.add("providers")
    out: dict[str, ProviderConfig] = {}
    for name, value in (table or {}).items():
        path = cf.join("providers", name)
        ptable = cf.expect_table(value, path, issues)
        if ":" in name:
            issues.error(path, "a provider name cannot contain ':' (it separates provider:model)")
        elif ptable is not None:
            provider = _provider(name, ptable, path, env, base_dir, issues)
            if provider is not None:
                out[name] = provider
                continue
        issues.invalid.add(path)
    return out


def _provider(
    name: str,
    table: Mapping[str, Any],
    path: str,
    env: Mapping[str, str],
    base_dir: Path | None,
    issues: Issues,
) -> ProviderConfig | None:
    def keys(value: Any, kpath: str, issues: Issues) -> Any:
        if not isinstance(value, list):
            issues.error(kpath, f"expected an array of strings, got {cf.toml_type(value)}")
            return INVALID
        out = []
        for i, item in enumerate(value):
            secret = resolve_secret(item, f"{kpath}[{i}]", env, base_dir, issues)
            if isinstance(item, str) and not item.startswith(("env:", "file:")):
                issues.warn(f"{kpath}[{i}]", 'literal key in the config file; prefer "env:VAR"')
            out.append(secret)
        return INVALID if None in out else tuple(out)

    def headers(value: Any, hpath: str, issues: Issues) -> Any:
        return resolve_headers(value, hpath, env, base_dir, issues)

    fields = cf.read_fields(
        ProviderConfig,
        table,
        path,
        issues,
        exclude=("name",),
        custom={"api_keys": keys, "headers": headers},
        checks={"base_url": cf.url},
    )
    kind, base_url = KNOWN_PROVIDERS.get(name, (None, None))
    fields.setdefault("kind", kind)
    fields.setdefault("base_url", base_url)
    missing = [k for k in ("kind", "base_url") if fields[k] is None and k not in table]
    for key in missing:
        want = "openai or anthropic" if key == "kind" else "the provider's API root URL"
        issues.error(cf.join(path, key), f"required for provider {name!r} ({want})")
    if missing or fields["kind"] is None or fields["base_url"] is None:
        return None
    fields["base_url"] = fields["base_url"].rstrip("/")
    return ProviderConfig(name=name, **fields)


def resolve_headers(
    value: Any, path: str, env: Mapping[str, str], base_dir: Path | None, issues: Issues
) -> Any:
    """A table of header values; ``env:``/``file:`` values are resolved."""
    table = cf.expect_table(value, path, issues)
    if table is None:
        return INVALID
    out = {k: resolve_secret(v, cf.join(path, k), env, base_dir, issues) for k, v in table.items()}
    return INVALID if None in out.values() else out


def build_model(
    name: str,
    table: Mapping[str, Any],
    path: str,
    providers: Mapping[str, ProviderConfig],
    issues: Issues,
) -> ModelConfig | None:
    """One model table -> ModelConfig (None after recording problems).

    The shipped catalog entry for ``name`` (or its upstream id) supplies what
    the table leaves out (window, capabilities, prices field by field).
    """
    prefix, _, rest = name.partition(":")
    implied = prefix if rest and prefix in providers else None
    fields = cf.read_fields(
        ModelConfig,
        table,
        path,
        issues,
        exclude=("name",),
        custom={"prices": _prices},
        checks={"context_window": cf.positive, "max_output": cf.positive},
    )
    provider = fields.setdefault("provider", implied)
    if provider is None:
        if "provider" not in table:
            issues.error(cf.join(path, "provider"), "required (a name from [providers])")
        return None
    if provider not in providers:
        if not issues.invalid & {"providers", cf.join("providers", provider)}:
            issues.error(cf.join(path, "provider"), _unknown_provider(provider, providers))
        return None
    from sidecar.catalog import catalog_defaults  # the catalog entry; the table's keys win

    fields.update(
        catalog_defaults(name, _checked(table, fields), provider, providers[provider].base_url)
    )
    fields.setdefault("upstream", rest if implied == provider else name)
    return ModelConfig(name=name, **fields)


def _checked(table: Mapping[str, Any], fields: Mapping[str, Any]) -> dict[str, Any]:
    """``table`` with its prices as converted (floats, ISO dates); invalid ones dropped."""
    out = dict(table)
    out.pop("prices", None)
    prices = fields.get("prices")
    if isinstance(prices, Prices):
        out["prices"] = {k: getattr(prices, k) for k in table["prices"] if hasattr(prices, k)}
    return out


def _unknown_provider(name: str, providers: Mapping[str, ProviderConfig]) -> str:
    close = cf.suggest(name, providers)
    if close:
        return f"unknown provider {name!r} (did you mean {close!r}?)"
    known = ", ".join(providers) or "none"
    return f"unknown provider {name!r} (configured: {known}; add [providers.{name}])"


def _prices(value: Any, path: str, issues: Issues) -> Any:
    table = cf.expect_table(value, path, issues)
    if table is None:
        return INVALID
    money = ("input", "output", "cache_read", "cache_write", "cache_write_1h")
    fields = cf.read_fields(
        Prices,
        table,
        path,
        issues,
        exclude=("explicit",),
        custom={"as_of": cf.as_of},
        checks=dict.fromkeys(money, cf.non_negative),
    )
    return Prices(**fields, explicit=frozenset(k for k in money if k in fields))


def parse_models(
    raw: Any, providers: Mapping[str, ProviderConfig], issues: Issues
) -> dict[str, ModelConfig]:
    """``[models.NAME]`` tables -> ModelConfig by name (references come later)."""
    table = cf.expect_table(raw, "models", issues) if raw is not None else {}
    if table is None:
        issues.invalid.add("models")
    out: dict[str, ModelConfig] = {}
    for name, value in (table or {}).items():
        path = cf.join("models", name)
        mtable = cf.expect_table(value, path, issues)
        if mtable is not None:
            model = build_model(name, mtable, path, providers, issues)
            if model is not None:
                out[name] = model
                continue
        issues.invalid.add(path)
    return out


def resolve_reference(
    name: str,
    path: str,
    models: dict[str, ModelConfig],
    providers: Mapping[str, ProviderConfig],
    issues: Issues,
) -> bool:
    """Make sure ``name`` is a model, adding an implicit one for ``provider:id``.

    Returns False (after recording why) when ``name`` names nothing.
    """
    if name in models:
        return True
    prefix, colon, rest = name.partition(":")
    reported = {"models", cf.join("models", name)}
    if colon and rest:
        reported |= {"providers", cf.join("providers", prefix)}
    if issues.invalid & reported:
        return False
    if colon and rest and prefix in providers:
        model = build_model(name, {"upstream": rest}, path, providers, issues)
        if model is not None:
            models[name] = model
        return model is not None
    if colon and rest and prefix:
        issues.error(path, f"{name!r}: " + _unknown_provider(prefix, providers))
        return False
    from sidecar.routing.catalog import catalog_serves

    if catalog_serves(name, providers):  # a catalog model: the router resolves it by name
        return True
    close = cf.suggest(name, models)
    hint = f"did you mean {close!r}?" if close else 'add [models.NAME] or use "provider:model-id"'
    issues.error(path, f"unknown model {name!r} ({hint})")
    return False
