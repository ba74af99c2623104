"""The router: ``route(protocol, body, headers) -> RoutePlan`` and ``observe(plan, exchange)``.

Per request, in order: read the client's model name (virtual, configured,
alias), identify session and harness, decide whether this is the primary
agent, a subagent or a background request, scan the messages the session has
not seen yet (``scan``), classify the current human turn once (heuristic,
then phase, then a cached LLM answer), ``decide``, then turn the decision into
ordered candidates: the tier's ranked models that can serve the request
(``fit``), a different writer for reviews (``review_strategy = "alternate"``),
the warm-cache model when it is cheaper (``keep_warm``), then the fallback
chain. The body is rewritten only to remove directives (the same way every
time) and to append a profile's system addendum if configured. In shadow mode
(``routing.mode = "shadow"``) the plan records the decision but sends the
request to the model the client asked for, body untouched.

Work per request is bounded by the messages not yet seen plus a constant;
nothing here does I/O except the session store (memory, or Redis).
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Mapping
from fnmatch import fnmatchcase
from typing import Any

from sidecar.catalog import Catalog, default_catalog
from sidecar.config import Config, ModelConfig
from sidecar.errors import InvalidRequest, NotFound, TierlineError
from sidecar.exchange import Exchange
from sidecar.protocols.conversation import Conversation
from sidecar.routing import rewrite
from sidecar.routing.agents import AgentRole, detect_role, system_role
from sidecar.routing.catalog import TierBuilder, TierTable, rank_key
from sidecar.routing.classifier import PROFILE_TIER, Classification, TurnActivity, classify_text
from sidecar.routing.decide import Decision, Facts, decide
from sidecar.routing.fit import fit, keep_warm, needs_of
from sidecar.routing.llm_classifier import Ask, LlmClassifier, message_key
from sidecar.routing.plan import RoutePlan
from sidecar.routing.scan import scan, tool_kind, tool_paths
from sidecar.routing.settings import parse_classifier, parse_profiles, parse_rules
from sidecar.sessions.identity import identify, lower_headers
from sidecar.sessions.state import SessionState, SessionStore, build_store

_log = logging.getLogger("tierline.routing")
MAX_TIER_CANDIDATES = 4  # the tier's first choices; the fallback chain follows


def _profile_tiers(order: tuple[str, ...], overrides: Mapping[str, str | None]) -> dict[str, str]:
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


class Router:
    def __init__(
        self,
        config: Config,
        *,
        catalog: Catalog | None = None,
        store: SessionStore | None = None,
        llm_ask: Ask | None = None,
        clock: Callable[[], float] = time.time,
        tier_lock: str | None = None,
    ) -> None:
        routing = config.routing
        self._config = config
        # Process-wide tier lock (TIERLINE_TIER, set by the chart's tierline.io/tier
        # annotation): acts as an x-tierline-tier header on requests that carry none.
        self._tier_lock = tier_lock or None
        self._builder = TierBuilder(config, catalog or default_catalog())
        self.table: TierTable = self._builder.build()
        self._settings = parse_classifier(routing.classifier)
        self._rules = parse_rules(routing.rules)
        self._profiles = parse_profiles(routing.profiles)
        st = config.state
        if store is None:  # (an empty MemoryStore is falsy: test for None)
            store = build_store(st.backend, st.redis_url, st.max_sessions, st.ttl_seconds)
        self._store = store
        self._clock = clock
        order = self.table.order or ("reasoning", "coding", "quick")
        self._order = order
        self._profile_tier = _profile_tiers(order, {p: s.tier for p, s in self._profiles.items()})
        self._fallbacks = self._resolve_all(routing.fallback_chain)
        self._model_names = frozenset(config.models)
        self.llm = self._llm(llm_ask)
        self._roles: dict[str, AgentRole | None] = {}

    # -- construction helpers -------------------------------------------------

    def _resolve_all(self, refs: tuple[str, ...]) -> tuple[ModelConfig, ...]:
        found = (self._builder.resolve(r, self.table.available) for r in refs)
        return tuple(m for m in found if m is not None)

    def _llm(self, ask: Ask | None) -> LlmClassifier | None:
        s = self._settings
        if not s.llm or ask is None:
            return None
        quick = self.table.candidates.get(self._profile_tier["assistant"], ())
        allowed = [m for m in quick if not s.providers or m.provider in s.providers]
        priced = sorted(
            allowed, key=lambda m: m.prices.input if m.prices.input is not None else 1e9
        )
        if not priced:
            return None
        return LlmClassifier(
            ask, priced[0], timeout=s.timeout, max_chars=s.max_chars, cache_size=s.cache_size
        )

    def _system_role(self, head: str) -> AgentRole | None:
        """``system_role`` memoized by system-prompt head (a few distinct prompts per harness)."""
        try:
            return self._roles[head]
        except KeyError:
            pass
        if len(self._roles) >= 256:  # bounded: prompts come from clients
            self._roles.clear()
        found = self._roles[head] = system_role(head)
        return found

    def visible_models(self) -> list[str]:
        return ["auto", *self._order, *self._config.models]

    def close(self) -> None:
        self._store.close()

    # -- the two seam methods -------------------------------------------------

    def route(
        self, protocol: str, body: Mapping[str, Any], headers: Mapping[str, str]
    ) -> RoutePlan:
        """The plan for one request (see the module docstring). Raises NotFound/InvalidRequest.

        A bug in the routing logic must not fail the request: any other exception is
        logged and the request goes to the default model and the fallback chain.
        """
        try:
            return self._route(protocol, body, headers)
        except TierlineError:
            raise
        except Exception:
            _log.exception("routing failed; sending the request to the default model")
            return self._safe_plan(body)

    def _safe_plan(self, body: Mapping[str, Any]) -> RoutePlan:
        requested = str(body.get("model"))
        default = self._config.routing.default_model
        first = self.table.available.get(default) if default else None
        if first is None:
            tier = self.table.candidates.get(self._config.routing.default_tier, ())
            first = tier[0] if tier else None
        return RoutePlan(
            requested_model=requested,
            candidates=self._with_fallbacks([first] if first else []),
            tier=self._config.routing.default_tier,
            method="static",
            reason="routing failed (see the log); default model",
        )

    def _route(
        self, protocol: str, body: Mapping[str, Any], headers: Mapping[str, str]
    ) -> RoutePlan:
        requested = body.get("model")
        if not isinstance(requested, str) or not requested:
            raise InvalidRequest(
                "`model` is required and must be a non-empty string", param="model"
            )
        named, via = self._named(requested)
        h = lower_headers(headers)
        conv = Conversation.from_body(protocol, body)  # type: ignore[arg-type]
        ident = identify(body, h, conv)
        max_out = body.get("max_tokens")
        max_out = max_out if isinstance(max_out, int) else None
        role = detect_role(ident.harness, requested, h, conv, max_out, self._system_role)
        background = role.kind == "background"
        state = (None if background else self._store.get(ident.thread)) or SessionState()
        scan(conv, state, self._config.routing.path_tags)
        verdict = self._verdict(conv, state)
        tags = self._tags(h, state)
        tokens = state.tokens + self._fixed_tokens(conv, body)
        facts = Facts(
            order=self._order,
            profile_tier=self._profile_tier,
            models=self._model_names,
            header_tier=h.get("x-tierline-tier") or self._tier_lock,
            directive_profile=state.directive_profile or None,
            lock=state.lock or None,
            named=named,
            named_via=via,
            rules=self._rules,
            tags=tags,
            heavy_tags=self._config.routing.heavy_tags,
            heavy_model=self._config.routing.heavy_model,
            ui_tags=self._config.routing.ui_tags,
            ui_model=self._config.routing.ui_model,
            role=role,
            harness=ident.harness,
            headers=h,
            tokens=tokens,
            verdict=verdict,
            session_tier=state.tier or None,
            sticky_threshold=self._settings.sticky_threshold,
        )
        decision = decide(facts)
        needs = needs_of(protocol, body, tokens, state.images)
        tier, candidates, notes = self._candidates(decision, needs, state)
        plan = RoutePlan(
            requested_model=requested,
            candidates=candidates,
            tier=tier,
            profile=decision.profile,
            method=decision.method,
            confidence=round(decision.confidence, 3),
            tags=tags,
            reason="; ".join(p for p in (decision.why, *notes) if p),
            body=None,
            override=decision.override,
            session_id=ident.session_id,
            harness=ident.harness,
            subagent=role.subagent,
            state_key="" if background else ident.thread,
        )
        plan = self._finish(plan, protocol, body, state, requested)
        if not background:
            state.tier = tier or state.tier
            self._store.put(ident.thread, state)
        return plan

    def observe(self, plan: RoutePlan, exchange: Exchange) -> None:
        """Remember which model answered (cache warmth) and which files it wrote."""
        if not plan.state_key or exchange.model is None:
            return
        state = self._store.get(plan.state_key)
        if state is None:
            return
        state.model = exchange.model
        state.last_at = self._clock()
        state.last_prompt_tokens = exchange.usage.prompt_tokens or state.last_prompt_tokens
        for call in exchange.tool_calls:
            if tool_kind(call.name) == "edit":
                for path in tool_paths(call.name, call.arguments):
                    state.add_writer(path, exchange.model)
        self._store.put(plan.state_key, state)

    # -- steps ------------------------------------------------------------------

    def _named(self, requested: str) -> tuple[tuple[str, str] | None, str]:
        """What the client's model name asks for: (kind, value) or None for auto."""
        if requested == "auto":
            return None, ""
        if requested in self._order:
            return ("tier", requested), ""
        if requested in self._config.models:
            return ("model", requested), ""
        prefix, colon, rest = requested.partition(":")
        if colon and rest and prefix in self._config.providers:
            return ("model", requested), ""
        for glob, target in self._config.routing.aliases:
            if fnmatchcase(requested, glob):
                if target == "auto":
                    return None, ""
                if target in self._order:
                    return ("tier", target), glob
                if target in self.table.available or ":" in target:
                    return ("model", target), glob
        raise NotFound(
            f"model {requested!r} is not configured and matches no alias; "
            f"available models: {', '.join(self.visible_models())}",
            param="model",
            code="model_not_found",
        )

    def _verdict(self, conv: Conversation, state: SessionState) -> Classification:
        """The classification of the current human turn (computed once per turn)."""
        if not state.profile:
            text = conv.message(state.human_index).text if state.human_index >= 0 else ""
            base = classify_text(rewrite.strip_for_classifier(text))
            state.profile, state.confidence, state.method = (
                base.profile,
                base.confidence,
                base.method,
            )
        verdict = Classification(state.profile, state.confidence, state.method or "heuristic")
        if self.llm is not None and verdict.method == "heuristic":
            verdict = self._ask_llm(conv, state, verdict)
        activity = TurnActivity(
            edits=state.edits,
            reads=state.reads,
            runs=state.runs,
            failures=state.failures,
            consecutive_failures=state.consecutive_failures,
            last_failed=state.last_failed,
            messages=len(conv),
        )
        from sidecar.routing.classifier import phase

        return phase(activity, verdict)

    def _ask_llm(
        self, conv: Conversation, state: SessionState, v: Classification
    ) -> Classification:
        assert self.llm is not None
        if v.confidence >= self._settings.threshold or state.human_index < 0:
            return v
        text = conv.message(state.human_index).text
        key = message_key(text[: self._settings.max_chars])
        cached = self.llm.cached(key)
        if cached is not None:
            state.profile, state.confidence, state.method = cached.profile, cached.confidence, "llm"
            return cached
        self.llm.request(key, text)
        return v

    def _tags(self, h: Mapping[str, str], state: SessionState) -> tuple[str, ...]:
        header = [t.strip().lower() for t in h.get("x-tierline-tags", "").split(",") if t.strip()]
        return tuple(dict.fromkeys([*header, *state.directive_tags, *state.turn_tags]))

    def _fixed_tokens(self, conv: Conversation, body: Mapping[str, Any]) -> int:
        """System prompt and tool schemas, estimated from sizes (cheap: no tokenising)."""
        tools = body.get("tools")
        n_tools = len(tools) if isinstance(tools, list) else 0
        return len(conv.system) // 3 + 400 * n_tools

    def _candidates(
        self, d: Decision, needs: Any, state: SessionState
    ) -> tuple[str | None, tuple[ModelConfig, ...], list[str]]:
        notes: list[str] = []
        if d.model or d.chain:
            refs = (d.model,) if d.model else d.chain
            chosen = list(self._resolve_all(tuple(r for r in refs if r)))
            tier = d.tier or (self._tier_of(chosen[0]) if chosen else None)
            return tier, self._with_fallbacks(chosen), notes
        tier = d.tier or self._config.routing.default_tier
        tier, cands, note = fit(
            tier, self._order, self.table.candidates, needs, MAX_TIER_CANDIDATES
        )
        if note:
            notes.append(note)
        if d.profile == "reviewer" and self._config.routing.review_strategy == "alternate":
            cands, note = rewrite.alternate_reviewer(cands, state.writers, state.turn_paths)
            if note:
                notes.append(note)
        idle = self._clock() - state.last_at if state.last_at else 1e9
        cands, note = keep_warm(cands, state.model, state.last_prompt_tokens, idle, needs.tokens)
        if note:
            notes.append(note)
        return tier, self._with_fallbacks(cands[:MAX_TIER_CANDIDATES]), notes

    def _tier_of(self, m: ModelConfig) -> str:
        """The tier a model chosen outright belongs to (for headers and metrics)."""
        best: tuple[int, int] | None = None  # (position in the tier, tier index)
        for t_index, tier in enumerate(self._order):
            for pos, c in enumerate(self.table.candidates.get(tier, ())):
                if c.name == m.name or (c.provider, c.upstream) == (m.provider, m.upstream):
                    best = min(best or (pos, t_index), (pos, t_index))
                    break
        if best is not None:
            return self._order[best[1]]  # the tier that ranks it highest
        entry = self.table.entries.get(m.name) or self._builder.entry_for(m)
        if entry is not None:
            for tier in self._order:
                if rank_key(tier, self._order) in entry.ranks:
                    return tier
        return self._order[0] if m.reasoning else self._config.routing.default_tier

    def _with_fallbacks(self, chosen: list[ModelConfig]) -> tuple[ModelConfig, ...]:
        out: dict[str, ModelConfig] = {}
        for m in (*chosen, *self._fallbacks):
            out.setdefault(m.name, m)
        if not out and self._config.routing.default_model:
            default = self.table.available.get(self._config.routing.default_model)
            if default is not None:
                out[default.name] = default
        return tuple(out.values())

    def _finish(
        self,
        plan: RoutePlan,
        protocol: str,
        body: Mapping[str, Any],
        state: SessionState,
        requested: str,
    ) -> RoutePlan:
        if self._config.routing.mode == "shadow":
            return rewrite.shadow(plan, self._asked(requested))
        addendum = ""
        if plan.profile and plan.profile in self._profiles:
            addendum = self._profiles[plan.profile].system_addendum
        new_body = rewrite.rewrite_body(protocol, body, state.directive_idx, addendum)
        if new_body is None:
            return plan
        from dataclasses import replace

        return replace(plan, body=new_body)

    def _asked(self, requested: str) -> tuple[ModelConfig, ...]:
        """Shadow mode: what the client asked for, as the static router would send it."""
        found = self._builder.resolve(requested, self.table.available)
        if found is None:
            default = self._config.routing.default_model
            found = self.table.available.get(default) if default else None
        return self._with_fallbacks([found] if found else [])


def build_router(
    config: Config,
    get_session: Callable[[], Any] | None = None,
    env: Mapping[str, str] | None = None,
) -> Router:
    """The router for an app: the LLM classifier (if enabled) calls out through the
    app's upstream ClientSession, looked up when a classification runs. ``TIERLINE_TIER``
    in ``env`` (default ``os.environ``) locks every request without a tier header."""
    from sidecar.routing.llm_classifier import http_ask

    ask = http_ask(get_session, dict(config.providers)) if get_session is not None else None
    lock = (os.environ if env is None else env).get("TIERLINE_TIER", "").strip() or None
    return Router(config, llm_ask=ask, tier_lock=lock)
