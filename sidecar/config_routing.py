"""``[routing]`` -> RoutingConfig, resolving every model it names.

Checks done here: tier names against ``tier_order``, ``default_tier``, alias
and path-tag shapes, and every model reference (see ``config_models``), which
may add implicit ``provider:upstream-id`` models to ``models``. The
``classifier``, ``rules`` and ``profiles`` sub-tables are kept as raw mappings;
the router validates them.

When ``default_model`` is not given it is derived: the first model of the
default tier, else the first of ``fallback_chain``, else the only model.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

from sidecar import config_fields as cf
from sidecar.config import ModelConfig, ProviderConfig, RoutingConfig
from sidecar.config_fields import INVALID, Issues
from sidecar.config_models import VIRTUAL_MODELS, resolve_reference

_SINGLE_REFS = ("default_model", "heavy_model", "ui_model", "baseline_model")
_ALIAS_KEYS = ("match", "target")


def parse_routing(
    raw: Any,
    models: dict[str, ModelConfig],
    providers: Mapping[str, ProviderConfig],
    issues: Issues,
) -> RoutingConfig:
    """``[routing]`` -> RoutingConfig; adds implicit models to ``models``."""
    table = (cf.expect_table(raw, "routing", issues) if raw is not None else {}) or {}
    fields = cf.read_fields(
        RoutingConfig,
        table,
        "routing",
        issues,
        custom={"aliases": _aliases, "path_tags": _path_tags, "tiers": _tiers},
    )
    order = _tier_order(fields, issues)
    virtual = {*VIRTUAL_MODELS, *order}
    for name in models:
        if name in virtual:
            issues.error(cf.join("models", name), f"{name!r} is reserved (a virtual model name)")
    for path, name in _references(fields, table, virtual):
        resolve_reference(name, path, models, providers, issues)
    if "default_model" not in fields:
        derived = _derive_default(fields, models)
        if derived is not None:
            fields["default_model"] = derived
    routing = RoutingConfig(**fields)
    if _router_settings(routing, issues):
        _router_names(routing, providers, issues)
    _warn_small_outputs(routing, models, issues)
    return routing


AGENT_MAX_TOKENS = 32_000  # the least Claude Code asks for (2.1.197: 64000)


def _warn_small_outputs(
    routing: RoutingConfig, models: Mapping[str, ModelConfig], issues: Issues
) -> None:
    """A model in a tier above the weakest whose max output is below what coding agents
    ask for is skipped for their requests (fit) unless ``clamp_max_tokens``: say so, or a
    coding tier of such models quietly saves nothing."""
    if routing.clamp_max_tokens:
        return
    weakest = routing.tier_order[-1] if routing.tier_order else None
    for tier, names in routing.tiers.items():
        if tier == weakest:
            continue
        for i, name in enumerate(names):
            model = models.get(name)
            if model is None or not model.max_output or model.max_output >= AGENT_MAX_TOKENS:
                continue
            issues.warn(
                f"routing.tiers.{tier}[{i}]",
                f"{name} has max output {model.max_output}: requests asking for more (Claude "
                f"Code asks for 32000-64000) skip it; routing.clamp_max_tokens = true sends it "
                "its max output instead",
            )


def _router_settings(routing: RoutingConfig, issues: Issues) -> bool:
    """Let the router check its sub-tables now, so ``tierline check`` reports them."""
    from sidecar.config import ConfigError
    from sidecar.routing import settings

    checks: tuple[tuple[str, Callable[[], object]], ...] = (
        ("routing.classifier", lambda: settings.parse_classifier(routing.classifier)),
        ("routing.rules", lambda: settings.parse_rules(routing.rules)),
        ("routing.profiles", lambda: settings.parse_profiles(routing.profiles)),
    )
    ok = True
    for path, check in checks:
        try:
            check()
        except ConfigError as exc:
            issues.errors.extend(exc.errors)
            ok = False
        except (TypeError, ValueError) as exc:
            issues.error(path, f"invalid value ({exc})")
            ok = False
    return ok


def _known(value: str, known: tuple[str, ...], path: str, what: str, issues: Issues) -> None:
    """An error at ``path`` unless ``value`` is one of ``known`` (with a did-you-mean)."""
    if value in known:
        return
    close = cf.suggest(value, known)
    hint = f"did you mean {close!r}?" if close else f"known: {', '.join(known)}"
    issues.error(path, f"unknown {what} {value!r} ({hint})")


def _router_names(
    routing: RoutingConfig, providers: Mapping[str, ProviderConfig], issues: Issues
) -> None:
    """Every tier, profile, harness and provider the router's sub-tables name is a known one."""
    from sidecar.routing import settings
    from sidecar.routing.classifier import PROFILES

    order = routing.tier_order
    for i, name in enumerate(settings.parse_classifier(routing.classifier).providers):
        path = f"routing.classifier.providers[{i}]"
        _known(name, tuple(providers), path, "provider", issues)
    for i, rule in enumerate(settings.parse_rules(routing.rules)):
        path = f"routing.rules[{i}]"
        if rule.tier is not None:
            _known(rule.tier, order, f"{path}.tier", "tier", issues)
        for what, values, known in (
            ("profile", rule.profile, PROFILES),
            ("harness", rule.harness, settings.HARNESSES),
        ):
            for j, value in enumerate(values):
                _known(value, known, f"{path}.match.{what}[{j}]", what, issues)
    for name, profile in settings.parse_profiles(routing.profiles).items():
        path = cf.join("routing.profiles", name)
        _known(name, PROFILES, path, "profile", issues)
        if profile.tier is not None and name in PROFILES:
            _known(profile.tier, order, f"{path}.tier", "tier", issues)


def _tier_order(fields: dict[str, Any], issues: Issues) -> tuple[str, ...]:
    """The strongest-first tier names; checks ``tiers`` and ``default_tier``."""
    defaults = RoutingConfig()
    tiers: Mapping[str, Any] = fields.get("tiers", {})
    if "tier_order" in fields:
        order: tuple[str, ...] = fields["tier_order"]
        if not order or len(set(order)) != len(order):
            issues.error("routing.tier_order", "must name at least one tier, each once")
    elif tiers and not set(tiers) <= set(defaults.tier_order):
        order = tuple(tiers)  # custom tier names: the table's order, strongest first
        fields["tier_order"] = order
    else:
        order = defaults.tier_order
    for tier in tiers:
        if tier not in order:
            reason = f"unknown tier (routing.tier_order is {', '.join(order)})"
            issues.error(cf.join("routing.tiers", tier), reason)
    default_tier = fields.get("default_tier", defaults.default_tier)
    if order and default_tier not in order:
        given = "default_tier" in fields
        reason = (
            f"must be one of {', '.join(order)}"
            if given
            else (f"required: the default {default_tier!r} is not in routing.tier_order")
        )
        issues.error("routing.default_tier", reason)
    return order


def _references(
    fields: Mapping[str, Any], table: Mapping[str, Any], virtual: set[str]
) -> Iterator[tuple[str, str]]:
    """(key path, model name) for every model the routing section names."""
    for key in _SINGLE_REFS:
        if key in fields:
            yield cf.join("routing", key), fields[key]
    for i, name in enumerate(fields.get("fallback_chain", ())):
        yield f"routing.fallback_chain[{i}]", name
    for tier, names in fields.get("tiers", {}).items():
        tpath = cf.join("routing.tiers", tier)
        single = isinstance(table["tiers"][tier], str)
        for i, name in enumerate(names):
            yield (tpath if single else f"{tpath}[{i}]"), name
    for i, rule in enumerate(fields.get("rules", ())):
        # [[routing.rules]] name a model or a chain; the router checks the rest.
        if isinstance(rule.get("model"), str):
            yield f"routing.rules[{i}].model", rule["model"]
        chain = rule.get("chain")
        for j, name in enumerate(chain if isinstance(chain, list) else ()):
            if isinstance(name, str):
                yield f"routing.rules[{i}].chain[{j}]", name
    if "aliases" in fields:
        raw = table["aliases"]
        for i, (glob, target) in enumerate(fields["aliases"]):
            if target not in virtual:
                path = (
                    cf.join("routing.aliases", glob)
                    if isinstance(raw, dict)
                    else (f"routing.aliases[{i}].target")
                )
                yield path, target


def _derive_default(fields: Mapping[str, Any], models: Mapping[str, ModelConfig]) -> str | None:
    tier = fields.get("default_tier", RoutingConfig().default_tier)
    for name in (*fields.get("tiers", {}).get(tier, ()), *fields.get("fallback_chain", ())):
        if name in models:
            return str(name)
    return next(iter(models)) if len(models) == 1 else None


def _tiers(value: Any, path: str, issues: Issues) -> Any:
    """tier -> model names; a single string is a one-model tier."""
    table = cf.expect_table(value, path, issues)
    if table is None:
        return INVALID
    out: dict[str, tuple[str, ...]] = {}
    for tier, names in table.items():
        tpath = cf.join(path, tier)
        names = [names] if isinstance(names, str) else names
        converted = cf.convert(names, tuple[str, ...], tpath, issues)
        if converted is INVALID:
            return INVALID
        if not converted:
            issues.error(tpath, "must name at least one model")
            return INVALID
        out[tier] = converted
    return out


def _aliases(value: Any, path: str, issues: Issues) -> Any:
    """A table ``glob = target`` or ``[[routing.aliases]] match/target``, order kept."""
    pairs: list[tuple[Any, Any]] = []
    if isinstance(value, dict):
        pairs = list(value.items())
        paths = [cf.join(path, glob) for glob in value]
    elif isinstance(value, list):
        paths = []
        for i, item in enumerate(value):
            ipath = f"{path}[{i}]"
            entry = cf.expect_table(item, ipath, issues)
            if entry is None:
                return INVALID
            cf.unknown_keys(entry, _ALIAS_KEYS, ipath, issues)
            missing = [k for k in _ALIAS_KEYS if k not in entry]
            for key in missing:
                issues.error(cf.join(ipath, key), "required")
            if missing:
                return INVALID
            glob = cf.convert(entry["match"], str, cf.join(ipath, "match"), issues)
            target = cf.convert(entry["target"], str, cf.join(ipath, "target"), issues)
            if glob is INVALID or target is INVALID:
                return INVALID
            pairs.append((glob, target))
            paths.append(ipath)
    else:
        issues.error(path, f"expected a table or an array of tables, got {cf.toml_type(value)}")
        return INVALID
    return _string_pairs(pairs, paths, issues)


def _path_tags(value: Any, path: str, issues: Issues) -> Any:
    """A table ``glob = tag``, order kept."""
    table = cf.expect_table(value, path, issues)
    if table is None:
        return INVALID
    return _string_pairs(list(table.items()), [cf.join(path, k) for k in table], issues)


def _string_pairs(pairs: list[tuple[Any, Any]], paths: list[str], issues: Issues) -> Any:
    ok = True
    for (key, value), path in zip(pairs, paths, strict=True):
        if not isinstance(key, str) or not key:
            issues.error(path, "the pattern must be a non-empty string")
            ok = False
        if not isinstance(value, str) or not value:
            issues.error(path, f"expected a non-empty string, got {cf.toml_type(value)}")
            ok = False
    return tuple(pairs) if ok else INVALID
