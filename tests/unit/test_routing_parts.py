# ruff: noqa: E501  (table rows read best on one line)
"""Pure routing parts: directives, classifier, phase, agent roles, fit, settings, catalog."""

from __future__ import annotations

import dataclasses
import inspect
from typing import Any

import pytest

from sidecar.catalog import load_catalog, merge_model
from sidecar.config import ConfigError, ModelConfig, Prices, parse_config
from sidecar.protocols.conversation import Conversation
from sidecar.routing.agents import detect_role
from sidecar.routing.catalog import TierBuilder, blended_price, provider_usable
from sidecar.routing.classifier import TurnActivity, classify_text, phase, routine_failure
from sidecar.routing.directives import Directives, strip_message, strip_text
from sidecar.routing.fit import Needs, fit, head_of, keep_warm, needs_of, serves, unfit
from sidecar.routing.plan import RoutePlan
from sidecar.routing.rewrite import alternate_reviewer, rewrite_body
from sidecar.routing.settings import parse_classifier, parse_rules

# -- directives ----------------------------------------------------------------

DIRECTIVES = [
    ("/plan how should we shard this", ("plan",), "how should we shard this"),
    ("/tag auth /debug login 500s", ("tag", "debug"), "login 500s"),
    ("  /refactor\nthe parser", ("refactor",), "the parser"),
    ("/lock debugger", ("lock",), "(tierline directive: /lock debugger)"),  # nothing left
    ("/auto", ("auto",), "(tierline directive: /auto)"),
    (
        "<command-message>lock is running…</command-message>\n<command-name>/lock</command-name>\n"
        "<command-args>quick</command-args>",
        ("lock",),
        "(tierline directive: /lock quick)",
    ),
    ("please /code this", (), "please /code this"),
    ("/code/app.py is broken", (), "/code/app.py is broken"),
    ("see https://x.dev/code and fix it", (), "see https://x.dev/code and fix it"),
    ("/codex is a tool", (), "/codex is a tool"),
    ("/lock", (), "/lock"),
    (
        "<command-message>plan is running…</command-message>\n<command-name>/plan</command-name>\n"
        "<command-args>design the cache</command-args>",
        ("plan",),
        "design the cache",
    ),
    (
        "<command-name>/tag</command-name><command-args>billing fix wording</command-args>",
        ("tag",),
        "fix wording",
    ),  # fmt: skip
]


@pytest.mark.parametrize(("text", "names", "out"), DIRECTIVES)
def test_strip_text(text: str, names: tuple[str, ...], out: str) -> None:
    found, rest = strip_text(text)
    assert tuple(d.name for d in found) == names
    assert rest == out
    assert strip_text(rest)[1] == rest  # idempotent


def test_directives_summary() -> None:
    found, _ = strip_text("/tag auth,billing /lock reasoning /debug x")
    d = Directives.of(found)
    assert d.profile == "debugger" and d.lock == "reasoning" and d.tags == ("auth", "billing")
    assert Directives.of(strip_text("/auto")[0]).unlock


def test_strip_message_blocks_and_copy_on_write() -> None:
    msg = {
        "role": "user",
        "content": [
            {"type": "text", "text": "<system-reminder>ctx</system-reminder>"},
            {"type": "text", "text": "/plan the rollout", "cache_control": {"type": "ephemeral"}},
        ],
    }
    found, new = strip_message(msg)
    assert [d.name for d in found] == ["plan"]
    assert isinstance(new, dict)
    assert new["content"][1] == {
        "type": "text",
        "text": "the rollout",
        "cache_control": {"type": "ephemeral"},
    }
    assert msg["content"][1]["text"] == "/plan the rollout"  # input untouched
    assert strip_message({"role": "assistant", "content": "/plan"})[0] == ()


def test_rewrite_body_is_stable_across_requests() -> None:
    def body(n: int) -> dict[str, Any]:
        msgs: list[dict[str, Any]] = [{"role": "user", "content": "/plan the cache"}]
        for i in range(n):
            msgs += [{"role": "assistant", "content": "ok"}, {"role": "user", "content": f"go {i}"}]
        return {"model": "auto", "messages": msgs}

    first = rewrite_body("openai", body(0), [0], "")
    later = rewrite_body("openai", body(3), [0], "")
    assert first is not None and later is not None
    assert first["messages"][0] == later["messages"][0] == {"role": "user", "content": "the cache"}
    assert rewrite_body("openai", body(1), [], "") is None


def test_rewrite_body_addendum_after_the_harness_system_prompt() -> None:
    anth = rewrite_body(
        "anthropic", {"system": [{"type": "text", "text": "CC"}], "messages": []}, [], "ADD"
    )
    assert anth is not None and anth["system"] == [
        {"type": "text", "text": "CC"},
        {"type": "text", "text": "ADD"},
    ]
    oa = rewrite_body(
        "openai",
        {"messages": [{"role": "system", "content": "S"}, {"role": "user", "content": "u"}]},
        [],
        "ADD",
    )
    assert oa is not None and [m["content"] for m in oa["messages"]] == ["S", "ADD", "u"]
    resp = rewrite_body("responses", {"instructions": "I", "input": "x"}, [], "ADD")
    assert resp is not None and resp["instructions"] == "I\n\nADD"


# -- classifier ------------------------------------------------------------------

CLASSIFY = [
    ("Plan the architecture for auth", "planner"),
    ("Now implement the auth module", "coder"),
    ("What does this function do?", "assistant"),
    ("Debug the TypeError in the handler", "debugger"),
    ("Fix it", "coder"),
    ("can you take a look at my changes before I merge", "reviewer"),
    ("rename getUser to fetchUser across the codebase", "refactorer"),
    ("the totals on the invoice page don't add up since yesterday's deploy", "debugger"),
    (  # a routine error: the line and the fix are in front of the model (cases/README.md)
        "Traceback (most recent call last):\n  File \"a.py\", line 3, in <module>\nKeyError: 'x'",
        "coder",
    ),
    (
        'Traceback (most recent call last):\n  File "a.py", line 3, in <module>\n'
        "RuntimeError: Event loop is closed",
        "debugger",
    ),
    ("KeyError: 'x' but only on the second request", "debugger"),
    ("uploads over 10MB hang forever on Safari", "debugger"),  # "hangs?" gates on "hang" too
    ("Write a one-line commit message for this diff:\ndiff --git a/x b/x\n+add it", "assistant"),
    ("thanks", "assistant"),
    ("put the new banner on the pricing page", "coder"),  # "the pr" inside "pricing" is no PR
    ("see https://x.dev/code/review and add docstrings", "coder"),  # URL words are not intent
]


@pytest.mark.parametrize(("text", "profile"), CLASSIFY)
def test_classify_text(text: str, profile: str) -> None:
    c = classify_text(text)
    assert c.profile == profile
    assert 0.0 <= c.confidence <= 0.95


def test_phase_refines_from_the_third_message() -> None:
    base = classify_text("Add input validation to the signup form")
    failing = TurnActivity(
        edits=1, runs=1, failures=1, consecutive_failures=1, last_failed=True, messages=5
    )
    assert phase(failing, base).profile == "debugger"
    assert phase(failing, base).method == "phase"
    assert phase(TurnActivity(edits=1, last_failed=True, messages=2), base) is base
    planner = classify_text("Plan the rollout")
    assert phase(TurnActivity(edits=3, messages=8), planner).profile == "coder"
    # a compiler/linter error after edits is the edit-compile loop; a third one in a row is not
    compile_error = failing._replace(last_failure_routine=True)
    assert phase(compile_error, planner).profile == "coder"
    stuck = compile_error._replace(consecutive_failures=3)
    assert phase(stuck, base).profile == "debugger"


def test_routine_failure_is_a_compiler_error_not_a_test_run() -> None:
    assert routine_failure("src/a.ts:41:17 - error TS2322: Type 'string' is not assignable")
    assert routine_failure("cli.py:48:16: F821 undefined name 'argparse'")
    assert not routine_failure(
        "FAILED tests/test_a.py::test_x - NameError: name 'x' is not defined"
    )
    assert not routine_failure("AssertionError: expected 3, got 2")


# -- agent roles -----------------------------------------------------------------


def _conv(system: str, text: str) -> Conversation:
    return Conversation.from_body(
        "anthropic", {"system": system, "messages": [{"role": "user", "content": text}]}
    )


ROLES = [
    ("claude_code", "claude-haiku-4-5", {}, "You are Claude Code, Anthropic's official CLI for Claude.", "hi", "background"),
    ("claude_code", "claude-sonnet-4-5", {}, "Analyze if this message indicates a new conversation topic.", "x", "background"),
    ("claude_code", "claude-sonnet-4-5", {}, "You are a file search specialist for Claude Code", "find x", "subagent"),
    ("claude_code", "claude-sonnet-4-5", {}, "You are an agent for Claude Code, Anthropic's official CLI", "do x", "subagent"),
    ("claude_code", "claude-sonnet-4-5", {}, "You are Claude Code", "fix the bug", "primary"),
    ("opencode", "auto", {}, "You are a title generator. You output ONLY a thread title.", "x", "background"),
    ("codex", "gpt-5-codex", {"x-openai-subagent": "compact"}, "You are Codex", "x", "background"),
    ("codex", "gpt-5-codex", {"x-openai-subagent": "review"}, "You are Codex", "x", "subagent"),
]  # fmt: skip


@pytest.mark.parametrize(("harness", "model", "headers", "system", "text", "kind"), ROLES)
def test_detect_role(
    harness: str, model: str, headers: dict[str, str], system: str, text: str, kind: str
) -> None:
    assert detect_role(harness, model, headers, _conv(system, text), 32000).kind == kind


# -- fit ---------------------------------------------------------------------------


def _m(name: str, window: int = 200_000, **kw: Any) -> ModelConfig:
    return ModelConfig(name=name, provider="p", upstream=name, context_window=window, **kw)


def test_fit_prefers_larger_window_then_stronger_tier() -> None:
    cands = {
        "reasoning": [_m("big", 1_000_000)],
        "coding": [_m("small", 128_000), _m("wide", 400_000)],
    }
    order = ("reasoning", "coding", "quick")
    tier, ok, note = fit("coding", order, cands, Needs(tokens=200_000))
    assert (tier, [m.name for m in ok]) == ("coding", ["wide"]) and "small (context" in note
    tier, ok, note = fit("coding", order, cands, Needs(tokens=500_000))
    assert (tier, [m.name for m in ok]) == ("reasoning", ["big"]) and "stepped up" in note


def test_fit_never_steps_down_to_a_weaker_tier() -> None:
    cands = {
        "reasoning": [_m("strong", 200_000), _m("strong-wide", 400_000)],
        "coding": [_m("coder", 400_000)],
        "quick": [_m("huge", 2_000_000)],
    }
    order = ("reasoning", "coding", "quick")
    tier, ok, note = fit("coding", order, cands, Needs(tokens=900_000))
    assert tier == "coding" and [m.name for m in ok] == ["coder", "strong-wide", "strong"]
    assert note.startswith("no candidate fits 900000 tokens")
    tier, ok, note = fit("reasoning", order, cands, Needs(tokens=500_000))
    assert (tier, [m.name for m in ok]) == ("reasoning", ["strong-wide", "strong"])
    assert "huge" not in note


def test_unfit_capabilities() -> None:
    assert unfit(_m("a", vision=False), Needs(images=True)) == "no vision"
    assert unfit(_m("a", tools=False), Needs(tools=True)) == "no tools"
    assert unfit(_m("a", thinking=False), Needs(thinking=True)) == "no thinking"
    assert unfit(_m("a", max_output=8192), Needs(max_output=32000)) == "max output 8192"
    assert unfit(_m("a", thinking=True), Needs(thinking=True, tools=True)) is None


def test_needs_of_each_protocol() -> None:
    a = needs_of(
        "anthropic", {"thinking": {"type": "enabled"}, "max_tokens": 9, "tools": [{}]}, 5, 1
    )
    assert a == Needs(5, True, True, True, 9)
    assert needs_of(
        "openai", {"reasoning_effort": "high", "max_completion_tokens": 7}, 0, 0
    ).thinking
    assert not needs_of("responses", {"reasoning": {"effort": "minimal"}}, 0, 0).thinking


def test_keep_warm_only_when_cheaper() -> None:
    cheap = _m("cheap", prices=Prices(input=0.6, output=3, cache_read=0.1))
    warm = _m("warm", prices=Prices(input=3, output=15, cache_read=0.3, cache_write=3.75))
    out, note = keep_warm([cheap, warm], warm, 150_000, 30.0, 152_000)
    assert out[0] is warm and "warm cache 150k" in note  # 0.3*150k+3*2k < 0.6*152k
    tiny = _m("tiny", prices=Prices(input=0.1, output=0.4))
    out, note = keep_warm([tiny, warm], warm, 150_000, 30.0, 152_000)
    assert out[0] is tiny and note == ""  # 0.1*152k < 0.3*150k+3*2k: switching wins
    pricey = _m("pricey", prices=Prices(input=5, output=25, cache_read=0.5, cache_write=6.25))
    out, note = keep_warm([pricey, warm], warm, 150_000, 30.0, 152_000)
    assert out[0] is warm and "warm cache" in note
    assert keep_warm([pricey, warm], warm, 150_000, 900.0, 152_000)[0][0] is pricey  # cold
    out, _ = keep_warm([cheap], warm, 150_000, 30.0, 152_000)  # not a candidate: put first
    assert [m.name for m in out] == ["warm", "cheap"]


def test_alternate_reviewer() -> None:
    a, b = _m("a"), _m("b")
    out, note = alternate_reviewer([a, b], {"src/x.py": "a"}, ["src/x.py"])
    assert [m.name for m in out] == ["b", "a"] and "b reviews what a wrote" in note
    assert alternate_reviewer([a, b], {"src/x.py": "b"}, ["src/x.py"])[0] == [a, b]


# -- settings ----------------------------------------------------------------------


def test_rules_and_classifier_settings_are_validated() -> None:
    rules = parse_rules(({"match": {"tags": ["auth"], "agent": "primary"}, "tier": "reasoning"},))
    assert rules[0].matches(("auth", "x"), "coder", "sdk", "primary", {}, 10)
    assert not rules[0].matches(("x",), "coder", "sdk", "primary", {}, 10)
    with pytest.raises(ConfigError) as err:
        parse_rules(({"match": {"agent": "robot"}, "tier": "x", "model": "y"},))
    assert {p for p, _ in err.value.errors} == {"routing.rules[0]"}
    assert parse_classifier({"threshold": 0.4, "llm": True}).threshold == 0.4
    with pytest.raises(ConfigError):
        parse_classifier({"treshold": 0.4})


# -- catalog -----------------------------------------------------------------------


def test_catalog_has_current_models_with_prices_and_ranks() -> None:
    cat = load_catalog()
    assert len(cat.entries) >= 25
    for family in (
        "claude-opus",
        "claude-sonnet",
        "claude-haiku",
        "gpt-5",
        "gpt-4.1",
        "o3",
        "o4-mini",
        "gemini-2.5-pro",
        "gemini-2.5-flash",
        "kimi-k2",
        "minimax",
        "deepseek",
        "qwen",
        "glm",
    ):
        assert any(n.startswith(family) for n in cat.entries), family  # fmt: skip
    for e in cat.entries.values():
        assert e.prices.input is not None and e.price_source in ("genai-prices", "catalog"), e.name
        assert e.ranks and e.upstream, e.name
    assert cat.entries["claude-sonnet-4-5"].price_source == "genai-prices"
    assert cat.entries["qwen3-coder-30b-local"].prices.as_of  # catalog prices are dated
    offline = load_catalog(use_genai_prices=False)
    assert offline.entries["claude-sonnet-4-5"].prices.input is None


def test_merge_model_table_wins_field_by_field() -> None:
    entry = load_catalog().entries["claude-sonnet-4-5"]
    merged = merge_model(entry, {"context_window": 100_000, "prices": {"input": 2.0}})
    assert merged["context_window"] == 100_000 and merged["thinking"] is True
    assert merged["prices"].input == 2.0 and merged["prices"].output == entry.prices.output


def test_config_models_merge_over_catalog() -> None:
    cfg = parse_config(
        {"providers": {"anthropic": {"api_keys": ["env:K"]}},
         "models": {"claude-sonnet-4-5": {"provider": "anthropic", "prices": {"input": 2.5}}}},
        {"K": "k"},
    )  # fmt: skip
    m = cfg.models["claude-sonnet-4-5"]
    assert m.upstream == "claude-sonnet-4-5" and m.max_output == 64000 and m.thinking
    assert m.prices.input == 2.5 and m.prices.output == 15.0


def test_tier_candidates_need_a_configured_provider() -> None:
    cfg = parse_config(
        {"providers": {"anthropic": {"api_keys": ["env:K"]},
                       "local": {"kind": "openai", "base_url": "http://127.0.0.1:9/v1"}},
         "models": {"mystery-reasoner": {"provider": "local", "reasoning": True,
                                         "prices": {"input": 9, "output": 30}},
                    "mystery-cheap": {"provider": "local", "prices": {"input": 0.1, "output": 0.2}}}},
        {"K": "k"},
    )  # fmt: skip
    table = TierBuilder(cfg, load_catalog()).build()
    reasoning = [m.name for m in table.candidates["reasoning"]]
    assert reasoning[0] == "claude-opus-4-7" and "mystery-reasoner" in reasoning
    assert all(
        m.provider in ("anthropic", "local") for t in table.order for m in table.candidates[t]
    )
    assert "mystery-cheap" in [m.name for m in table.candidates["quick"]]
    assert "gpt-5" not in table.available  # no OpenAI provider configured
    assert provider_usable(cfg.providers["local"])  # keyless on loopback


def test_routing_tiers_override_and_provider_references() -> None:
    cfg = parse_config(
        {"providers": {"openrouter": {"api_keys": ["env:K"]}},
         "routing": {"tiers": {"coding": ["openrouter:moonshotai/kimi-k2.5"]}}},
        {"K": "k"},
    )  # fmt: skip
    table = TierBuilder(cfg, load_catalog()).build()
    (only,) = table.candidates["coding"]
    assert only.upstream == "moonshotai/kimi-k2.5" and only.context_window == 262144


def test_quick_is_ranked_by_blended_price() -> None:
    keys = {"api_keys": ["env:K"]}
    cfg = parse_config(
        {"providers": {"openai": keys, "openrouter": keys, "anthropic": keys},
         "models": {"gpt-4.1-nano": {"provider": "openai", "prices": {"input": 9, "output": 9}}}},
        {"K": "k"},
    )  # fmt: skip
    quick = TierBuilder(cfg, load_catalog()).build().candidates["quick"]
    names = [m.name for m in quick]
    prices = [blended_price(m) for m in quick]
    assert prices == sorted(prices, key=lambda p: float("inf") if p is None else p)
    assert names[0] == "gpt-5-nano"  # $0.05 in / $0.40 out: blended $0.1375/M
    assert names.index("gemini-2.5-flash-lite") < names.index("minimax-m2.5")
    assert names[-1] == "gpt-4.1-nano"  # a config price override moves it (blended $9/M)
    assert blended_price(quick[0]) == (3 * 0.05 + 0.4) / 4


def test_the_fit_fast_path_agrees_with_fit() -> None:
    models = [_m("a", 200_000, max_output=64000), _m("b", 1_000_000, vision=False), _m("c")]
    head = head_of(models, 2)
    order = ("reasoning", "coding", "quick")
    for needs in (Needs(tokens=100_000), Needs(tokens=180_000), Needs(images=True),
                  Needs(max_output=100_000), Needs(tools=True, thinking=True)):  # fmt: skip
        tier, ok, _ = fit("coding", order, {"coding": models}, needs, 2)
        if serves(head, needs):
            assert ok == list(head.models)
        else:
            assert ok != list(head.models)
    assert serves(head, Needs(max_output=100_000), clamp=True)


def test_route_plan_init_takes_the_fields_with_their_defaults() -> None:
    """RoutePlan writes its fields in its own ``__init__`` (cheaper than the generated one):
    same names, same order, same defaults."""
    params = list(inspect.signature(RoutePlan.__init__).parameters.values())[1:]
    assert [p.name for p in params] == [f.name for f in dataclasses.fields(RoutePlan)]
    for p, f in zip(params, dataclasses.fields(RoutePlan), strict=True):
        assert p.default == (
            inspect.Parameter.empty if f.default is dataclasses.MISSING else f.default
        )
    plan = RoutePlan("auto", (), tier="coding")
    assert dataclasses.replace(plan, tier="quick").tier == "quick" and plan == RoutePlan(
        "auto", (), "coding"
    )
    with pytest.raises(dataclasses.FrozenInstanceError):
        plan.tier = "quick"  # type: ignore[misc]
