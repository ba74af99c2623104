"""A decision turned into the ordered models to try: the tier's ranked models that can
serve the request, the review alternate, the warm-cache model, then the fallback chain.

``Candidates`` holds what the fixed config and tier table imply (each tier's first
choices, the models a tier may keep warm, the fallback chain) and a bounded memo of
models or chains chosen outright; its methods are pure functions of those and their
arguments (the clock aside: idle time for cache awareness).
"""

from __future__ import annotations

from collections.abc import Callable

from sidecar.config import Config, ModelConfig
from sidecar.routing import rewrite
from sidecar.routing.catalog import TierBuilder, TierTable
from sidecar.routing.decide import Decision
from sidecar.routing.fit import Needs, fit, head_of, keep_warm, serves, warm_model
from sidecar.routing.inbound import remember
from sidecar.routing.naming import tier_of
from sidecar.sessions.state import SessionState

MAX_TIER_CANDIDATES = 4  # the tier's first choices; the fallback chain follows


class Candidates:
    def __init__(
        self,
        config: Config,
        builder: TierBuilder,
        table: TierTable,
        order: tuple[str, ...],
        clock: Callable[[], float],
    ) -> None:
        self._config, self._builder, self._table, self._order = config, builder, table, order
        self._clock = clock
        self.fallbacks = self.resolve_all(config.routing.fallback_chain)
        # Memo of a pure function of the fixed config, keyed by what clients send (bounded):
        self._chosen: dict[str | tuple[str, ...], tuple[str | None, tuple[ModelConfig, ...]]] = {}
        strongest = {  # model name -> index of the strongest tier listing it
            m.name: i for i in reversed(range(len(order))) for m in table.candidates[order[i]]
        }
        self._heads = {t: head_of(c, MAX_TIER_CANDIDATES) for t, c in table.candidates.items()}
        self._up_to = {  # tier -> models of that tier or a stronger one (cache awareness)
            t: frozenset(n for n, i in strongest.items() if i <= k) for k, t in enumerate(order)
        }

    def resolve_all(self, refs: tuple[str, ...]) -> tuple[ModelConfig, ...]:
        found = (self._builder.resolve(r, self._table.available) for r in refs)
        return tuple(m for m in found if m is not None)

    def outright(self, refs: str | tuple[str, ...]) -> tuple[str | None, tuple[ModelConfig, ...]]:
        """(tier of the first, candidates with the fallback chain) for a model (``refs``: its
        name) or a chain chosen outright; memoized (a name resolves to one model; the table
        is fixed)."""
        found = self._chosen.get(refs)
        if found is None:
            names = (refs,) if isinstance(refs, str) else tuple(r for r in refs if r)
            chosen = list(self.resolve_all(names))
            default = self._config.routing.default_tier
            tier = (
                tier_of(chosen[0], self._order, self._table, self._builder, default)
                if chosen
                else None
            )
            found = tier, self.with_fallbacks(chosen)
            remember(self._chosen, refs, found)  # bounded: "provider:model" names from clients
        return found

    def for_decision(
        self, d: Decision, needs: Needs, state: SessionState
    ) -> tuple[str | None, tuple[ModelConfig, ...], list[str]]:
        """(tier, candidates, notes) for a tier decision and the request's needs."""
        notes: list[str] = []
        routing = self._config.routing
        tier = d.tier or routing.default_tier
        clamp = routing.clamp_max_tokens
        head = self._heads.get(tier)
        if head is not None and serves(head, needs, clamp):  # the common case: all fit
            cands: list[ModelConfig] = list(head.models)
        else:
            tier, cands, note = fit(
                tier, self._order, self._table.candidates, needs, MAX_TIER_CANDIDATES, clamp
            )
            if note:
                notes.append(note)
        if d.profile == "reviewer" and routing.review_strategy == "alternate":
            cands, note = rewrite.alternate_reviewer(cands, state.writers, state.turn_paths)
            if note:
                notes.append(note)
        idle = self._clock() - state.last_at if state.last_at else 1e9
        allowed = self._up_to.get(tier, frozenset())  # never a weaker tier for cache reasons
        warm = warm_model(state.model, cands, self._table.available, allowed, needs, clamp)
        cands, note = keep_warm(cands, warm, state.last_prompt_tokens, idle, needs.tokens)
        if note:
            notes.append(note)
        return tier, self.with_fallbacks(cands[:MAX_TIER_CANDIDATES]), notes

    def with_fallbacks(self, chosen: list[ModelConfig]) -> tuple[ModelConfig, ...]:
        """``chosen`` then the fallback chain, each model once; the default model when
        both are empty."""
        out: dict[str, ModelConfig] = {}
        for m in (*chosen, *self.fallbacks):
            out.setdefault(m.name, m)
        if not out and self._config.routing.default_model:
            default = self._table.available.get(self._config.routing.default_model)
            if default is not None:
                out[default.name] = default
        return tuple(out.values())

    def asked(self, requested: str) -> tuple[ModelConfig, ...]:
        """Shadow mode: what the client asked for, as the static router would send it."""
        found = self._builder.resolve(requested, self._table.available)
        if found is None:
            default = self._config.routing.default_model
            found = self._table.available.get(default) if default else None
        return self.with_fallbacks([found] if found else [])
