"""Tier tables: which models can serve each tier, ranked, given a config.

A model is *available* when it is configured (``[models.NAME]``) or when it is
in the catalog and one of its upstream providers is configured with keys (or
is keyless on loopback, like a local Ollama). A tier's candidates are
``routing.tiers.<tier>`` when set; otherwise the available models the catalog
ranks for that tier, in rank order, followed by models the catalog does not
know, placed by their reasoning flag and price. The quick tier is ranked by cost
(the issue: "quick by cost"): its candidates are ordered by blended price
(``blended_price``: 3 input : 1 output tokens, USD per million), the catalog's
quick rank only breaking ties. The quality floor is membership: a catalog model
serves quick only when the catalog gives it a quick rank (able to write titles,
summaries, short answers and tool-call plumbing); an unknown model only when it
is not a reasoning model and its blended price is at most $1/M. An unpriced model
comes last. Tier names are configuration:
a custom tier takes the catalog ranking of its position (first = reasoning,
last = quick, others = coding) unless ``routing.tiers`` lists its models.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from sidecar.catalog import Catalog, CatalogEntry, provider_key
from sidecar.catalog import entry_model as _from_entry
from sidecar.config import Config, ModelConfig, Prices, ProviderConfig

CHEAP_BLENDED_USD = 1.0  # $/M (3:1 input:output) below which an unknown model also serves quick
_LOOPBACK = ("127.0.0.1", "localhost", "::1", "[::1]")


def provider_usable(p: ProviderConfig) -> bool:
    """Configured with keys, or a keyless provider on loopback (a local server)."""
    if p.api_keys:
        return True
    host = urlsplit(p.base_url).hostname or ""
    return host in _LOOPBACK or host.startswith("127.")


def blended_price(m: ModelConfig | Prices) -> float | None:
    """USD per million tokens at 3 input : 1 output (a typical agent request mix)."""
    p = m if isinstance(m, Prices) else m.prices
    if p.input is None or p.output is None:
        return None
    return (3 * p.input + p.output) / 4


def rank_key(tier: str, order: tuple[str, ...]) -> str:
    """Which catalog ranking a tier uses."""
    if tier in ("reasoning", "coding", "quick"):
        return tier
    if order and tier == order[0]:
        return "reasoning"
    if order and tier == order[-1]:
        return "quick"
    return "coding"


@dataclass(frozen=True)
class TierTable:
    order: tuple[str, ...]  # strongest first
    candidates: Mapping[str, tuple[ModelConfig, ...]]
    available: Mapping[str, ModelConfig]  # every model the router may send to, by name
    entries: Mapping[str, CatalogEntry]  # model name -> its catalog entry (known models)

    def tier_index(self, tier: str) -> int:
        return self.order.index(tier) if tier in self.order else len(self.order)

    def tiers_of(self, model: str) -> tuple[str, ...]:
        return tuple(t for t in self.order if any(m.name == model for m in self.candidates[t]))


class TierBuilder:
    """Builds a ``TierTable`` and resolves model references for one config."""

    def __init__(self, config: Config, catalog: Catalog) -> None:
        self._config = config
        self._catalog = catalog
        self._keys = {
            name: provider_key(catalog, name, p.base_url)
            for name, p in config.providers.items()
            if provider_usable(p)
        }

    def entry_for(self, m: ModelConfig) -> CatalogEntry | None:
        key = self._keys.get(m.provider)
        entry = self._catalog.by_upstream(key, m.upstream) if key else None
        return entry or self._catalog.get(m.name)

    def _is_reference(self, name: str) -> bool:
        prefix, colon, rest = name.partition(":")
        return bool(colon and rest and prefix in self._config.providers)

    def catalog_model(self, entry: CatalogEntry) -> ModelConfig | None:
        """The entry served by the first configured provider that carries it."""
        for key, upstream in entry.upstream.items():
            for pname, pkey in self._keys.items():
                if pkey == key:
                    return _from_entry(entry, pname, upstream)
        return None

    def available(self) -> tuple[dict[str, ModelConfig], dict[str, CatalogEntry]]:
        models: dict[str, ModelConfig] = {}
        entries: dict[str, CatalogEntry] = {}
        for m in self._config.models.values():
            models[m.name] = m
            if self._is_reference(m.name):
                continue  # a "provider:id" reference: usable by name, not ranked
            entry = self.entry_for(m)
            if entry is not None:
                entries[m.name] = entry
        for entry in self._catalog.entries.values():
            if entry.name in models or any(e is entry for e in entries.values()):
                continue
            found = self.catalog_model(entry)
            if found is not None:
                models[found.name], entries[found.name] = found, entry
        return models, entries

    def resolve(self, ref: str, models: Mapping[str, ModelConfig]) -> ModelConfig | None:
        """A model reference: a name, or ``provider:upstream-id`` for a configured provider."""
        if ref in models:
            return models[ref]
        prefix, colon, rest = ref.partition(":")
        if colon and rest and prefix in self._config.providers:
            key = self._keys.get(prefix)
            entry = self._catalog.by_upstream(key, rest) if key else None
            if entry is not None:
                return _from_entry(entry, prefix, rest)
            return ModelConfig(name=ref, provider=prefix, upstream=rest)
        entry = self._catalog.get(ref)
        return self.catalog_model(entry) if entry is not None else None

    def build(self) -> TierTable:
        routing = self._config.routing
        order = tuple(routing.tier_order) + tuple(
            t for t in routing.tiers if t not in routing.tier_order
        )
        models, entries = self.available()
        candidates: dict[str, tuple[ModelConfig, ...]] = {}
        for tier in order:
            if routing.tiers.get(tier):
                resolved = (self.resolve(r, models) for r in routing.tiers[tier])
                candidates[tier] = tuple(m for m in resolved if m is not None)
            else:
                candidates[tier] = self._ranked(rank_key(tier, order), models, entries)
        for tier_models in candidates.values():
            for m in tier_models:
                models.setdefault(m.name, m)
        return TierTable(order=order, candidates=candidates, available=models, entries=entries)

    def _ranked(
        self, key: str, models: Mapping[str, ModelConfig], entries: Mapping[str, CatalogEntry]
    ) -> tuple[ModelConfig, ...]:
        ranked = sorted(
            (entries[n].ranks[key], n) for n in models if n in entries and key in entries[n].ranks
        )
        out = [models[n] for _, n in ranked]
        unknown = [
            m
            for n, m in models.items()
            if n not in entries and not self._is_reference(n) and _places(m, key)
        ]
        unknown.sort(key=lambda m: blended_price(m) or 0.0, reverse=key == "reasoning")
        if key == "quick":  # by cost: blended price, the catalog rank breaks ties
            return tuple(sorted(out + unknown, key=_quick_order(entries)))
        return tuple(out + unknown)


def quick_key(price: float | None, rank: int | None) -> tuple[float, int]:
    """Sort key of the quick tier: blended price (unpriced last), then catalog rank."""
    return (price if price is not None else float("inf"), rank if rank is not None else 1 << 30)


def _quick_order(entries: Mapping[str, CatalogEntry]) -> Callable[[ModelConfig], tuple[float, int]]:
    def key(m: ModelConfig) -> tuple[float, int]:
        entry = entries.get(m.name)
        return quick_key(blended_price(m), entry.ranks.get("quick") if entry else None)

    return key


def _places(m: ModelConfig, key: str) -> bool:
    """Tier placement of a model the catalog does not know: reasoning flag and price."""
    price = blended_price(m)
    if key == "reasoning":
        return m.reasoning
    if key == "quick":
        return not m.reasoning and (price is None or price <= CHEAP_BLENDED_USD)
    return not m.reasoning or price is None or price <= 4 * CHEAP_BLENDED_USD


def catalog_serves(name: str, providers: Mapping[str, ProviderConfig]) -> bool:
    """Is ``name`` a catalog model that one of ``providers`` (usable) carries?"""
    from sidecar.catalog import default_catalog

    catalog = default_catalog()
    entry = catalog.get(name)
    if entry is None:
        return False
    return any(
        provider_usable(p) and provider_key(catalog, pname, p.base_url) in entry.upstream
        for pname, p in providers.items()
    )
