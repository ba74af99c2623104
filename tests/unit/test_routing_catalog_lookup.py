"""``sidecar.catalog.lookup_model``: a catalog model that is not configured, as a ModelConfig;
the ledger finds ``routing.baseline_model`` through it (prices, provider, window)."""

from __future__ import annotations

from sidecar.catalog import default_catalog, lookup_model
from sidecar.config import Config, parse_config
from sidecar.exchange import Usage
from sidecar.ledger.baseline import Baseline, choose_baseline
from sidecar.ledger.pricing import Cost, Pricer

PROVIDERS = {
    "anthropic": {"api_keys": ["env:K"]},
    "or": {"kind": "openai", "base_url": "https://openrouter.ai/api/v1", "api_keys": ["env:K"]},
}


def _config(**routing: str) -> Config:
    return parse_config(
        {"providers": PROVIDERS, "models": {"cheap": {"provider": "or", "upstream": "x/cheap"}},
         "routing": {"default_model": "cheap", **routing}},
        {"K": "k"},
    )  # fmt: skip


def test_lookup_by_catalog_name_places_the_model_at_a_configured_provider() -> None:
    config = _config()
    found = lookup_model(default_catalog(), "claude-opus-4-1", config.providers)
    assert found is not None
    assert (found.name, found.provider, found.upstream) == (
        "claude-opus-4-1",
        "anthropic",
        "claude-opus-4-1",
    )
    assert found.prices.input == 15.0 and found.context_window == 200_000 and found.reasoning


def test_lookup_by_provider_reference_and_unknown_names() -> None:
    providers = _config().providers
    found = lookup_model(default_catalog(), "or:moonshotai/kimi-k2.5", providers)
    assert found is not None and (found.name, found.provider) == ("kimi-k2.5", "or")
    assert found.upstream == "moonshotai/kimi-k2.5" and found.prices.input is not None
    assert lookup_model(default_catalog(), "no-such-model", providers) is None
    assert lookup_model(default_catalog(), "or:x/unknown", providers) is None
    alone = lookup_model(default_catalog(), "claude-opus-4-1", {})  # no provider serves it
    assert alone is not None and alone.provider == "" and alone.prices.input == 15.0


def test_baseline_model_named_by_the_catalog_is_priced() -> None:
    config = _config(baseline_model="claude-opus-4-1")
    assert "claude-opus-4-1" not in config.models
    pricer = Pricer(config.providers)
    model = choose_baseline(config, pricer)
    assert model is not None and (model.provider, model.context_window) == ("anthropic", 200_000)
    usage = Usage(input_tokens=1_000_000, output_tokens=100_000)
    savings = Baseline(model, pricer).savings(Cost(1.0, "config", False), usage)
    assert savings.baseline_model == "claude-opus-4-1"
    assert savings.baseline.usd is not None and abs(savings.baseline.usd - 22.5) < 1e-6
    assert savings.usd is not None and abs(savings.usd - 21.5) < 1e-6


def test_a_model_named_like_one_entry_but_calling_another_takes_the_called_ones_values() -> None:
    """The upstream id decides (as the router's tier table does): a table named
    ``kimi-k2`` that calls kimi-k2.5 gets kimi-k2.5's max output and prices, not the
    older kimi-k2's 16k output (which made fit skip it for Claude Code's 32k)."""
    config = parse_config(
        {"providers": PROVIDERS,
         "models": {"kimi-k2": {"provider": "or", "upstream": "moonshotai/kimi-k2.5"},
                    "plain": {"provider": "or", "upstream": "moonshotai/kimi-k2-0905"}},
         "routing": {"default_model": "kimi-k2"}},
        {"K": "k"},
    )  # fmt: skip
    newer, older = default_catalog().get("kimi-k2.5"), default_catalog().get("kimi-k2")
    assert newer is not None and older is not None and newer.max_output != older.max_output
    model = config.models["kimi-k2"]
    assert (model.max_output, model.vision) == (newer.max_output, newer.vision)
    assert model.prices.output == newer.prices.output != older.prices.output
    assert config.models["plain"].max_output == older.max_output
