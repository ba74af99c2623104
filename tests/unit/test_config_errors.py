"""Every class of configuration error, with its exact key path.

Each case starts from a small valid document, changes one key and expects
exactly one (key path, reason) error whose reason contains a fragment.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from sidecar.config import ConfigError, parse_config

ENV = {"OR_KEY": "sk-or-secret", "ANT_KEY": "sk-ant-secret", "EMPTY": "  "}

BASE: dict[str, Any] = {
    "server": {"port": 8787},
    "providers": {
        "openrouter": {"api_keys": ["env:OR_KEY"]},
        "anthropic": {"kind": "anthropic", "api_keys": ["env:ANT_KEY"]},
        "local": {"kind": "openai", "base_url": "http://127.0.0.1:11434/v1"},
    },
    "models": {
        "kimi": {"provider": "openrouter", "upstream": "moonshotai/kimi-k2.5"},
        "sonnet": {"provider": "anthropic", "upstream": "claude-sonnet-4-6"},
    },
    "routing": {"default_model": "kimi", "fallback_chain": ["kimi", "sonnet"]},
    "telemetry": {},
    "state": {},
}

DELETE = object()


def doc(*changes: tuple[tuple[str, ...], Any]) -> dict[str, Any]:
    """BASE with each (key path tuple, value) set (or deleted with DELETE)."""
    data = copy.deepcopy(BASE)
    for keys, value in changes:
        node = data
        for key in keys[:-1]:
            node = node.setdefault(key, {})
        if value is DELETE:
            del node[keys[-1]]
        else:
            node[keys[-1]] = value
    return data


def errors(data: dict[str, Any], env: dict[str, str] = ENV) -> list[tuple[str, str]]:
    with pytest.raises(ConfigError) as info:
        parse_config(data, env, source=None)
    return info.value.errors


CASES: list[tuple[str, tuple[str, ...], Any, str, str]] = [
    # id, keys to set, value, expected key path, fragment of the reason
    ("top-unknown", ("serer",), {}, "serer", "unknown key (did you mean 'server'?)"),
    ("auth", ("auth",), {"keys": []}, "auth", "[auth] is not supported yet"),
    ("budgets", ("budgets",), {}, "budgets", "not supported yet"),
    ("limits", ("limits",), {}, "limits", "not supported yet"),
    ("section-type", ("server",), 5, "server", "expected a table, got integer"),
    ("server-unknown", ("server", "prot"), 1, "server.prot", "did you mean 'port'?"),
    ("port-type", ("server", "port"), "8787", "server.port", "expected an integer, got string"),
    ("port-bool", ("server", "port"), True, "server.port", "expected an integer, got boolean"),
    ("port-high", ("server", "port"), 70000, "server.port", "between 0 and 65535 (got 70000)"),
    ("port-neg", ("server", "port"), -1, "server.port", "between 0 and 65535"),
    ("admin-port", ("server", "admin_port"), 65536, "server.admin_port", "between 0 and 65535"),
    ("timeout-zero", ("server", "connect_timeout"), 0, "server.connect_timeout", "greater than 0"),
    ("timeout-type", ("server", "deadline"), "600", "server.deadline", "expected a number"),
    ("body-zero", ("server", "max_body_bytes"), 0, "server.max_body_bytes", "greater than 0"),
    (
        "retries-neg",
        ("server", "retries_per_candidate"),
        -1,
        "server.retries_per_candidate",
        "must not be negative",
    ),
    ("metrics-type", ("server", "metrics"), "yes", "server.metrics", "expected a boolean"),
    (
        "admin-host-only",
        ("server", "admin_host"),
        "0.0.0.0",
        "server.admin_port",
        "required when server.admin_host is set",
    ),
    ("admin-same-port", ("server", "admin_port"), 8787, "server.admin_port", "must differ"),
    ("backoff", ("server", "backoff_max"), 0.1, "server.backoff_max", "backoff_base"),
    (
        "ca-missing",
        ("server", "ca_bundle"),
        "/nonexistent/ca.pem",
        "server.ca_bundle",
        "file not found",
    ),
    ("providers-type", ("providers",), [], "providers", "expected a table, got array"),
    ("provider-type", ("providers", "x"), "openai", "providers.x", "expected a table"),
    ("provider-colon", ("providers", "a:b"), {}, 'providers."a:b"', "cannot contain ':'"),
    (
        "kind",
        ("providers", "anthropic", "kind"),
        "gemini",
        "providers.anthropic.kind",
        "must be one of 'openai', 'anthropic' (got 'gemini')",
    ),
    ("kind-missing", ("providers", "local", "kind"), DELETE, "providers.local.kind", "required"),
    (
        "url-missing",
        ("providers", "local", "base_url"),
        DELETE,
        "providers.local.base_url",
        "required",
    ),
    (
        "url-scheme",
        ("providers", "local", "base_url"),
        "ftp://host/v1",
        "providers.local.base_url",
        "absolute http:// or https:// URL",
    ),
    (
        "url-relative",
        ("providers", "local", "base_url"),
        "api.openai.com/v1",
        "providers.local.base_url",
        "absolute",
    ),
    (
        "url-query",
        ("providers", "local", "base_url"),
        "http://h/v1?x=1",
        "providers.local.base_url",
        "query",
    ),
    (
        "url-port",
        ("providers", "local", "base_url"),
        "http://h:99999/v1",
        "providers.local.base_url",
        "not a valid URL",
    ),
    (
        "env-unset",
        ("providers", "openrouter", "api_keys"),
        ["env:NOPE"],
        "providers.openrouter.api_keys[0]",
        "environment variable NOPE is not set",
    ),
    (
        "env-empty",
        ("providers", "openrouter", "api_keys"),
        ["env:OR_KEY", "env:EMPTY"],
        "providers.openrouter.api_keys[1]",
        "environment variable EMPTY is empty",
    ),
    (
        "env-noname",
        ("providers", "openrouter", "api_keys"),
        ["env:"],
        "providers.openrouter.api_keys[0]",
        "empty variable name",
    ),
    (
        "keys-type",
        ("providers", "openrouter", "api_keys"),
        "env:OR_KEY",
        "providers.openrouter.api_keys",
        "expected an array of strings, got string",
    ),
    (
        "key-type",
        ("providers", "openrouter", "api_keys"),
        ["env:OR_KEY", 3],
        "providers.openrouter.api_keys[1]",
        "expected a string, got integer",
    ),
    (
        "key-file",
        ("providers", "openrouter", "api_keys"),
        ["file:/nonexistent/key"],
        "providers.openrouter.api_keys[0]",
        "cannot read /nonexistent/key",
    ),
    (
        "auth-key",
        ("providers", "openrouter", "auth"),
        "env:OR_KEY",
        "providers.openrouter.auth",
        "did you mean 'api_keys'?",
    ),
    (
        "headers",
        ("providers", "openrouter", "headers"),
        {"X-Title": 1},
        "providers.openrouter.headers.X-Title",
        "expected a string, got integer",
    ),
    (
        "header-env",
        ("providers", "openrouter", "headers"),
        {"X-Token": "env:NOPE"},
        "providers.openrouter.headers.X-Token",
        "NOPE is not set",
    ),
    (
        "prompt-cache",
        ("providers", "anthropic", "prompt_cache"),
        "on",
        "providers.anthropic.prompt_cache",
        "must be one of 'off', 'auto'",
    ),
    ("model-type", ("models", "kimi"), "openrouter", "models.kimi", "expected a table, got string"),
    (
        "model-provider",
        ("models", "kimi", "provider"),
        "openrouterr",
        "models.kimi.provider",
        "unknown provider 'openrouterr' (did you mean 'openrouter'?)",
    ),
    (
        "model-provider-far",
        ("models", "kimi", "provider"),
        "xyz",
        "models.kimi.provider",
        "configured: openrouter, anthropic, local; add [providers.xyz]",
    ),
    (
        "model-no-provider",
        ("models", "kimi", "provider"),
        DELETE,
        "models.kimi.provider",
        "required",
    ),
    (
        "model-unknown",
        ("models", "kimi", "contex_window"),
        5,
        "models.kimi.contex_window",
        "did you mean 'context_window'?",
    ),
    (
        "model-model",
        ("models", "kimi", "model"),
        "x",
        "models.kimi.model",
        "did you mean 'upstream'?",
    ),
    (
        "context",
        ("models", "kimi", "context_window"),
        0,
        "models.kimi.context_window",
        "greater than 0",
    ),
    (
        "max-output",
        ("models", "kimi", "max_output"),
        1.5,
        "models.kimi.max_output",
        "expected an integer, got float",
    ),
    (
        "price-neg",
        ("models", "kimi", "prices"),
        {"input": -1},
        "models.kimi.prices.input",
        "must not be negative",
    ),
    (
        "price-type",
        ("models", "kimi", "prices"),
        {"output": "2"},
        "models.kimi.prices.output",
        "expected a number, got string",
    ),
    (
        "price-unknown",
        ("models", "kimi", "prices"),
        {"inptu": 1},
        "models.kimi.prices.inptu",
        "did you mean 'input'?",
    ),
    (
        "price-as-of",
        ("models", "kimi", "prices"),
        {"as_of": 2026},
        "models.kimi.prices.as_of",
        "expected a date or a string",
    ),
    ("prices-type", ("models", "kimi", "prices"), 1.0, "models.kimi.prices", "expected a table"),
    (
        "token-param",
        ("models", "kimi", "token_param"),
        "max_output_tokens",
        "models.kimi.token_param",
        "must be one of 'max_tokens', 'max_completion_tokens'",
    ),
    (
        "extra-body",
        ("models", "kimi", "extra_body"),
        ["x"],
        "models.kimi.extra_body",
        "expected a table, got array",
    ),
    ("vision", ("models", "kimi", "vision"), 1, "models.kimi.vision", "expected a boolean"),
    (
        "quoted-path",
        ("models", "openrouter:moonshotai/kimi-k2", "contex"),
        1,
        'models."openrouter:moonshotai/kimi-k2".contex',
        "unknown key",
    ),
    ("reserved-auto", ("models", "auto"), {"provider": "local"}, "models.auto", "reserved"),
    ("reserved-tier", ("models", "quick"), {"provider": "local"}, "models.quick", "reserved"),
    (
        "default-model",
        ("routing", "default_model"),
        "nope",
        "routing.default_model",
        "unknown model 'nope'",
    ),
    (
        "default-model-close",
        ("routing", "default_model"),
        "kimii",
        "routing.default_model",
        "did you mean 'kimi'?",
    ),
    (
        "cheap-default",
        ("routing", "cheap_default"),
        "kimi",
        "routing.cheap_default",
        "did you mean 'default_model'?",
    ),
    (
        "fallback",
        ("routing", "fallback_chain"),
        ["kimi", "nope"],
        "routing.fallback_chain[1]",
        "unknown model 'nope'",
    ),
    (
        "fallback-type",
        ("routing", "fallback_chain"),
        "kimi",
        "routing.fallback_chain",
        "expected an array, got string",
    ),
    (
        "ref-provider",
        ("routing", "ui_model"),
        "google:gemini-3-pro",
        "routing.ui_model",
        "'google:gemini-3-pro': unknown provider 'google'",
    ),
    ("heavy-model", ("routing", "heavy_model"), "opus", "routing.heavy_model", "unknown model"),
    ("baseline", ("routing", "baseline_model"), "opus", "routing.baseline_model", "unknown model"),
    (
        "heavy-tags",
        ("routing", "heavy_tags"),
        ["auth", 1],
        "routing.heavy_tags[1]",
        "expected a string",
    ),
    (
        "tier-model",
        ("routing", "tiers"),
        {"coding": ["kimi", "x"]},
        "routing.tiers.coding[1]",
        "unknown model 'x'",
    ),
    (
        "tier-single",
        ("routing", "tiers"),
        {"coding": "x"},
        "routing.tiers.coding",
        "unknown model 'x'",
    ),
    (
        "tier-empty",
        ("routing", "tiers"),
        {"coding": []},
        "routing.tiers.coding",
        "at least one model",
    ),
    (
        "tier-order",
        ("routing", "tier_order"),
        ["fast", "slow"],
        "routing.default_tier",
        "required: the default 'coding' is not in routing.tier_order",
    ),
    (
        "tier-dup",
        ("routing", "tier_order"),
        ["coding", "coding"],
        "routing.tier_order",
        "each once",
    ),
    (
        "default-tier",
        ("routing", "default_tier"),
        "turbo",
        "routing.default_tier",
        "must be one of reasoning, coding, quick",
    ),
    (
        "review",
        ("routing", "review_strategy"),
        "random",
        "routing.review_strategy",
        "must be one of 'same', 'alternate'",
    ),
    ("mode", ("routing", "mode"), "dry", "routing.mode", "must be one of 'route', 'shadow'"),
    (
        "alias-target",
        ("routing", "aliases"),
        {"claude-*": "nope", "*": "auto"},
        'routing.aliases."claude-*"',
        "unknown model 'nope'",
    ),
    (
        "alias-value",
        ("routing", "aliases"),
        {"claude-*": 1},
        'routing.aliases."claude-*"',
        "expected a non-empty string, got integer",
    ),
    (
        "alias-array-target",
        ("routing", "aliases"),
        [{"match": "*", "target": "nope"}],
        "routing.aliases[0].target",
        "unknown model 'nope'",
    ),
    (
        "alias-array-missing",
        ("routing", "aliases"),
        [{"match": "*"}],
        "routing.aliases[0].target",
        "required",
    ),
    (
        "alias-array-unknown",
        ("routing", "aliases"),
        [{"match": "*", "target": "auto", "x": 1}],
        "routing.aliases[0].x",
        "unknown key",
    ),
    ("alias-array-item", ("routing", "aliases"), ["*"], "routing.aliases[0]", "expected a table"),
    (
        "alias-type",
        ("routing", "aliases"),
        "auto",
        "routing.aliases",
        "expected a table or an array of tables",
    ),
    (
        "path-tags",
        ("routing", "path_tags"),
        {"migrations/**": ["x"]},
        'routing.path_tags."migrations/**"',
        "expected a non-empty string, got array",
    ),
    ("rules", ("routing", "rules"), ["x"], "routing.rules[0]", "expected a table"),
    ("classifier", ("routing", "classifier"), "llm", "routing.classifier", "expected a table"),
    (
        "classifier-key",
        ("routing", "classifier"),
        {"kind": "x"},
        "routing.classifier.kind",
        "unknown key",
    ),
    (
        "rule-model",
        ("routing", "rules"),
        [{"model": "nope"}],
        "routing.rules[0].model",
        "unknown model 'nope'",
    ),
    (
        "rule-chain",
        ("routing", "rules"),
        [{"chain": ["kimi", "x:y"]}],
        "routing.rules[0].chain[1]",
        "unknown provider 'x'",
    ),
    (
        "rule-act",
        ("routing", "rules"),
        [{"match": {}}],
        "routing.rules[0]",
        "needs exactly one of tier, model, chain",
    ),
    (
        "telemetry-url",
        ("telemetry", "endpoint"),
        "localhost:4318",
        "telemetry.endpoint",
        "absolute",
    ),
    (
        "telemetry-proto",
        ("telemetry", "protocol"),
        "http/json",
        "telemetry.protocol",
        "must be one of 'http/protobuf', 'grpc'",
    ),
    (
        "telemetry-header",
        ("telemetry", "headers"),
        {"authorization": "env:NOPE"},
        "telemetry.headers.authorization",
        "NOPE is not set",
    ),
    ("telemetry-queue", ("telemetry", "queue_size"), 0, "telemetry.queue_size", "greater than 0"),
    (
        "telemetry-compat",
        ("telemetry", "compat"),
        "claude_code",
        "telemetry.compat",
        "expected an array",
    ),
    (
        "state-backend",
        ("state", "backend"),
        "sqlite",
        "state.backend",
        "must be one of 'memory', 'redis'",
    ),
    (
        "state-redis",
        ("state", "backend"),
        "redis",
        "state.redis_url",
        'required when state.backend = "redis"',
    ),
    (
        "state-url",
        ("state", "redis_url"),
        "http://u:hunter2@h",
        "state.redis_url",
        "must be a redis://, rediss:// or unix:// URL",
    ),
    ("state-ttl", ("state", "ttl"), 1, "state.ttl", "did you mean 'ttl_seconds'?"),
    ("state-sessions", ("state", "max_sessions"), 0, "state.max_sessions", "greater than 0"),
    # the router's tables: every tier, profile, harness, provider and compat name is a known one
    (
        "rule-tier",
        ("routing", "rules"),
        [{"tier": "reasonin"}],
        "routing.rules[0].tier",
        "unknown tier 'reasonin' (did you mean 'reasoning'?)",
    ),
    (
        "rule-profile",
        ("routing", "rules"),
        [{"match": {"profile": "plannr"}, "tier": "quick"}],
        "routing.rules[0].match.profile[0]",
        "unknown profile 'plannr' (did you mean 'planner'?)",
    ),
    (
        "rule-harness",
        ("routing", "rules"),
        [{"match": {"harness": ["claude-code"]}, "model": "kimi"}],
        "routing.rules[0].match.harness[0]",
        "unknown harness 'claude-code' (did you mean 'claude_code'?)",
    ),
    (
        "profile-name",
        ("routing", "profiles"),
        {"plannr": {"tier": "reasoning"}},
        "routing.profiles.plannr",
        "unknown profile 'plannr' (did you mean 'planner'?)",
    ),
    (
        "profile-tier",
        ("routing", "profiles"),
        {"planner": {"tier": "reasoningg"}},
        "routing.profiles.planner.tier",
        "unknown tier 'reasoningg' (did you mean 'reasoning'?)",
    ),
    (
        "classifier-llm",
        ("routing", "classifier"),
        {"llm": "yes"},
        "routing.classifier.llm",
        "expected true or false",
    ),
    (
        "classifier-provider",
        ("routing", "classifier"),
        {"providers": ["ghost"]},
        "routing.classifier.providers[0]",
        "unknown provider 'ghost'",
    ),
    (
        "telemetry-compat",
        ("telemetry", "compat"),
        ["claude-code"],
        "telemetry.compat[0]",
        "unknown name set 'claude-code' (did you mean 'claude_code'?)",
    ),
]


@pytest.mark.parametrize(
    ("keys", "value", "path", "fragment"),
    [c[1:] for c in CASES],
    ids=[c[0] for c in CASES],
)
def test_one_error(keys: tuple[str, ...], value: Any, path: str, fragment: str) -> None:
    found = errors(doc((keys, value)))
    assert len(found) == 1, found
    assert found[0][0] == path
    assert fragment in found[0][1], found[0][1]


def test_an_unknown_tier_lock_in_the_environment_is_an_error() -> None:
    found = errors(doc(), {**ENV, "TIERLINE_TIER": "bogus"})
    assert found == [
        (
            "TIERLINE_TIER",
            "unknown tier 'bogus' in the environment "
            "(routing.tier_order: reasoning, coding, quick)",
        )
    ]
    parse_config(doc(), {**ENV, "TIERLINE_TIER": "quick"}, source=None)


def test_every_error_is_collected_at_once() -> None:
    found = errors(
        doc(
            (("server", "port"), 99999),
            (("providers", "openrouter", "api_keys"), ["env:NOPE"]),
            (("routing", "default_model"), "nope"),
            (("budgets",), {}),
        )
    )
    assert [p for p, _ in found] == [
        "budgets",
        "providers.openrouter.api_keys[0]",
        "routing.default_model",
        "server.port",
    ]


def test_an_invalid_provider_is_reported_once() -> None:
    """A model on a provider that failed to load gets no second error."""
    found = errors(doc((("providers", "local", "kind"), DELETE)))
    assert found == [
        ("providers.local.kind", "required for provider 'local' (openai or anthropic)")
    ]
    found = errors(
        doc((("models", "loc"), {"provider": "local"}), (("providers", "local", "kind"), DELETE))
    )
    assert [p for p, _ in found] == ["providers.local.kind"]


def test_an_invalid_model_is_not_reported_again_where_it_is_named() -> None:
    found = errors(doc((("models", "kimi", "provider"), "nope")))
    assert [p for p, _ in found] == ["models.kimi.provider"]


def test_secrets_never_appear_in_errors() -> None:
    found = errors(
        doc(
            (("state", "redis_url"), "http://u:hunter2@h"),
            (("providers", "openrouter", "base_url"), "sk-or-secret"),
        ),
        env=ENV,
    )
    text = repr(found)
    assert "hunter2" not in text
    assert "sk-ant-secret" not in text


def test_config_error_message_lists_paths() -> None:
    exc = ConfigError([("a.b", "bad"), ("c", "worse")])
    assert str(exc) == "a.b: bad; c: worse"
    assert exc.errors == [("a.b", "bad"), ("c", "worse")]
