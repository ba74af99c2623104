"""Baseline cost: what the same tokens would have cost on the baseline model.

The baseline is ``routing.baseline_model`` when set (a configured model name,
a seed-style ``provider:upstream`` reference, a catalog model, or a bare model
id genai-prices knows); otherwise the top-ranked reasoning model the router's catalog names,
when one is given; otherwise the most expensive priced configured model.
Savings = baseline - cost; the same cache split is priced on both sides.

Pure: no I/O, no aiohttp.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

from sidecar.catalog import default_catalog, lookup_model
from sidecar.config import Config, ModelConfig
from sidecar.exchange import Usage
from sidecar.ledger.pricing import UNPRICED, UNPRICED_ESTIMATED, Cost, Pricer

# A reference request for ranking models by price: a typical agent turn is
# prompt-heavy, so input weighs more than output.
_REFERENCE = Usage(input_tokens=3_000_000, output_tokens=1_000_000)


class Savings(NamedTuple):
    """Cost against the baseline; in shadow mode also against the router's choice
    (``shadow``: the same usage priced on ``shadow_model``, which was not called).
    A NamedTuple: built once per request (positionally)."""

    cost: Cost
    baseline: Cost
    baseline_model: str | None
    shadow: Cost | None = None
    shadow_model: str | None = None

    @property
    def usd(self) -> float | None:
        """Baseline minus cost; None when either side is unpriced."""
        if self.cost.usd is None or self.baseline.usd is None:
            return None
        return self.baseline.usd - self.cost.usd

    @property
    def shadow_usd(self) -> float | None:
        """Projected savings of routing: cost minus the shadow cost; None when unpriced."""
        if self.cost.usd is None or self.shadow is None or self.shadow.usd is None:
            return None
        return self.cost.usd - self.shadow.usd


def resolve_model_ref(config: Config, ref: str) -> ModelConfig:
    """A model named in config: configured name, ``provider:upstream``, a catalog
    model (with the catalog's prices, ``sidecar.catalog.lookup_model``) or a bare id."""
    if ref in config.models:
        return config.models[ref]
    provider, sep, upstream = ref.partition(":")
    if sep and provider in config.providers:
        for model in config.models.values():
            if model.provider == provider and model.upstream == upstream:
                return model
    found = lookup_model(default_catalog(), ref, config.providers)
    if found is not None:
        return found
    if sep and provider in config.providers:
        return ModelConfig(name=ref, provider=provider, upstream=upstream)
    return ModelConfig(name=ref, provider="", upstream=ref)


def most_expensive(models: Iterable[ModelConfig], pricer: Pricer) -> ModelConfig | None:
    """The priced model with the highest reference-request cost (ties: first)."""
    best: tuple[float, ModelConfig] | None = None
    for model in models:
        usd = pricer.price(model, _REFERENCE).usd
        if usd is not None and (best is None or usd > best[0]):
            best = (usd, model)
    return best[1] if best else None


def choose_baseline(
    config: Config, pricer: Pricer, catalog_top: ModelConfig | None = None
) -> ModelConfig | None:
    """The baseline model for this config (see module docstring for the order)."""
    if config.routing.baseline_model:
        return resolve_model_ref(config, config.routing.baseline_model)
    if catalog_top is not None:
        return catalog_top
    return most_expensive(config.models.values(), pricer)


class Baseline:
    """Prices usage on the chosen baseline model; owns nothing but the choice."""

    def __init__(self, model: ModelConfig | None, pricer: Pricer) -> None:
        self.model = model
        self._pricer = pricer

    def savings(self, cost: Cost, usage: Usage) -> Savings:
        if self.model is None:
            return Savings(cost, UNPRICED_ESTIMATED if usage.estimated else UNPRICED, None)
        baseline = self._pricer.price(self.model, usage)
        return Savings(cost, baseline, self.model.name)
