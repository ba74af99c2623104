"""The ledger's affine genai-prices rates give genai-prices' own price, for every model."""

from __future__ import annotations

import random
import warnings
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from genai_prices import calc_price, data_snapshot

from sidecar.config import ModelConfig, ProviderConfig
from sidecar.exchange import Usage
from sidecar.ledger.linear import LinearPrices, tier_starts
from sidecar.ledger.pricing import Pricer, _exact, _genai_usage


def _usages(table: Any, rng: random.Random) -> list[Usage]:
    """Random usages in every input tier of the table (and at its thresholds)."""
    edges = [0, *tier_starts(table)]
    out = [Usage(), Usage(output_tokens=7), Usage(1, 1, 1, 1, 1)]
    for start in edges:
        for prompt in (start, start + 1, start + rng.randint(2, 300_000)):
            read = rng.randint(0, prompt // 2)
            write = rng.randint(0, (prompt - read) // 2)
            write_1h = rng.choice((0, write // 3))
            uncached = prompt - read - write - write_1h
            out.append(Usage(uncached, rng.randint(0, 40_000), read, write, write_1h))
    return out


def test_affine_rates_equal_genai_prices_for_every_model_and_tier() -> None:
    rng = random.Random(7)
    now = datetime.now(tz=UTC)
    linear, checked, affine = LinearPrices(limit=100_000), 0, 0
    for provider in data_snapshot.get_snapshot().providers:
        for model in provider.models:
            try:
                table = model.get_prices(now)
            except (LookupError, ValueError):
                continue
            for usage in _usages(table, rng):
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    try:
                        want = _exact(table, usage)
                    except (LookupError, ValueError, TypeError):
                        continue
                got = linear.price(table, usage, lambda u, t=table: _exact(t, u))
                checked += 1
                if got is not None:
                    affine += 1
                    assert got == want, (provider.id, model.id, usage)
    assert checked > 1000 and affine == checked  # every model's tables are affine per tier


def test_pricer_prices_known_models_as_calc_price_does() -> None:
    anthropic = ProviderConfig("an", "anthropic", "https://api.anthropic.com")
    openai = ProviderConfig("oa", "openai", "https://api.openai.com/v1")
    pricer = Pricer({"an": anthropic, "oa": openai})
    cases = [
        (ModelConfig("sonnet", "an", "claude-sonnet-4-5"), anthropic.base_url),
        (ModelConfig("opus", "an", "claude-opus-4-1"), anthropic.base_url),
        (ModelConfig("gpt", "oa", "gpt-4o"), openai.base_url),
    ]
    for model, url in cases:
        for usage in (Usage(1200, 300, 5000, 100), Usage(250_000, 10, 0, 0, 4000), Usage()):
            for _ in range(2):  # the second call takes the cached rates
                cost = pricer.price(model, usage)
                want = calc_price(_genai_usage(usage), model.upstream, provider_api_url=url)
                assert cost.source == "genai-prices"
                assert cost.usd == float(Decimal(want.total_price)), (model, usage)
