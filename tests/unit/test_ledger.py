"""Cost and baseline: cache splits, no double counting, unpriced, estimated."""

from __future__ import annotations

import math

import pytest

from sidecar.config import Config, ModelConfig, Prices, ProviderConfig, RoutingConfig
from sidecar.exchange import Usage
from sidecar.ledger.baseline import Baseline, choose_baseline, resolve_model_ref
from sidecar.ledger.pricing import Pricer, price_from_table

ANTHROPIC = ProviderConfig("anthropic", "anthropic", "https://api.anthropic.com/v1")
LOCAL = ProviderConfig("local", "openai", "http://127.0.0.1:9/v1")
SONNET = ModelConfig("sonnet", "anthropic", "claude-sonnet-4-5")
CHEAP = ModelConfig("cheap", "local", "fake-cheap", prices=Prices(input=1.0, output=2.0))
STRONG = ModelConfig("strong", "local", "fake-strong", prices=Prices(input=10.0, output=40.0))
NOPRICE = ModelConfig("mystery", "local", "fake-mystery")


def pricer() -> Pricer:
    return Pricer({"anthropic": ANTHROPIC, "local": LOCAL})


def test_genai_prices_cache_split_is_not_double_counted() -> None:
    # Sonnet 4.5: $3 in, $15 out, $0.30 cache read, $3.75 5m write, $6 1h write.
    usage = Usage(
        input_tokens=600,
        output_tokens=100,
        cache_read_tokens=200,
        cache_write_tokens=100,
        cache_write_1h_tokens=100,
    )
    cost = pricer().price(SONNET, usage)
    expected = (600 * 3 + 100 * 15 + 200 * 0.3 + 100 * 3.75 + 100 * 6) / 1e6
    assert cost.source == "genai-prices"
    assert cost.status == "priced"
    assert cost.usd == pytest.approx(expected)


def test_genai_prices_tiered_long_context() -> None:
    cost = pricer().price(SONNET, Usage(input_tokens=300_000))
    assert cost.usd == pytest.approx(300_000 * 6 / 1e6)  # >200k tokens: $6/MTok


def test_table_prices_when_genai_prices_does_not_know_the_model() -> None:
    cost = pricer().price(CHEAP, Usage(input_tokens=1_000_000, output_tokens=500_000))
    assert cost.source == "config"
    assert cost.usd == pytest.approx(1.0 + 1.0)


def test_table_cache_prices_and_fallbacks() -> None:
    prices = Prices(input=2.0, output=8.0, cache_read=0.5, cache_write=2.5)
    usage = Usage(
        input_tokens=1_000_000,
        cache_read_tokens=1_000_000,
        cache_write_tokens=1_000_000,
        cache_write_1h_tokens=1_000_000,
    )
    # The 1-hour write has no price of its own: the 5-minute write price is used.
    assert price_from_table(prices, usage) == pytest.approx(2.0 + 0.5 + 2.5 + 2.5)


def test_unknown_price_is_unpriced_not_zero() -> None:
    cost = pricer().price(NOPRICE, Usage(input_tokens=10, output_tokens=10))
    assert cost.usd is None
    assert cost.status == "unpriced"


def test_estimated_usage_is_flagged() -> None:
    cost = pricer().price(CHEAP, Usage(input_tokens=1000, output_tokens=10, estimated=True))
    assert cost.status == "estimated"
    assert cost.usd is not None and cost.usd > 0


def test_aborted_stream_costs_what_was_received() -> None:
    # Only the output produced before the abort is in the usage: it is priced as is.
    cost = pricer().price(CHEAP, Usage(input_tokens=0, output_tokens=250_000))
    assert cost.usd == pytest.approx(0.5)


def test_baseline_defaults_to_most_expensive_configured_model() -> None:
    config = Config(providers={"local": LOCAL}, models={"cheap": CHEAP, "strong": STRONG})
    p = Pricer(config.providers)
    model = choose_baseline(config, p)
    assert model is STRONG
    usage = Usage(input_tokens=1_000_000, output_tokens=1_000_000)
    savings = Baseline(model, p).savings(p.price(CHEAP, usage), usage)
    assert savings.usd == pytest.approx(50.0 - 3.0)
    assert savings.baseline_model == "strong"


def test_baseline_from_config_accepts_seed_style_refs() -> None:
    config = Config(
        providers={"anthropic": ANTHROPIC, "local": LOCAL},
        models={"cheap": CHEAP},
        routing=RoutingConfig(baseline_model="anthropic:claude-opus-4-1"),
    )
    p = Pricer(config.providers)
    model = choose_baseline(config, p)
    assert model is not None and model.upstream == "claude-opus-4-1"
    cost = p.price(model, Usage(input_tokens=1_000_000))
    assert cost.usd is not None and math.isclose(cost.usd, 15.0)
    assert resolve_model_ref(config, "cheap") is CHEAP


def test_baseline_unpriced_gives_no_savings() -> None:
    p = pricer()
    usage = Usage(input_tokens=5)
    savings = Baseline(NOPRICE, p).savings(p.price(CHEAP, usage), usage)
    assert savings.usd is None


def _configured(models: dict[str, object]) -> Config:
    from sidecar.config import parse_config

    data = {
        "providers": {
            "vllm": {"kind": "openai", "base_url": "http://127.0.0.1:9/v1"},
            "openai": {"kind": "openai", "base_url": "https://api.openai.com/v1"},
        },
        "models": models,
    }
    return parse_config(data, {"OPENAI_API_KEY": "k"})


def test_configured_zero_price_wins_over_genai_prices() -> None:
    config = _configured(
        {
            "kimi": {
                "provider": "vllm",
                "upstream": "moonshotai/kimi-k2.5",
                "prices": {"input": 0.0, "output": 0.0},
            },
            "listed": {"provider": "vllm", "upstream": "moonshotai/kimi-k2.5"},
        }
    )
    p = Pricer(config.providers)
    usage = Usage(input_tokens=1_000_000, output_tokens=1_000_000)
    listed = p.price(config.models["listed"], usage)
    assert listed.usd is not None and listed.usd > 0  # genai-prices knows it
    cost = p.price(config.models["kimi"], usage)
    assert cost.usd == 0.0 and cost.source == "config"


def test_configured_fields_win_field_by_field() -> None:
    config = _configured(
        {
            "gpt": {"provider": "openai", "upstream": "gpt-4.1", "prices": {"input": 0.5}},
            "list": {"provider": "openai", "upstream": "gpt-4.1"},
        }
    )
    p = Pricer(config.providers)
    usage = Usage(input_tokens=1_000_000, output_tokens=1_000_000)
    listed = p.price(config.models["list"], usage)
    assert listed.usd == pytest.approx(2.0 + 8.0)  # gpt-4.1 list: $2 in, $8 out
    cost = p.price(config.models["gpt"], usage)
    assert cost.usd == pytest.approx(0.5 + 8.0) and cost.source == "config"
    assert config.models["list"].prices.explicit == frozenset()
