"""The shipped model catalog (``models.toml``) as frozen values.

``load_catalog()`` reads the packaged TOML (or a given path), resolves prices
through ``genai-prices`` where the entry names a ``price_ref`` the package knows
(offline; its bundled data), and falls back to the entry's dated catalog
``prices`` otherwise. Loading is done once by the caller (config loader,
router construction) and the result shared; nothing happens at import time.

``merge_model(entry, table)`` gives the field values a ``[models.NAME]`` config
table produces when it merges over the catalog entry of the same name.
"""

from __future__ import annotations

import functools
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from importlib import resources
from typing import Any, Literal

from sidecar.config import ModelConfig, Prices, ProviderConfig

__all__ = [
    "Catalog",
    "CatalogEntry",
    "entry_model",
    "genai_prices_for",
    "load_catalog",
    "lookup_model",
    "merge_model",
]

_PRICE_KEYS = {
    "input": "input_mtok",
    "output": "output_mtok",
    "cache_read": "cache_read_mtok",
    "cache_write": "cache_write_mtok",
    "cache_write_1h": "cache_write_1h_mtok",
}


@dataclass(frozen=True)
class CatalogEntry:
    name: str
    context_window: int = 128_000
    max_output: int | None = None
    vision: bool = True
    tools: bool = True
    thinking: bool = False
    reasoning: bool = False
    token_param: str = "max_tokens"
    upstream: Mapping[str, str] = field(default_factory=dict)  # provider key -> id
    ranks: Mapping[str, int] = field(default_factory=dict)  # tier -> rank, 1 best
    prices: Prices = field(default_factory=Prices)
    price_source: str = "none"  # genai-prices | catalog | none


@dataclass(frozen=True)
class Catalog:
    entries: Mapping[str, CatalogEntry]
    as_of: str = ""
    provider_hosts: Mapping[str, str] = field(default_factory=dict)

    def get(self, name: str) -> CatalogEntry | None:
        return self.entries.get(name)

    def by_upstream(self, provider_key: str, upstream_id: str) -> CatalogEntry | None:
        """The entry whose id at ``provider_key`` is ``upstream_id`` (or whose name is)."""
        for entry in self.entries.values():
            if entry.upstream.get(provider_key) == upstream_id:
                return entry
        return self.entries.get(upstream_id)


def _num(value: Any) -> float | None:
    base = getattr(value, "base", value)  # genai-prices TieredPrices: the base rate
    if isinstance(base, Decimal | int | float):
        return float(base)
    return None


def genai_prices_for(provider_id: str, model_ref: str, as_of: str | None = None) -> Prices | None:
    """Prices for a model known to genai-prices (bundled data, no network), else None."""
    try:
        from genai_prices import Usage, calc_price

        usage = Usage(input_tokens=1, output_tokens=1)
        calc = calc_price(usage, model_ref, provider_id=provider_id)
    except Exception:  # unknown model/provider, or a data problem: fall back to catalog
        return None
    raw = getattr(calc.model_price, "__dict__", {})
    values = {ours: _num(raw.get(theirs)) for ours, theirs in _PRICE_KEYS.items()}
    if values["input"] is None and values["output"] is None:
        return None
    return Prices(as_of=as_of, explicit=frozenset(), **values)


def _catalog_prices(table: Any) -> Prices:
    if not isinstance(table, Mapping):
        return Prices()
    vals = {k: (float(table[k]) if k in table else None) for k in _PRICE_KEYS}
    as_of = table.get("as_of")
    return Prices(as_of=str(as_of) if as_of else None, explicit=frozenset(), **vals)


def _entry(name: str, table: Mapping[str, Any], as_of: str, use_genai: bool) -> CatalogEntry:
    prices: Prices | None = None
    source = "none"
    ref = table.get("price_ref")
    if use_genai and isinstance(ref, list) and len(ref) == 2:
        prices = genai_prices_for(str(ref[0]), str(ref[1]), as_of)
        source = "genai-prices" if prices else source
    if prices is None and "prices" in table:
        prices, source = _catalog_prices(table["prices"]), "catalog"
    return CatalogEntry(
        name=name,
        context_window=int(table.get("context_window", 128_000)),
        max_output=int(table["max_output"]) if "max_output" in table else None,
        vision=bool(table.get("vision", True)),
        tools=bool(table.get("tools", True)),
        thinking=bool(table.get("thinking", False)),
        reasoning=bool(table.get("reasoning", False)),
        token_param=str(table.get("token_param", "max_tokens")),
        upstream={str(k): str(v) for k, v in dict(table.get("upstream", {})).items()},
        ranks={str(k): int(v) for k, v in dict(table.get("ranks", {})).items()},
        prices=prices or Prices(),
        price_source=source,
    )


def load_catalog(path: str | None = None, *, use_genai_prices: bool = True) -> Catalog:
    """Read the catalog TOML (default: the packaged ``models.toml``)."""
    if path is None:
        text = resources.files("sidecar.catalog").joinpath("models.toml").read_text("utf-8")
    else:
        with open(path, encoding="utf-8") as fh:
            text = fh.read()
    data = tomllib.loads(text)
    meta = data.get("meta", {})
    as_of = str(meta.get("as_of", ""))
    entries = {
        name: _entry(name, table, as_of, use_genai_prices)
        for name, table in data.get("models", {}).items()
    }
    hosts = {str(k): str(v) for k, v in dict(meta.get("provider_hosts", {})).items()}
    return Catalog(entries=entries, as_of=as_of, provider_hosts=hosts)


_MERGE_FIELDS = (
    "context_window",
    "max_output",
    "vision",
    "tools",
    "thinking",
    "reasoning",
    "token_param",
)


def merge_model(entry: CatalogEntry, table: Mapping[str, Any]) -> dict[str, Any]:
    """Field values for a ``ModelConfig`` from a catalog entry and a config table.

    The config table wins key by key; prices merge field by field (a config
    that sets only ``input`` keeps the catalog's ``output``). ``provider`` and
    ``upstream`` are not filled here: they depend on which providers exist.
    """
    merged: dict[str, Any] = {k: getattr(entry, k) for k in _MERGE_FIELDS}
    merged.update({k: v for k, v in table.items() if k != "prices"})
    own = table.get("prices")
    if isinstance(own, Mapping):
        base = entry.prices
        merged["prices"] = Prices(
            **{k: own.get(k, getattr(base, k)) for k in (*_PRICE_KEYS, "as_of")},
            explicit=frozenset(k for k in _PRICE_KEYS if own.get(k) is not None),
        )
    else:
        merged["prices"] = entry.prices
    return merged


@functools.cache
def default_catalog() -> Catalog:
    """The packaged catalog, read once per process (immutable packaged data)."""
    return load_catalog()


def provider_key(catalog: Catalog, provider_name: str, base_url: str) -> str | None:
    """Which catalog provider key a configured provider is (by name, then by host)."""
    if provider_name in catalog.provider_hosts:
        return provider_name
    for key, host in catalog.provider_hosts.items():
        if host in base_url:
            return key
    return None


def catalog_defaults(
    name: str, table: Mapping[str, Any], provider_name: str | None, base_url: str | None
) -> dict[str, Any]:
    """Values a ``[models.NAME]`` table inherits from the catalog (its own keys win).

    The entry is found by ``upstream`` id at the table's provider, else by ``name``
    (what is actually called wins over the name it is given: ``[models.kimi-k2]``
    with ``upstream = "moonshotai/kimi-k2.5"`` is kimi-k2.5; the router's tier table
    looks entries up in the same order). Returns {} for a model the catalog does not
    know. ``upstream`` is filled with the catalog's id for that provider when the
    table leaves it out.
    """
    catalog = default_catalog()
    key = provider_key(catalog, provider_name, base_url or "") if provider_name else None
    entry = None
    if key and isinstance(table.get("upstream"), str):
        entry = catalog.by_upstream(key, table["upstream"])
    entry = entry or catalog.get(name)
    if entry is None:
        return {}
    merged = merge_model(entry, table)
    out = {k: v for k, v in merged.items() if k not in table}
    if "prices" in table:
        out["prices"] = merged["prices"]
    if "upstream" not in table and key and key in entry.upstream:
        out["upstream"] = entry.upstream[key]
    out.pop("provider", None)
    return out


def entry_model(entry: CatalogEntry, provider: str, upstream: str) -> ModelConfig:
    """The ``ModelConfig`` a catalog entry stands for at ``provider`` (id ``upstream``)."""
    token_param: Literal["max_tokens", "max_completion_tokens"] = (
        "max_completion_tokens" if entry.token_param == "max_completion_tokens" else "max_tokens"
    )
    return ModelConfig(
        name=entry.name,
        provider=provider,
        upstream=upstream,
        context_window=entry.context_window,
        max_output=entry.max_output,
        prices=entry.prices,
        vision=entry.vision,
        tools=entry.tools,
        thinking=entry.thinking,
        reasoning=entry.reasoning,
        token_param=token_param,
    )


def lookup_model(
    catalog: Catalog, ref: str, providers: Mapping[str, ProviderConfig]
) -> ModelConfig | None:
    """A model named by the catalog though not configured, as a ``ModelConfig``; else None.

    ``ref`` is a catalog name (``claude-opus-4-1``) or ``provider:upstream-id`` for a
    configured provider. The model sits at the first configured provider the entry
    has an id for, else at no provider (``provider=""``, upstream = the name): enough
    to price it (catalog or genai-prices prices), e.g. as ``routing.baseline_model``.
    Pure: reads only its arguments.
    """
    prefix, sep, upstream = ref.partition(":")
    if sep and prefix in providers:
        key = provider_key(catalog, prefix, providers[prefix].base_url)
        found = catalog.by_upstream(key, upstream) if key else catalog.get(upstream)
        return entry_model(found, prefix, upstream) if found else None
    entry = catalog.get(ref)
    if entry is None:
        return None
    for name, p in providers.items():
        key = provider_key(catalog, name, p.base_url)
        if key and key in entry.upstream:
            return entry_model(entry, name, entry.upstream[key])
    return entry_model(entry, "", entry.name)
