"""The config loader's happy paths: values, defaults, references, files, env."""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

import pytest

from sidecar.config import (
    Config,
    ConfigError,
    ModelConfig,
    Prices,
    RoutingConfig,
    ServerConfig,
    load_config,
    parse_config,
)

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "tierline.toml"
EXAMPLE_ENV = {
    "ANTHROPIC_API_KEY": "sk-ant",
    "OPENROUTER_API_KEY": "sk-or",
}  # the README quick start's variables: the example needs no others


def write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "tierline.toml"
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_empty_document_gives_the_defaults() -> None:
    config = parse_config({}, {})
    assert config == Config()
    assert config.server == ServerConfig()
    assert config.server.host == "127.0.0.1" and config.server.port == 8787
    assert config.routing.aliases == (("*", "auto"),)


def test_example_file_is_valid() -> None:
    config = load_config(str(EXAMPLE), EXAMPLE_ENV)
    assert config.source == str(EXAMPLE)
    assert set(config.providers) == {"anthropic", "openrouter", "ollama"}
    assert config.providers["ollama"].api_keys == ()
    assert config.providers["openrouter"].api_keys == ("sk-or",)
    kimi = config.models["kimi-k2.5"]
    assert kimi.extra_body == {"provider": {"order": ["fireworks"], "allow_fallbacks": False}}
    assert kimi.prices == Prices(input=0.6, output=3.0, cache_read=0.1, as_of="2026-05-01")
    assert config.models["sonnet"].prices.cache_write_1h == 6.0
    opus = config.models["anthropic:claude-opus-4-7"]
    assert (opus.provider, opus.upstream) == ("anthropic", "claude-opus-4-7")
    assert config.routing.default_model == "kimi-k2.5"
    assert config.routing.aliases[-1] == ("*", "auto")
    assert config.server.admin_port == 8788
    assert config.server.admin_host == "127.0.0.1"  # loopback unless uncommented (pods)
    assert config.telemetry.endpoint is None and config.telemetry.headers == {}
    assert config.warnings == ()


def test_example_file_names_every_key() -> None:
    """Every dataclass field is mentioned in the example (as a key, maybe commented)."""
    import dataclasses

    from sidecar.config import StateConfig, TelemetryConfig
    from sidecar.routing.settings import ClassifierSettings, ProfileSettings, Rule

    text = EXAMPLE.read_text(encoding="utf-8")
    for cls in (ServerConfig, ModelConfig, RoutingConfig, TelemetryConfig, StateConfig, Prices):
        for f in dataclasses.fields(cls):
            if f.name not in ("name", "explicit"):  # [models.NAME]; Prices' marker: not keys
                shown = (f"{f.name} =", f".{f.name}]", f".{f.name}.")  # key, [a.b], [a.b.NAME]
                assert any(s in text for s in shown), (cls.__name__, f.name)
    for key in ("kind", "base_url", "api_keys", "headers", "prompt_cache"):
        assert f"{key} =" in text
    for cls in (ClassifierSettings, Rule, ProfileSettings):  # the router's tables
        for f in dataclasses.fields(cls):
            assert f"{f.name} =" in text, (cls.__name__, f.name)


def test_example_router_tables_parse_when_uncommented() -> None:
    """The commented [routing.classifier] / [[routing.rules]] / [routing.profiles] examples
    are valid: uncommented, they load and the router's parsers accept them."""
    import tomllib

    from sidecar.routing.settings import parse_classifier, parse_profiles, parse_rules

    lines = EXAMPLE.read_text(encoding="utf-8").splitlines()
    start = lines.index("# [routing.classifier]")
    block = []
    for line in lines[start:]:
        if not line.startswith("#"):
            break
        block.append(line[2:])
    routing = tomllib.loads("\n".join(block))["routing"]
    classifier = parse_classifier(routing["classifier"])
    assert classifier.threshold == 0.5 and classifier.llm is False
    rules = parse_rules(tuple(routing["rules"]))
    assert [(r.tier, r.model, r.chain) for r in rules] == [
        ("reasoning", None, ()),
        (None, "sonnet", ()),
        (None, None, ("kimi-k2.5", "sonnet")),
    ]
    assert rules[0].header == {"x-team": "infra"} and rules[0].agent == "primary"
    assert parse_profiles(routing["profiles"])["planner"].tier == "reasoning"


def test_provider_keys_from_env_file_and_literal(tmp_path: Path) -> None:
    (tmp_path / "key.txt").write_text("sk-from-file\n", encoding="utf-8")
    source = write(
        tmp_path,
        """
        [providers.openai]
        api_keys = ["env:K1", "file:key.txt", "sk-literal"]
        """,
    )
    config = load_config(source, {"K1": " sk-env "})
    provider = config.providers["openai"]
    assert provider.api_keys == ("sk-env", "sk-from-file", "sk-literal")
    assert (provider.kind, provider.base_url) == ("openai", "https://api.openai.com/v1")
    assert config.warnings == (
        ("providers.openai.api_keys[2]", 'literal key in the config file; prefer "env:VAR"'),
    )
    assert "sk-" not in repr(provider) and "sk-" not in repr(config)


def test_known_provider_defaults_and_trailing_slash() -> None:
    config = parse_config(
        {
            "providers": {
                "anthropic": {},
                "openrouter": {},
                "vllm": {"kind": "openai", "base_url": "http://10.0.0.5:8000/v1/"},
            }
        },
        {},
    )
    assert config.providers["anthropic"].kind == "anthropic"
    assert config.providers["openrouter"].base_url == "https://openrouter.ai/api/v1"
    assert config.providers["vllm"].base_url == "http://10.0.0.5:8000/v1"


def test_references_create_implicit_models() -> None:
    config = parse_config(
        {
            "providers": {"openrouter": {}, "ollama": {}, "anthropic": {}},
            "routing": {
                "default_model": "openrouter:moonshotai/kimi-k2.5",
                "fallback_chain": ["openrouter:moonshotai/kimi-k2.5", "ollama:qwen2.5-coder:7b"],
                "heavy_model": "anthropic:claude-opus-4-7",
                "aliases": {"claude-*": "anthropic:claude-sonnet-4-6", "*": "auto"},
            },
        },
        {},
    )
    kimi = config.models["openrouter:moonshotai/kimi-k2.5"]
    assert (kimi.name, kimi.provider, kimi.upstream) == (
        "openrouter:moonshotai/kimi-k2.5",
        "openrouter",
        "moonshotai/kimi-k2.5",
    )
    # A model the catalog does not know gets the dataclass defaults.
    local = config.models["ollama:qwen2.5-coder:7b"]
    assert local == ModelConfig(name=local.name, provider="ollama", upstream="qwen2.5-coder:7b")
    assert config.models["ollama:qwen2.5-coder:7b"].upstream == "qwen2.5-coder:7b"
    assert config.models["anthropic:claude-sonnet-4-6"].provider == "anthropic"
    assert len(config.models) == 4


def test_a_reference_uses_its_models_table_when_there_is_one() -> None:
    config = parse_config(
        {
            "providers": {"openrouter": {}},
            "models": {
                "openrouter:moonshotai/kimi-k2.5": {
                    "context_window": 262144,
                    "prices": {"input": 0.6, "as_of": datetime.date(2026, 5, 1)},
                }
            },
            "routing": {"default_model": "openrouter:moonshotai/kimi-k2.5"},
        },
        {},
    )
    model = config.models["openrouter:moonshotai/kimi-k2.5"]
    assert (model.provider, model.upstream, model.context_window) == (
        "openrouter",
        "moonshotai/kimi-k2.5",
        262144,
    )
    assert model.prices.as_of == "2026-05-01"


def test_upstream_defaults_to_the_name_and_ints_become_floats() -> None:
    config = parse_config(
        {
            "providers": {"openai": {}},
            "models": {"gpt-5": {"provider": "openai", "prices": {"input": 1, "output": 10}}},
            "server": {"connect_timeout": 5},
        },
        {},
    )
    assert config.models["gpt-5"].upstream == "gpt-5"
    assert config.models["gpt-5"].prices.input == 1.0
    assert isinstance(config.server.connect_timeout, float)
    assert config.routing.default_model == "gpt-5"  # the only model


def test_aliases_table_and_array_keep_their_order() -> None:
    providers = {"openai": {}}
    as_table = parse_config(
        {
            "providers": providers,
            "routing": {"aliases": {"b*": "quick", "a*": "coding", "*": "auto"}},
        },
        {},
    )
    as_array = parse_config(
        {
            "providers": providers,
            "routing": {
                "aliases": [
                    {"match": "b*", "target": "quick"},
                    {"match": "a*", "target": "coding"},
                    {"match": "*", "target": "auto"},
                ]
            },
        },
        {},
    )
    expected = (("b*", "quick"), ("a*", "coding"), ("*", "auto"))
    assert as_table.routing.aliases == expected == as_array.routing.aliases


def test_tiers_custom_names_and_derived_default() -> None:
    config = parse_config(
        {
            "providers": {"openai": {}},
            "models": {"a": {"provider": "openai"}, "b": {"provider": "openai"}},
            "routing": {"tiers": {"big": ["a"], "small": "b"}, "default_tier": "small"},
        },
        {},
    )
    routing = config.routing
    assert routing.tier_order == ("big", "small")
    assert routing.tiers == {"big": ("a",), "small": ("b",)}
    assert routing.default_model == "b"


def test_routing_passthrough_tables() -> None:
    routing = parse_config(
        {
            "routing": {
                "path_tags": {"migrations/**": "migration", "**/auth/**": "auth"},
                "classifier": {"threshold": 0.6},
                "rules": [{"match": {"tags": ["auth"]}, "tier": "reasoning"}],
                "profiles": {"debugger": {"tier": "reasoning"}},
                "mode": "shadow",
            }
        },
        {},
    ).routing
    assert routing.path_tags == (("migrations/**", "migration"), ("**/auth/**", "auth"))
    assert routing.classifier == {"threshold": 0.6}
    assert routing.rules == ({"match": {"tags": ["auth"]}, "tier": "reasoning"},)
    assert routing.profiles == {"debugger": {"tier": "reasoning"}}
    assert routing.mode == "shadow"


def test_admin_port_alone_listens_on_host() -> None:
    server = parse_config({"server": {"host": "0.0.0.0", "admin_port": 9090}}, {}).server
    assert (server.admin_host, server.admin_port) == ("0.0.0.0", 9090)


def test_ca_bundle_relative_to_the_config_file(tmp_path: Path) -> None:
    import certifi  # a real PEM bundle (requests, via the OTLP exporter, depends on it)

    (tmp_path / "ca.pem").write_bytes(Path(certifi.where()).read_bytes())
    config = load_config(write(tmp_path, '[server]\nca_bundle = "ca.pem"\n'), {})
    assert config.server.ca_bundle == str(tmp_path / "ca.pem")


def test_ca_bundle_must_be_pem(tmp_path: Path) -> None:
    (tmp_path / "ca.pem").write_text("not a certificate\n", encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_config(write(tmp_path, '[server]\nca_bundle = "ca.pem"\n'), {})
    [(path, reason)] = info.value.errors
    assert path == "server.ca_bundle"
    assert reason.startswith(f"not a PEM certificate bundle: {tmp_path / 'ca.pem'}")


def test_state_redis_url_from_env() -> None:
    state = parse_config(
        {"state": {"backend": "redis", "redis_url": "env:REDIS_URL"}},
        {"REDIS_URL": "redis://:pw@redis:6379/0"},
    ).state
    assert (state.backend, state.redis_url) == ("redis", "redis://:pw@redis:6379/0")


def test_path_from_tierline_config(tmp_path: Path) -> None:
    source = write(tmp_path, "[server]\nport = 9999\n")
    assert load_config(None, {"TIERLINE_CONFIG": source}).server.port == 9999
    # The argument wins over the environment.
    other = tmp_path / "other.toml"
    other.write_text("[server]\nport = 1234\n", encoding="utf-8")
    assert load_config(str(other), {"TIERLINE_CONFIG": source}).server.port == 1234


@pytest.mark.parametrize(
    ("make", "path", "fragment"),
    [
        (lambda d: None, "config", "pass --config FILE or set TIERLINE_CONFIG"),
        (lambda d: str(d / "missing.toml"), "{d}/missing.toml", "cannot read the file"),
        (lambda d: str(d), "{d}", "cannot read the file"),
    ],
    ids=["no-path", "missing", "directory"],
)
def test_file_level_errors(tmp_path: Path, make, path: str, fragment: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ConfigError) as info:
        load_config(make(tmp_path), {})
    [(found_path, reason)] = info.value.errors
    assert found_path == path.format(d=tmp_path)
    assert fragment in reason


def test_invalid_toml_names_the_line(tmp_path: Path) -> None:
    source = write(tmp_path, "[server]\nport = \n")
    with pytest.raises(ConfigError) as info:
        load_config(source, {})
    [(path, reason)] = info.value.errors
    assert path == source
    assert reason.startswith("invalid TOML: ") and "line 2" in reason


def test_models_merge_over_the_catalog() -> None:
    from sidecar.catalog import default_catalog

    entry = default_catalog().get("claude-opus-4-7")
    assert entry is not None
    config = parse_config(
        {
            "providers": {"anthropic": {}},
            "models": {
                "opus": {
                    "provider": "anthropic",
                    "upstream": "claude-opus-4-7",
                    "prices": {"input": 4, "as_of": datetime.date(2026, 1, 2)},
                }
            },
            "routing": {"heavy_model": "anthropic:claude-opus-4-7"},
        },
        {},
    )
    opus = config.models["opus"]
    assert opus.context_window == entry.context_window
    assert opus.prices.input == 4.0 and isinstance(opus.prices.input, float)
    assert opus.prices.as_of == "2026-01-02"
    assert opus.prices.output == entry.prices.output
    implicit = config.models["anthropic:claude-opus-4-7"]
    assert implicit.context_window == entry.context_window
    assert implicit.upstream == "claude-opus-4-7"


def test_rule_models_may_be_references() -> None:
    config = parse_config(
        {
            "providers": {"openrouter": {}},
            "routing": {
                "rules": [
                    {"match": {"tags": ["ui"]}, "model": "openrouter:google/gemini-3-pro"},
                    {"match": {"tags": ["db"]}, "chain": ["openrouter:z-ai/glm-4.7"]},
                ]
            },
        },
        {},
    )
    assert config.models["openrouter:google/gemini-3-pro"].upstream == "google/gemini-3-pro"
    assert config.models["openrouter:z-ai/glm-4.7"].provider == "openrouter"


def test_a_tier_model_with_less_max_output_than_agents_ask_for_is_warned_about() -> None:
    """kimi-k2 (16384 max output) in the coding tier is skipped for Claude Code's
    32000-64000 max_tokens unless clamp_max_tokens: the config says so up front."""
    data: dict[str, Any] = {
        "providers": {"openrouter": {"api_keys": ["env:K"]}},
        "models": {
            "kimi": {"provider": "openrouter", "upstream": "moonshotai/kimi-k2-0905"},
            "big": {"provider": "openrouter", "upstream": "moonshotai/kimi-k2.5"},
        },
        "routing": {"tiers": {"coding": ["big", "kimi"], "quick": ["kimi"]}},
    }
    config = parse_config(data, {"K": "k"})
    assert [path for path, _ in config.warnings] == ["routing.tiers.coding[1]"]
    assert "max output 16384" in config.warnings[0][1]
    data["routing"]["clamp_max_tokens"] = True
    assert parse_config(data, {"K": "k"}).warnings == ()
