"""Cost of one request from the usage the provider reported.

Contract:
- ``Usage.input_tokens`` excludes cached tokens; cache reads, 5-minute and
  1-hour cache writes are priced at their own rates and nothing is counted
  twice (genai-prices wants the *total* prompt as ``input_tokens`` and splits
  the cache parts off itself, so we hand it ``usage.prompt_tokens``).
- Fields the config's own ``[models.X.prices]`` table set (``Prices.explicit``)
  win; the fields it left out come from genai-prices when it knows the model,
  else from the catalog. Without explicit fields genai-prices prices the model
  when it knows it (cache read, both cache-write durations, tiered prices);
  otherwise ``ModelConfig.prices`` (catalog) does. A model none knows is
  *unpriced*: ``usd is None``, never 0. Baseline and shadow use the same path.
- The usage given is what was received: an aborted stream is priced on the
  tokens it produced; a ``Usage(estimated=True)`` gives an estimated cost.

Pure: no I/O, no aiohttp. ``Pricer`` caches lookups in a bounded dict it owns.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Literal, NamedTuple

from sidecar.config import ModelConfig, Prices, ProviderConfig
from sidecar.exchange import Usage
from sidecar.ledger.linear import LinearPrices

CostSource = Literal["genai-prices", "config", "none"]
CostStatus = Literal["priced", "estimated", "unpriced"]

_PER_MILLION = 1_000_000.0
_RATE_KEYS = ("input", "output", "cache_read", "cache_write", "cache_write_1h")
_CACHE_LIMIT = 512


class Cost(NamedTuple):
    """USD for one request; ``usd is None`` means no price is known.

    A NamedTuple (built positionally, twice or more per request) rather than a frozen
    dataclass, whose ``__init__`` sets each field through ``object.__setattr__``.
    """

    usd: float | None
    source: CostSource
    estimated: bool = False

    @property
    def status(self) -> CostStatus:
        if self.usd is None:
            return "unpriced"
        return "estimated" if self.estimated else "priced"


UNPRICED = Cost(None, "none")
UNPRICED_ESTIMATED = Cost(None, "none", True)


def price_from_table(prices: Prices, usage: Usage) -> float | None:
    """USD from a per-million price table, or None when a needed price is missing.

    A missing cache-read or cache-write price falls back to the input price (an
    upper bound: caches are never dearer than input except for writes, and a
    missing write price means the table does not model caching). A 1-hour write
    without its own price uses the 5-minute write price.
    """
    if prices.input is None or prices.output is None:
        if usage.prompt_tokens or usage.output_tokens:
            return None
        return 0.0
    read = prices.cache_read if prices.cache_read is not None else prices.input
    write = prices.cache_write if prices.cache_write is not None else prices.input
    write_1h = prices.cache_write_1h if prices.cache_write_1h is not None else write
    total = (
        usage.input_tokens * prices.input
        + usage.output_tokens * prices.output
        + usage.cache_read_tokens * read
        + usage.cache_write_tokens * write
        + usage.cache_write_1h_tokens * write_1h
    )
    return total / _PER_MILLION


def _exact(table: Any, usage: Usage) -> Decimal:
    """genai-prices' own price of ``usage`` on a price table (a ``ModelPrice``)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return Decimal(table.calc_price(_genai_usage(usage))["total_price"])


def _rate(value: object) -> float | None:
    base = getattr(value, "base", value)  # genai-prices TieredPrices: the base rate
    if isinstance(base, Decimal | int | float):
        return float(base)
    return None


def _genai_usage(usage: Usage) -> object:
    from genai_prices import Usage as GUsage

    writes = usage.cache_write_tokens + usage.cache_write_1h_tokens
    fields: dict[str, int] = {
        "input_tokens": usage.prompt_tokens,
        "output_tokens": usage.output_tokens,
        "cache_read_tokens": usage.cache_read_tokens,
        "cache_write_tokens": writes,
    }
    if usage.cache_write_1h_tokens:
        fields["cache_write_5m_tokens"] = usage.cache_write_tokens
        fields["cache_write_1h_tokens"] = usage.cache_write_1h_tokens
    return GUsage(**fields)


class Pricer:
    """Prices ``Usage`` for a model; knows the configured providers' base URLs.

    ``price`` never raises: any failure inside genai-prices falls back to the
    table and then to unpriced.
    """

    def __init__(self, providers: Mapping[str, ProviderConfig]) -> None:
        self._urls = {name: p.base_url for name, p in providers.items()}
        # (upstream id, provider) -> (model ref, provider url) genai-prices knows, or None.
        self._known: dict[tuple[str, str], tuple[str, str | None] | None] = {}
        # (model ref, provider url) -> (snapshot, its model info, its table if unconditional).
        self._models: dict[tuple[str, str | None], tuple[Any, Any, Any]] = {}
        self._linear = LinearPrices()
        self._genai: tuple[Callable[[], Any], type] | None = None  # (get_snapshot, ModelPrice)
        # (upstream, provider, prices, id(table)) -> (genai table or None, merged Prices).
        self._tables: dict[tuple[str, str, Prices, int], tuple[Any, Prices]] = {}

    def price(self, model: ModelConfig, usage: Usage) -> Cost:
        if model.prices.explicit:
            usd = price_from_table(self._config_table(model), usage)
            if usd is not None:
                return Cost(usd, "config", usage.estimated)
        usd = self._genai_price(model, usage)
        if usd is not None:
            return Cost(usd, "genai-prices", usage.estimated)
        usd = price_from_table(model.prices, usage)
        if usd is not None:
            return Cost(usd, "config", usage.estimated)
        return UNPRICED_ESTIMATED if usage.estimated else UNPRICED  # frozen: shared

    def knows(self, model: ModelConfig) -> bool:
        """True when the model has a price from either source."""
        probe = Usage(input_tokens=1, output_tokens=1)
        return self.price(model, probe).usd is not None

    def _config_table(self, model: ModelConfig) -> Prices:
        """The config's explicit fields over genai-prices' rates over the catalog's; built
        once per (model, prices, genai-prices table in force) and kept (bounded)."""
        table = self._table_for(model)
        key = (model.upstream, model.provider, model.prices, id(table))
        found = self._tables.get(key)
        if found is None or found[0] is not table:  # id() reused by another table
            if len(self._tables) >= _CACHE_LIMIT:
                self._tables.clear()
            found = self._tables[key] = (table, self._merged(model, table))
        return found[1]

    def _table_for(self, model: ModelConfig) -> Any:
        """genai-prices' table in force for the model, or None when it does not know it."""
        key = (model.upstream, model.provider)
        if key not in self._known:
            self._genai_price(model, Usage(input_tokens=1, output_tokens=1))
        ref = self._known.get(key)
        if ref is None:
            return None
        try:
            return self._table(ref[0], ref[1])
        except (LookupError, ValueError, KeyError, TypeError, AttributeError):
            return None

    def _merged(self, model: ModelConfig, table: Any) -> Prices:
        own = model.prices
        known = None
        if table is not None:
            raw = getattr(table, "__dict__", {})
            known = {key: _rate(raw.get(f"{key}_mtok")) for key in _RATE_KEYS}
        values: dict[str, float | None] = {}
        for key in _RATE_KEYS:
            value = getattr(own, key)
            if key not in own.explicit and known is not None and known.get(key) is not None:
                value = known[key]
            values[key] = value
        return Prices(as_of=own.as_of, explicit=own.explicit, **values)

    def _genai_price(self, model: ModelConfig, usage: Usage) -> float | None:
        key = (model.upstream, model.provider)
        if key in self._known:
            ref = self._known[key]
            if ref is None:
                return None
            return self._priced(usage, ref[0], ref[1])
        ref, usd = self._lookup(model, usage)
        if len(self._known) >= _CACHE_LIMIT:
            self._known.pop(next(iter(self._known)))
        self._known[key] = ref
        return usd

    def _lookup(
        self, model: ModelConfig, usage: Usage
    ) -> tuple[tuple[str, str | None] | None, float | None]:
        url = self._urls.get(model.provider)
        refs = [model.upstream]
        if "/" in model.upstream:  # "moonshotai/kimi-k2.5" -> also "kimi-k2.5"
            refs.append(model.upstream.rsplit("/", 1)[1])
        for ref in refs:
            for candidate_url in (url, None) if url else (None,):
                usd = self._calc(usage, ref, candidate_url)
                if usd is not None:
                    return (ref, candidate_url), usd
        return None, None

    def _priced(self, usage: Usage, ref: str, url: str | None) -> float | None:
        """genai-prices' price on a model it knows: by its affine rates (``linear``, a few
        µs) when they apply, else by ``calc_price`` (~200 µs)."""
        try:
            table = self._table(ref, url)
            usd = self._linear.price(table, usage, lambda u: _exact(table, u))
        except (LookupError, ValueError, KeyError, TypeError, AttributeError):
            usd = None
        return float(usd) if usd is not None else self._calc(usage, ref, url)

    def _table(self, ref: str, url: str | None) -> Any:
        """genai-prices' price table (``ModelPrice``) in force now for a model it knows."""
        genai = self._genai
        if genai is None:  # imported on first use (an import statement per call costs ~10k ops)
            from genai_prices import data_snapshot
            from genai_prices.types import ModelPrice

            genai = self._genai = (data_snapshot.get_snapshot, ModelPrice)
        get_snapshot, model_price = genai
        snapshot = get_snapshot()
        found = self._models.get((ref, url))
        if found is None or found[0] is not snapshot:
            if len(self._models) >= _CACHE_LIMIT:
                self._models.clear()
            model = snapshot.find_provider_model(ref, None, None, url)[1]
            # A model with one unconditional table: that table at any time (no clock read).
            static = model.prices if isinstance(model.prices, model_price) else None
            found = self._models[(ref, url)] = (snapshot, model, static)
        static = found[2]
        return static if static is not None else found[1].get_prices(datetime.now(tz=UTC))

    @staticmethod
    def _calc(usage: Usage, ref: str, url: str | None) -> float | None:
        from genai_prices import calc_price

        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                if url:
                    result = calc_price(_genai_usage(usage), ref, provider_api_url=url)
                else:
                    result = calc_price(_genai_usage(usage), ref)
        except (LookupError, ValueError, KeyError, TypeError):
            return None
        return float(result.total_price)
