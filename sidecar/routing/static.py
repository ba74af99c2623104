"""The static router: the model asked for, else an alias, then the fallback chain.

Resolution of the name a client sends (``body["model"]``):

1. a configured model (``[models.NAME]``, including implicit ``provider:id`` ones)
   is used as asked; a ``provider:id`` for a configured provider is accepted too;
2. ``auto`` and tier names mean ``routing.default_model``;
3. otherwise ``routing.aliases`` (glob -> target, first match wins); a target
   that is ``auto`` or a tier name means ``routing.default_model``;
4. nothing matched: ``NotFound`` listing the models a client may ask for.

Candidates are the chosen model then ``routing.fallback_chain``, deduplicated.
Stateless and pure: ``observe`` does nothing. The router helper's engine
replaces this class behind the same two methods.
"""

from __future__ import annotations

from collections.abc import Mapping
from fnmatch import fnmatchcase
from typing import Any

from sidecar.config import Config, ModelConfig
from sidecar.errors import InvalidRequest, NotFound
from sidecar.exchange import Exchange
from sidecar.routing.plan import RoutePlan


class StaticRouter:
    def __init__(self, config: Config) -> None:
        self._config = config
        routing = config.routing
        self._virtual = frozenset(("auto", *routing.tier_order, *routing.tiers))
        self._fallbacks = tuple(
            config.models[name] for name in routing.fallback_chain if name in config.models
        )
        self._cache: dict[str, RoutePlan] = {}
        self.loads = False  # stateless: ``load`` has nothing to do

    def visible_models(self) -> list[str]:
        """Names a client may ask for: virtual ones, then configured models."""
        virtual = [v for v in ("auto", *self._config.routing.tier_order) if v in self._virtual]
        return virtual + list(self._config.models)

    def route(
        self,
        protocol: str,
        body: Mapping[str, Any],
        headers: Mapping[str, str],
        *,
        peek: bool = False,
    ) -> RoutePlan:
        """The plan for ``body["model"]``; raises NotFound for a name nothing matches.
        Stateless, so ``peek`` changes nothing."""
        requested = body.get("model")
        if not isinstance(requested, str) or not requested:
            raise InvalidRequest("`model`: required, a non-empty string", param="model")
        plan = self._cache.get(requested)
        if plan is None:
            plan = self._plan(requested)
            if len(self._cache) < 1024:  # bounded: names come from clients
                self._cache[requested] = plan
        return plan

    async def load(
        self,
        protocol: str,
        body: Mapping[str, Any],
        headers: Mapping[str, str],
        *,
        peek: bool = False,
    ) -> None:
        """Stateless: nothing to load."""

    def observe(self, plan: RoutePlan, exchange: Exchange) -> None:
        """Nothing to learn for a static router."""

    def _plan(self, requested: str) -> RoutePlan:
        model, method, reason = self._resolve(requested)
        candidates = (model, *(m for m in self._fallbacks if m.name != model.name))
        tier = requested if requested in self._virtual and requested != "auto" else None
        return RoutePlan(
            requested_model=requested,
            candidates=candidates,
            tier=tier,
            method=method,
            reason=reason,
        )

    def _resolve(self, requested: str) -> tuple[ModelConfig, str, str]:
        models = self._config.models
        if requested in models:
            return models[requested], "explicit", f"{requested} is a configured model"
        implicit = self._implicit(requested)
        if implicit is not None:
            return implicit, "explicit", f"{requested} names a configured provider's model"
        if requested in self._virtual:
            return self._default(requested), "static", f"{requested} -> the default model"
        for glob, target in self._config.routing.aliases:
            if fnmatchcase(requested, glob):
                if target in models:
                    return models[target], "alias", f"{requested} matches alias {glob} -> {target}"
                if target in self._virtual:
                    return (
                        self._default(requested),
                        "alias",
                        (f"{requested} matches alias {glob} -> {target} -> the default model"),
                    )
        raise NotFound(
            f"model {requested!r} is not configured and matches no alias; "
            f"available models: {', '.join(self.visible_models())}",
            param="model",
            code="model_not_found",
        )

    def _implicit(self, requested: str) -> ModelConfig | None:
        prefix, colon, rest = requested.partition(":")
        if colon and rest and prefix in self._config.providers:
            return ModelConfig(name=requested, provider=prefix, upstream=rest)
        return None

    def _default(self, requested: str) -> ModelConfig:
        models = self._config.models
        name = self._config.routing.default_model
        if name and name in models:
            return models[name]
        if models:
            return next(iter(models.values()))
        raise NotFound(f"model {requested!r}: no models are configured", param="model")
