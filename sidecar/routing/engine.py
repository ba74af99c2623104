"""The router: ``route(protocol, body, headers) -> RoutePlan`` and ``observe(plan, exchange)``.

Per request, in order: read the client's model name (virtual, configured,
alias), identify session and harness, decide whether this is the primary
agent, a subagent or a background request, scan the messages the session has
not seen yet (``scan``), classify the current human turn once (heuristic,
then phase, then a cached LLM answer), ``decide``, then turn the decision into
ordered candidates: the tier's ranked models that can serve the request
(``fit``), a different writer for reviews (``review_strategy = "alternate"``),
the warm-cache model when it is cheaper (``keep_warm``), then the fallback
chain (``candidates``). The body is rewritten only to remove directives (the same way every
time) and to append a profile's system addendum if configured. In shadow mode
(``routing.mode = "shadow"``) the plan records the decision but sends the
request to the model the client asked for, body untouched.

With ``routing.clamp_max_tokens``, a candidate whose max output is below the
request's token limit is kept and the plan tells dispatch to clamp the limit
for that candidate (``RoutePlan.body_for``).

Work per request is bounded by the messages not yet seen plus a constant.
``route`` does no I/O: the app awaits ``load`` first (a shared store's bounded
read, skipped for a conversation this replica holds fresh; the LLM classifier's
bounded answer for an unsure turn, ``ahead``) and state is written behind
(``sessions.shared``).
"""

from __future__ import annotations

import copy
import logging
import os
import time
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import replace
from typing import Any

from sidecar.catalog import Catalog, default_catalog
from sidecar.config import Config
from sidecar.errors import InvalidRequest, TierlineError
from sidecar.exchange import Exchange
from sidecar.routing import rewrite, turn
from sidecar.routing.ahead import classify_ahead
from sidecar.routing.candidates import Candidates
from sidecar.routing.catalog import TierBuilder, TierTable
from sidecar.routing.decide import Decision, Facts, Policy, decide, explicit, named_choice
from sidecar.routing.fit import (
    Needs,
    clamps,
    needs_of,
)
from sidecar.routing.inbound import Inbound, InboundReader, remember
from sidecar.routing.llm_classifier import Ask, LlmClassifier, cheapest_classifier
from sidecar.routing.naming import named_target, profile_tiers
from sidecar.routing.plan import RoutePlan
from sidecar.routing.scan import scan, tool_kind, tool_paths
from sidecar.routing.settings import parse_classifier, parse_profiles, parse_rules
from sidecar.sessions.state import SessionState, SessionStore, build_store

_log = logging.getLogger("tierline.routing")


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
        self._inbound = InboundReader(frozenset(key for rule in self._rules for key in rule.header))
        self._profiles = parse_profiles(routing.profiles)
        self._shadow = routing.mode == "shadow"
        self._clamp_on = routing.clamp_max_tokens
        self._path_tags = routing.path_tags
        st = config.state
        if store is None:  # (an empty MemoryStore is falsy: test for None)
            store = build_store(st.backend, st.redis_url, st.max_sessions, st.ttl_seconds)
        self._store = store
        self._clock = clock
        order = self.table.order or ("reasoning", "coding", "quick")
        self._order = order
        self._profile_tier = profile_tiers(order, {p: s.tier for p, s in self._profiles.items()})
        self._cands = Candidates(config, self._builder, self.table, order, clock)
        self.llm = self._llm(llm_ask)
        self._visible = self.visible_models()  # the config is fixed for the router's life
        self._policy = Policy(
            order, self._profile_tier, frozenset(config.models), self._rules,
            routing.heavy_tags, routing.heavy_model, routing.ui_tags, routing.ui_model,
            self._settings.sticky_threshold,
        )  # fmt: skip
        # Memo of a pure function of the fixed config, keyed by what clients send (bounded):
        self._named: dict[str, Decision | None] = {}  # model name -> its ``named_choice``
        # Whether ``load`` has anything to do (a shared store, the LLM classifier):
        self.loads = bool(self._store.shared or self.llm is not None)

    # -- construction helpers -------------------------------------------------

    def _llm(self, ask: Ask | None) -> LlmClassifier | None:
        quick = self.table.candidates.get(self._profile_tier["assistant"], ())
        return cheapest_classifier(ask, quick, self._settings)

    def visible_models(self) -> list[str]:
        return ["auto", *self._order, *self._config.models]

    @property
    def store(self) -> SessionStore:
        """The session store (the app starts and closes it through ``lifespan``)."""
        return self._store

    async def lifespan(self, _app: object) -> AsyncIterator[None]:
        """A ``cleanup_ctx`` entry: the store's connection and write-behind task live
        exactly as long as the app."""
        await self._store.start()
        try:
            yield
        finally:
            if self.llm is not None:
                await self.llm.aclose()
            await self._store.aclose()

    def close(self) -> None:
        self._store.close()

    # -- the seam methods ----------------------------------------------------------

    async def load(
        self,
        protocol: str,
        body: Mapping[str, Any],
        headers: Mapping[str, str],
        *,
        peek: bool = False,
    ) -> None:
        """Before ``route``: the awaited steps, each bounded; never raises (``route``
        reports a malformed request) and changes no session state.

        A shared store (Redis) brings this conversation's state into the local cache
        (a short bounded wait). The LLM classifier, when on and not ``peek``, answers an
        unsure turn now, at most its timeout (``ahead``), so this request uses it; not
        when an explicit choice decides anyway (tier header, a named tier or model, a
        session lock, a directive).
        """
        if not self.loads:
            return
        try:
            req, named = self._read(protocol, body, headers)
        except Exception:
            return
        if self._store.shared:
            await self._store.load(req.ident.thread)
        explicit = named or req.headers.get("x-tierline-tier") or self._tier_lock
        if self.llm is not None and not (peek or explicit or req.background):
            state = self._store.get(req.ident.thread)
            if state is None or not state.lock:  # a lock decides: no need to ask
                await classify_ahead(self.llm, req.conv, state, self._settings)

    def route(
        self,
        protocol: str,
        body: Mapping[str, Any],
        headers: Mapping[str, str],
        *,
        peek: bool = False,
    ) -> RoutePlan:
        """The plan for one request (see the module docstring). Raises NotFound/InvalidRequest.

        ``peek``: decide on a copy of the session state and store nothing (count_tokens
        asks where a request would go without it being a turn of the session).
        A bug in the routing logic must not fail the request: any other exception is
        logged and the request goes to the default model and the fallback chain.
        """
        try:
            return self._route(protocol, body, headers, peek)
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
            candidates=self._cands.with_fallbacks([first] if first else []),
            tier=self._config.routing.default_tier,
            method="static",
            reason="routing failed (see the log); default model",
        )

    def _route(
        self, protocol: str, body: Mapping[str, Any], headers: Mapping[str, str], peek: bool
    ) -> RoutePlan:
        req, named = self._read(protocol, body, headers)
        background = req.role.kind == "background"
        state = (None if background else self._store.get(req.ident.thread)) or SessionState()
        if peek:
            state = copy.deepcopy(state)
        scan(req.conv, state, self._path_tags)
        header_tier = req.headers.get("x-tierline-tier") or self._tier_lock
        directive, lock = state.directive_profile or None, state.lock or None
        tags: tuple[str, ...] = ()
        if state.directive_tags or state.turn_tags or "x-tierline-tags" in req.headers:
            tags = turn.tags(req.headers, state)
        decision = explicit(self._policy, header_tier, directive, lock, named)
        tokens = None
        if decision is None:  # only now are the turn's facts gathered and the turn classified
            tokens = state.tokens + turn.fixed_tokens(req.conv, req.body)
            facts = Facts(
                self._policy,
                header_tier,
                directive,
                lock,
                named,
                tags,
                req.role,
                req.ident.harness,
                req.headers,
                tokens,
                state.tier or None,
            )  # positional: a keyword argument to a class costs ~500 instructions
            decision = decide(facts, turn.verdict(req.conv, state, self.llm, self._settings))
        plan = self._plan(req, decision, tokens, state, tags)
        if self._shadow:  # the decision recorded, the request sent as asked, body untouched
            plan = rewrite.shadow(replace(plan, clamp=()), self._cands.asked(req.requested))
        if not background and not peek:
            state.tier = plan.tier or state.tier
            self._store.put(req.ident.thread, state)
        return plan

    def observe(self, plan: RoutePlan, exchange: Exchange) -> None:
        """Remember which model answered (cache warmth) and which files it wrote."""
        key, model = plan.state_key, exchange.model
        if not key or model is None:
            return
        state = self._store.get(key)
        if state is None:
            return
        state.model = model
        state.last_at = self._clock()
        state.last_prompt_tokens = exchange.usage.prompt_tokens or state.last_prompt_tokens
        for call in exchange.tool_calls:
            if tool_kind(call.name) == "edit":
                for path in tool_paths(call.name, call.arguments):
                    state.add_writer(path, model)
        self._store.put(key, state)

    # -- steps ------------------------------------------------------------------

    def _read(
        self, protocol: str, body: Mapping[str, Any], headers: Mapping[str, str]
    ) -> tuple[Inbound, Decision | None]:
        """The request as the steps need it (session, harness, agent role) and the choice
        its model name makes (``named_choice``)."""
        requested = body.get("model")
        if not isinstance(requested, str) or not requested:
            raise InvalidRequest(
                "`model` is required and must be a non-empty string", param="model"
            )
        try:
            choice = self._named[requested]
        except KeyError:  # (named_target raises NotFound for a name nothing matches)
            named, via = named_target(
                requested, self._config, self._order, self.table.available, self._visible
            )
            choice = named_choice(named, via)
            remember(self._named, requested, choice)
        return self._inbound.read(protocol, body, requested, headers), choice

    def _plan(
        self,
        req: Inbound,
        d: Decision,
        tokens: int | None,
        state: SessionState,
        tags: tuple[str, ...],
    ) -> RoutePlan:
        """The decision turned into ordered candidates, with the reason for each step
        (``tokens``: the request's estimate, None when not worked out yet)."""
        needs = None
        if d.model or d.chain:  # chosen outright: the request's needs do not re-rank it
            tier, candidates = self._cands.outright(d.model or d.chain)
            tier = d.tier or tier
            notes: list[str] = []
        else:
            needs = self._needs(req, tokens, state)
            tier, candidates, notes = self._cands.for_decision(d, needs, state)
        clamp: tuple[tuple[str, int], ...] = ()
        if self._clamp_on:
            needs = needs or self._needs(req, tokens, state)
            clamp = clamps(candidates, needs)
            notes += [f"max tokens {needs.max_output} clamped to {n} for {m}" for m, n in clamp]
        return RoutePlan(  # positional: keyword arguments to a class cost ~500 instructions each
            req.requested,
            candidates,
            tier,
            d.profile,
            d.method,
            1.0 if d.confidence == 1.0 else round(d.confidence, 3),  # (round: ~2.5k instructions)
            tags,
            "; ".join(p for p in (d.why, *notes) if p) if notes else d.why,  # reason
            self._body(req, d.profile, state) if state.directive_idx or d.profile else None,
            None,  # shadow_model
            d.override,
            req.ident.session_id,
            req.ident.harness,
            req.role.kind != "primary",  # subagent
            "" if req.role.kind == "background" else req.ident.thread,  # state_key
            clamp,
        )

    def _needs(self, req: Inbound, tokens: int | None, state: SessionState) -> Needs:
        if tokens is None:
            tokens = state.tokens + turn.fixed_tokens(req.conv, req.body)
        return needs_of(req.protocol, req.body, tokens, state.images)

    def _body(
        self, req: Inbound, profile: str | None, state: SessionState
    ) -> Mapping[str, Any] | None:
        """The body rewrite (directives removed, a profile's addendum), None when none."""
        found = self._profiles.get(profile) if profile else None
        addendum = found.system_addendum if found else ""
        if not addendum and not state.directive_idx:
            return None
        return rewrite.rewrite_body(req.protocol, req.body, state.directive_idx, addendum)


def build_router(
    config: Config,
    get_session: Callable[[], Any] | None = None,
    env: Mapping[str, str] | None = None,
    ask: Ask | None = None,
) -> Router:
    """The router for an app: the LLM classifier (if enabled) calls out through ``ask``
    (the app's, over its key pool and proxies), else through the upstream ClientSession
    ``get_session`` returns when a classification runs. ``TIERLINE_TIER``
    in ``env`` (default ``os.environ``) locks every request without a tier header."""
    if ask is None and get_session is not None:
        from sidecar.upstream.side_call import http_ask

        ask = http_ask(get_session, config.providers)
    lock = (os.environ if env is None else env).get("TIERLINE_TIER", "").strip() or None
    return Router(config, llm_ask=ask, tier_lock=lock)
