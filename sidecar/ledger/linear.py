"""genai-prices' price of a request, without its per-call cost.

``genai_prices.calc_price`` resolves the model and then prices the usage
through its unit registry: about 200 µs per call, paid on the event loop for
the cost and again for the baseline of every request. Within one price table
(``ModelPrice``) and one input tier the price it computes is affine in the
token counts tierline reports: a sum over priced units of a rate times a
difference of counts, plus a fee per request. ``LinearPrices`` therefore asks
genai-prices itself, once per table and tier, for the price of a base usage and
of that usage plus one token of each kind (exact ``Decimal`` differences), and
then prices any usage in that tier as ``constant + sum(rate * count)``.

Contract: the same ``Decimal`` genai-prices returns (tests compare every model
of the bundled snapshot on random usages). Conditional prices (by date or
time of day) stay right because the table is resolved per call, as genai-prices
does, and each distinct table gets its own rates. Anything unexpected (a tier
too narrow to probe, a failed probe) returns None and the caller asks
genai-prices directly. Pure; the rates cache is bounded and owned by its caller.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from sidecar.exchange import Usage

# The count fields of tierline's Usage, in the order rates are kept.
FIELDS = (
    "input_tokens",
    "output_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
    "cache_write_1h_tokens",
)
Rates = tuple[Decimal, tuple[Decimal, ...]]  # (constant, rate per FIELDS)


def tier_starts(model_price: Any) -> tuple[int, ...]:
    """Input-token thresholds at which any of the table's prices changes tier."""
    starts: set[int] = set()
    for value in vars(model_price).values():
        for tier in getattr(value, "tiers", None) or ():
            starts.add(int(tier.start))
    return tuple(sorted(starts))


def _probe(base: int, field: str) -> Usage:
    """``base`` uncached input tokens plus one token of ``field``."""
    counts = [base, 0, 0, 0, 0]
    counts[FIELDS.index(field)] += 1
    return Usage(counts[0], counts[1], counts[2], counts[3], counts[4])


def rates(exact: Callable[[Usage], Decimal], starts: tuple[int, ...], tier: int) -> Rates | None:
    """The affine form of ``exact`` for usages whose prompt falls in input tier ``tier``
    (``starts[tier - 1] < prompt <= starts[tier]``), or None when it cannot be probed."""
    base = 0 if tier == 0 else starts[tier - 1] + 1
    if tier < len(starts) and starts[tier] - base < 2:
        return None  # the probes (prompt base + 1) must stay inside the tier
    zero = exact(Usage(input_tokens=base))
    per_field = tuple(exact(_probe(base, f)) - zero for f in FIELDS)
    return zero - per_field[0] * base, per_field


class LinearPrices:
    """Affine rates per (price table, input tier), computed on first use."""

    def __init__(self, limit: int = 256) -> None:
        self._limit = limit
        self._rates: dict[tuple[int, int], tuple[Any, Rates | None]] = {}
        self._starts: dict[int, tuple[Any, tuple[int, ...]]] = {}  # id(table) -> its tier_starts

    def price(self, table: Any, usage: Usage, exact: Callable[[Usage], Decimal]) -> Decimal | None:
        """USD for ``usage`` priced on genai-prices' ``table`` (a ``ModelPrice``), where
        ``exact`` is genai-prices' own computation on that table; None when the table
        cannot be made affine (the caller then uses ``exact``)."""
        known = self._starts.get(id(table))
        if known is None or known[0] is not table:  # id() reused by another table
            if len(self._starts) >= self._limit:
                self._starts.clear()
            known = self._starts[id(table)] = (table, tier_starts(table))  # keeps table alive
        starts = known[1]
        tier = bisect_left(starts, usage.prompt_tokens) if starts else 0
        key = (id(table), tier)
        found = self._rates.get(key)
        if found is None or found[0] is not table:
            if len(self._rates) >= self._limit:
                self._rates.clear()
            found = self._rates[key] = (table, rates(exact, starts, tier))  # keeps table alive
        form = found[1]
        if form is None:
            return None
        constant, (r_in, r_out, r_read, r_write, r_write_1h) = form
        total = constant
        if usage.input_tokens:
            total += r_in * usage.input_tokens
        if usage.output_tokens:
            total += r_out * usage.output_tokens
        if usage.cache_read_tokens:
            total += r_read * usage.cache_read_tokens
        if usage.cache_write_tokens:
            total += r_write * usage.cache_write_tokens
        if usage.cache_write_1h_tokens:
            total += r_write_1h * usage.cache_write_1h_tokens
        return total
