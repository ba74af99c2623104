"""The metric label sets of one kind of request, resolved once and reused.

Most requests of a running sidecar share a handful of label combinations
(tier, model, provider, outcome, route). Resolving them per request (a
``BoundedLabel`` call per label, a tuple per instrument) cost more than the
counter updates themselves; ``Shapes`` resolves them once per distinct
combination of the raw values and hands back a frozen ``Shape``.

Contract: the labels a ``Shape`` carries are exactly what resolving each
value through the recorder's ``BoundedLabel``s gives (those are monotonic: a
value once passed or mapped to "other" keeps its answer), so caching changes
no series. The cache is bounded: past ``limit`` shapes it starts over, so
random model names or tags cannot grow it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sidecar.exchange import Exchange
from sidecar.routing.plan import RoutePlan
from sidecar.telemetry import names

Key = tuple[str, ...]
Label = Callable[[str | None], str]

# The token kinds in tierline.token.usage order, and their claude_code.* names.
TOKEN_KINDS = ("input", "output", "cache_read", "cache_write")


@dataclass(frozen=True, slots=True)
class Labels:
    """The recorder's bounded label resolvers, one per label kind."""

    model: Label
    provider: Label
    tier: Label
    profile: Label
    method: Label
    tag: Label
    reason: Label


@dataclass(frozen=True, slots=True)
class Shape:
    """Resolved label tuples for every per-request series (see ``Instruments``)."""

    requests: Key  # (tier, model, provider, outcome)
    base: Key  # (model, provider, tier): cost, baseline, shadow
    tokens: tuple[Key, Key, Key, Key]  # base + type, in TOKEN_KINDS order
    unpriced: Key  # (model, provider)
    route_decision: Key | None  # (tier, method, profile); None when not routed
    route_override: Key | None  # (kind,)
    route_tags: tuple[Key, ...]
    exhausted: Key  # (tier,)
    gen_ai: Key  # operation, provider, request model, response model, error type
    gen_ai_tokens: tuple[Key, Key]  # without error type, + input / output
    cc_tokens: tuple[Key, Key, Key, Key]  # (model, query_source, cc type)
    cc_base: Key  # (model, query_source)


def shape_key(ex: Exchange, plan: RoutePlan, routed: bool, outcome: str) -> tuple[Any, ...]:
    """The raw values a ``Shape`` is resolved from (hashable; cheap to build)."""
    return (
        plan.tier, plan.method, plan.profile, plan.override, plan.tags, routed,
        ex.model, ex.provider, ex.upstream_model, ex.error_type, ex.subagent, outcome,
        plan.candidates[0].upstream if plan.candidates else None,
    )  # fmt: skip


def resolve(key: tuple[Any, ...], labels: Labels) -> Shape:
    """Resolve one shape key through the bounded labels (the slow, first-time path)."""
    tier_raw, method, profile, override, tags, routed, model_raw = key[:7]
    provider_raw, upstream, error_type, subagent, outcome, first_upstream = key[7:]
    tier, model, provider = (
        labels.tier(tier_raw),
        labels.model(model_raw),
        labels.provider(provider_raw),
    )
    base = (model, provider, tier)
    requested = upstream or first_upstream
    gen_ai = (
        names.OPERATION_CHAT,
        provider,
        labels.model(requested),
        labels.model(upstream) if upstream else "",
    )
    source = names.CC_QUERY_SUBAGENT if subagent else names.CC_QUERY_MAIN
    cc_base = (labels.model(upstream or model_raw), source)
    return Shape(
        requests=(tier, model, provider, outcome),
        base=base,
        tokens=tuple((*base, kind) for kind in TOKEN_KINDS),  # type: ignore[arg-type]
        unpriced=(model, provider),
        route_decision=(tier, labels.method(method), labels.profile(profile)) if routed else None,
        route_override=(labels.method(override),) if routed and override else None,
        route_tags=tuple((labels.tag(t),) for t in tags) if routed else (),
        exhausted=(tier,),
        gen_ai=(*gen_ai, labels.reason(error_type) if error_type is not None else ""),
        gen_ai_tokens=((*gen_ai, "input"), (*gen_ai, "output")),
        cc_tokens=tuple((*cc_base, names.CC_TOKEN_TYPES[k]) for k in TOKEN_KINDS),  # type: ignore[arg-type]
        cc_base=cc_base,
    )


class Shapes:
    """A bounded cache of resolved shapes (event loop only)."""

    def __init__(self, labels: Labels, limit: int = 4096) -> None:
        self._labels = labels
        self._limit = limit
        self._shapes: dict[tuple[Any, ...], Shape] = {}

    def get(self, key: tuple[Any, ...]) -> Shape:
        shape = self._shapes.get(key)
        if shape is None:
            if len(self._shapes) >= self._limit:
                self._shapes.clear()
            shape = self._shapes[key] = resolve(key, self._labels)
        return shape
