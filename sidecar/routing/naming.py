"""Names: what a client's model name asks for, which tier a profile or a model belongs to.

Pure functions over the config and the tier table; the router calls them once
per request (``named_target``) or once at construction (``profile_tiers``).
"""

from __future__ import annotations

from collections.abc import Mapping
from fnmatch import fnmatchcase

from sidecar.config import Config, ModelConfig
from sidecar.errors import NotFound
from sidecar.routing.catalog import TierBuilder, TierTable, rank_key
from sidecar.routing.classifier import PROFILE_TIER

Named = tuple[str, str] | None  # ("tier" | "model", value), or None for auto


def profile_tiers(order: tuple[str, ...], overrides: Mapping[str, str | None]) -> dict[str, str]:
    """Profile -> tier for these tier names (custom names map by position)."""

    def default(tier: str) -> str:
        if tier in order:
            return tier
        if tier == "reasoning":
            return order[0]
        if tier == "quick":
            return order[-1]
        return order[-2] if len(order) > 1 else order[0]

    out = {p: default(t) for p, t in PROFILE_TIER.items()}
    out.update({p: t for p, t in overrides.items() if t and p in out})
    return out


def named_target(
    requested: str,
    config: Config,
    order: tuple[str, ...],
    available: Mapping[str, ModelConfig],
    visible: list[str],
) -> tuple[Named, str]:
    """What the client's model name asks for, and the alias glob that led there ("" if none).

    Raises ``NotFound`` (listing ``visible``) when nothing matches.
    """
    if requested == "auto":
        return None, ""
    if requested in order:
        return ("tier", requested), ""
    if requested in config.models:
        return ("model", requested), ""
    prefix, colon, rest = requested.partition(":")
    if colon and rest and prefix in config.providers:
        return ("model", requested), ""
    for glob, target in config.routing.aliases:
        if fnmatchcase(requested, glob):
            if target == "auto":
                return None, ""
            if target in order:
                return ("tier", target), glob
            if target in available or ":" in target:
                return ("model", target), glob
    raise NotFound(
        f"model {requested!r} is not configured and matches no alias; "
        f"available models: {', '.join(visible)}",
        param="model",
        code="model_not_found",
    )


def tier_of(
    m: ModelConfig,
    order: tuple[str, ...],
    table: TierTable,
    builder: TierBuilder,
    default_tier: str,
) -> str:
    """The tier a model chosen outright belongs to (for headers and metrics)."""
    best: tuple[int, int] | None = None  # (position in the tier, tier index)
    for t_index, tier in enumerate(order):
        for pos, c in enumerate(table.candidates.get(tier, ())):
            if c.name == m.name or (c.provider, c.upstream) == (m.provider, m.upstream):
                best = min(best or (pos, t_index), (pos, t_index))
                break
    if best is not None:
        return order[best[1]]  # the tier that ranks it highest
    entry = table.entries.get(m.name) or builder.entry_for(m)
    if entry is not None:
        for tier in order:
            if rank_key(tier, order) in entry.ranks:
                return tier
    return order[0] if m.reasoning else default_tier
