# ruff: noqa: E501  (request bodies read best on one line)
"""The Router end to end (pure: in-memory store, a fixed clock, no network)."""

from __future__ import annotations

from typing import Any

import pytest

from sidecar.config import Config, parse_config
from sidecar.errors import NotFound
from sidecar.exchange import Exchange, ToolCall, Usage
from sidecar.routing.engine import Router
from sidecar.routing.plan import RoutePlan
from sidecar.sessions.state import MemoryStore

CC = "You are Claude Code, Anthropic's official CLI for Claude."
H = {"user-agent": "claude-cli/2.0.14 (external, cli)", "x-claude-code-session-id": "s1"}


def config(**routing: Any) -> Config:
    data: dict[str, Any] = {
        "providers": {
            "anthropic": {"api_keys": ["env:K"]},
            "openrouter": {"api_keys": ["env:K"]},
        },
        "routing": routing,
    }
    return parse_config(data, {"K": "k"})


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def router(clock: Clock | None = None, **routing: Any) -> Router:
    return Router(config(**routing), store=MemoryStore(), clock=clock or Clock())


def cc(*messages: Any, model: str = "claude-sonnet-4-5", **extra: Any) -> dict[str, Any]:
    msgs = [{"role": "user", "content": m} if isinstance(m, str) else m for m in messages]
    return {"model": model, "max_tokens": 8000, "system": CC, "messages": msgs, **extra}


def tool_turn(
    i: int, name: str, args: dict[str, Any], result: str, error: bool = False
) -> list[dict[str, Any]]:
    tid = f"toolu_{i}"
    res: dict[str, Any] = {"type": "tool_result", "tool_use_id": tid, "content": result}
    if error:
        res["is_error"] = True
    return [
        {
            "role": "assistant",
            "content": [{"type": "tool_use", "id": tid, "name": name, "input": args}],
        },
        {"role": "user", "content": [res]},
    ]


def route(
    r: Router,
    body: dict[str, Any],
    headers: dict[str, str] | None = None,
    protocol: str = "anthropic",
) -> RoutePlan:
    return r.route(protocol, body, headers if headers is not None else H)


def test_classifier_decides_tiers_and_the_primary_floor() -> None:
    r = router()
    plan = route(
        r, cc("Users get logged out randomly after the token refresh change, figure out why")
    )
    assert (plan.tier, plan.profile, plan.method) == ("reasoning", "debugger", "heuristic")
    assert plan.candidates[0].name == "claude-opus-4-7"
    assert plan.harness == "claude_code" and plan.session_id == "s1" and not plan.subagent
    plan = route(
        r, cc("where is the rate limiter configured?"), {**H, "x-claude-code-session-id": "s2"}
    )
    assert (plan.tier, plan.method) == ("coding", "floor")
    assert plan.route_header.startswith("floor assistant")


def test_background_requests_go_to_quick() -> None:
    plan = route(router(), cc("hi", model="claude-haiku-4-5"))
    assert (plan.tier, plan.method, plan.subagent) == ("quick", "agent", True)
    assert plan.state_key == ""  # background requests do not touch session state


def test_precedence_header_directive_lock_named_rule_tag() -> None:
    r = router(heavy_tags=["auth"], heavy_model="anthropic:claude-opus-4-7",
               rules=[{"match": {"profile": "coder", "harness": "claude_code"}, "tier": "quick", "name": "cheap cc"}])  # fmt: skip
    assert route(r, cc("add a button"), {**H, "x-tierline-tier": "reasoning"}).method == "header"
    plan = route(r, cc("/plan add a button"), {**H, "x-claude-code-session-id": "d"})
    assert (plan.method, plan.tier, plan.override) == ("directive", "reasoning", "directive")
    assert route(r, cc("add a button", model="coding")).method == "explicit"
    rule = route(r, cc("add a button"), {**H, "x-claude-code-session-id": "r"})
    assert (rule.method, rule.tier) == ("rule", "quick") and "cheap cc" in rule.reason
    tag = route(
        r, cc("explain the flow"), {**H, "x-tierline-tags": "auth", "x-claude-code-session-id": "t"}
    )
    assert (tag.method, tag.tier, tag.candidates[0].name) == (
        "tag",
        "reasoning",
        "anthropic:claude-opus-4-7",
    )


def test_lock_holds_until_auto() -> None:
    r = router()
    first = [*cc("/lock debugger")["messages"], {"role": "assistant", "content": "Locked."}]
    plan = route(r, cc(*first, "add a button"))
    assert (plan.method, plan.tier, plan.profile) == ("lock", "reasoning", "debugger")
    unlocked = [
        *first,
        {"role": "user", "content": "/auto"},
        {"role": "assistant", "content": "ok"},
    ]
    plan = route(r, cc(*unlocked, "add a button"))
    assert plan.method in ("heuristic", "sticky") and plan.tier in ("coding", "reasoning")


def test_directives_are_removed_from_every_user_message_the_same_way() -> None:
    r = router()
    msgs: list[Any] = ["/plan the cache layer", {"role": "assistant", "content": "Plan: ..."}]
    p1 = route(r, cc(*msgs))
    p2 = route(r, cc(*msgs, "ok /code it now"))
    assert p1.body is not None and p2.body is not None
    assert (
        p1.body["messages"][0]
        == p2.body["messages"][0]
        == {"role": "user", "content": "the cache layer"}
    )
    assert p2.body["messages"][2]["content"] == "ok /code it now"  # mid-sentence: not a directive
    assert p2.method != "directive"  # only the last human message's directive acts


def test_unknown_model_without_catch_all_is_not_found() -> None:
    r = router(aliases={"claude-*": "auto"})
    with pytest.raises(NotFound):
        route(r, cc("hi", model="gpt-9"))
    assert route(r, cc("add a flag", model="claude-opus-4-5")).tier == "coding"


def test_stickiness_ignores_an_unsure_change() -> None:
    r = router()
    base = cc("Implement cursor pagination for /orders")
    assert route(r, base).tier == "coding"
    unsure = cc(
        *base["messages"], {"role": "assistant", "content": "done"}, "hmm what about the other one"
    )
    plan = route(r, unsure)
    assert plan.confidence < 0.55
    assert plan.method in ("sticky", "floor") and plan.tier == "coding"


def test_phase_switches_to_debugging_after_a_failing_run() -> None:
    r = router()
    msgs: list[Any] = ["Add input validation to the signup form"]
    msgs += tool_turn(
        1, "Edit", {"file_path": "src/signup.ts", "old_string": "a", "new_string": "b"}, "ok"
    )
    msgs += tool_turn(2, "Bash", {"command": "npm test"}, "Tests: 1 failed, 9 passed", error=True)
    plan = route(r, cc(*msgs))
    assert (plan.method, plan.profile, plan.tier) == ("phase", "debugger", "reasoning")


def test_path_tags_from_tool_calls_route_to_the_heavy_model() -> None:
    r = router(heavy_tags=["migration"], heavy_model="anthropic:claude-opus-4-7",
               path_tags={"migrations/*.sql": "migration"})  # fmt: skip
    msgs: list[Any] = ["add a column for referral codes"]
    msgs += tool_turn(
        1, "Write", {"file_path": "/repo/db/migrations/0042_ref.sql", "content": "ALTER"}, "ok"
    )
    plan = route(r, cc(*msgs))
    assert plan.tags == ("migration",) and plan.method == "tag"


def test_fit_steps_to_a_larger_window() -> None:
    r = router(tiers={"coding": ["kimi-k2.5", "claude-sonnet-4-6"]})
    big = "log line with several words in it\n" * 30000  # ~1M chars
    msgs: list[Any] = ["wire the importer into the nightly job"]
    msgs += tool_turn(1, "Read", {"file_path": "a.log"}, big)
    plan = route(r, cc(*msgs))
    assert plan.tier == "coding" and plan.candidates[0].name == "claude-sonnet-4-6"
    assert "kimi-k2.5 (context" in plan.reason


def test_fit_never_steps_down_for_a_larger_window() -> None:
    r = router(tiers={"reasoning": ["claude-opus-4-5"], "coding": ["kimi-k2.5"],
                      "quick": ["gemini-2.5-flash"]})  # fmt: skip
    msgs: list[Any] = ["/plan the importer rewrite"]
    msgs += tool_turn(1, "Read", {"file_path": "a.log"}, "log line with several words\n" * 60000)
    plan = route(r, cc(*msgs))  # ~560k tokens: only the quick tier's 1M window would fit
    assert plan.tier == "reasoning" and plan.candidates[0].name == "claude-opus-4-5"
    assert "no candidate fits" in plan.reason and "gemini" not in plan.reason


def test_images_skip_models_without_vision() -> None:
    r = router(tiers={"coding": ["kimi-k2", "claude-sonnet-4-5"]})
    img = {"role": "user", "content": [{"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "AA"}},
                                       {"type": "text", "text": "implement this mockup"}]}  # fmt: skip
    plan = route(r, cc(img))
    assert plan.candidates[0].name == "claude-sonnet-4-5" and "no vision" in plan.reason


def _exchange(
    plan: RoutePlan, model: str, calls: tuple[ToolCall, ...] = (), prompt: int = 0
) -> Exchange:
    return Exchange(
        request_id="r", session_id=plan.session_id, client_protocol="anthropic", stream=False,
        requested_model=plan.requested_model, model=model, provider="anthropic", upstream_model=model,
        attempts=(), usage=Usage(input_tokens=prompt), tool_calls=calls,
    )  # fmt: skip


def test_review_alternates_from_the_writer() -> None:
    r = router(review_strategy="alternate")
    plan = route(r, cc("Implement the refund endpoint in src/refund.py"))
    edit = ToolCall(
        "t1", "Edit", '{"file_path": "src/refund.py", "old_string": "a", "new_string": "b"}'
    )
    r.observe(plan, _exchange(plan, "claude-opus-4-7", (edit,)))
    review = cc(*cc("Implement the refund endpoint in src/refund.py")["messages"],
                {"role": "assistant", "content": "done"}, "Review src/refund.py for security issues")  # fmt: skip
    plan = route(r, review)
    assert plan.profile == "reviewer" and plan.candidates[0].name != "claude-opus-4-7"
    assert "alternate review" in plan.reason


def test_cache_awareness_keeps_the_warm_model() -> None:
    clock = Clock()
    r = router(clock, tiers={"coding": ["kimi-k2.5", "claude-sonnet-4-5"]})
    msgs: list[Any] = ["Implement the importer"]
    msgs += tool_turn(1, "Read", {"file_path": "a.py"}, "x = 1\n" * 40000)
    plan = route(r, cc(*msgs))
    assert plan.candidates[0].name == "kimi-k2.5"
    r.observe(
        plan, _exchange(plan, "claude-sonnet-4-5", prompt=150_000)
    )  # it was sonnet that answered
    clock.now += 30
    msgs += tool_turn(2, "Edit", {"file_path": "a.py", "old_string": "x", "new_string": "y"}, "ok")
    plan = route(r, cc(*msgs))
    assert plan.candidates[0].name == "claude-sonnet-4-5" and "warm cache 80k" in plan.reason
    clock.now += 600  # the cache went cold
    plan = route(r, cc(*msgs, {"role": "assistant", "content": "ok"}, "continue"))
    assert plan.candidates[0].name == "kimi-k2.5"


def _warm_session(r: Router, model: str, clock: Clock) -> list[Any]:
    """A /plan turn over a ~150k-token file read that ``model`` answered."""
    msgs: list[Any] = ["/plan the importer rewrite"]
    msgs += tool_turn(1, "Read", {"file_path": "a.py"}, "x = 1\n" * 75_000)
    plan = route(r, cc(*msgs))
    r.observe(plan, _exchange(plan, model, prompt=150_000))
    clock.now += 30
    return [*msgs, {"role": "assistant", "content": "Plan: ..."}]


def test_cache_awareness_keeps_a_warm_model_of_a_stronger_tier() -> None:
    clock = Clock()
    r = router(clock)
    msgs = _warm_session(r, "claude-opus-4-7", clock)
    plan = route(r, cc(*msgs, "rename the variable x"))
    assert plan.tier == "coding"  # the decision stands; the warm model serves it
    assert plan.candidates[0].name == "claude-opus-4-7"
    assert plan.candidates[1].name == "kimi-k2.5"
    assert "kept claude-opus-4-7: warm cache 150k tokens, $0.075 vs $0.09" in plan.reason
    assert "on kimi-k2.5" in plan.reason


def test_cache_awareness_never_moves_to_a_weaker_tier() -> None:
    clock = Clock()
    r = router(clock)
    msgs = _warm_session(r, "claude-3-5-haiku", clock)  # warm, but a quick-tier model
    plan = route(r, cc(*msgs, "rename the variable x"))
    assert plan.candidates[0].name == "kimi-k2.5" and "warm cache" not in plan.reason


def test_shadow_mode_sends_what_was_asked() -> None:
    r = router(mode="shadow")
    plan = route(r, cc("/plan the rollout of the new billing system"))
    assert plan.candidates[0].name == "claude-sonnet-4-5"  # as asked (served via the catalog)
    assert plan.shadow_model == "claude-opus-4-7" and plan.body is None
    assert "shadow=claude-opus-4-7" in plan.route_header and plan.reason.startswith("shadow mode")


def test_profile_addendum_appended_after_the_system_prompt() -> None:
    r = router(profiles={"debugger": {"system_addendum": "Form a hypothesis before editing."}})
    plan = route(r, cc("the export crashes with a KeyError, figure out why"))
    assert (
        plan.body is not None
        and plan.body["system"] == CC + "\n\nForm a hypothesis before editing."
    )


def test_custom_tier_names() -> None:
    r = router(
        tier_order=["orchestrator", "quality-critical", "specialist", "worker"],
        default_tier="specialist",
        tiers={"orchestrator": ["claude-opus-4-7"], "quality-critical": ["kimi-k2-thinking"],
               "specialist": ["claude-sonnet-4-5"], "worker": ["claude-haiku-4-5"]},
        profiles={"debugger": {"tier": "quality-critical"}, "reviewer": {"tier": "quality-critical"}},
    )  # fmt: skip
    assert route(r, cc("Plan the migration to the new queue")).tier == "orchestrator"
    plan = route(
        r, cc("the export crashes with a KeyError"), {**H, "x-claude-code-session-id": "x"}
    )
    assert (plan.tier, plan.candidates[0].name) == ("quality-critical", "kimi-k2-thinking")
    assert route(r, cc("hi", model="claude-haiku-4-5")).tier == "worker"


def test_single_pass_over_unseen_messages() -> None:
    store = MemoryStore()
    r = Router(config(), store=store, clock=Clock())
    msgs: list[Any] = ["Implement the importer"]
    for i in range(50):
        msgs += tool_turn(i, "Read", {"file_path": f"f{i}.py"}, "ok")
    plan = route(r, cc(*msgs))
    state = store.get(plan.state_key)
    assert state is not None and state.seen == len(msgs) and state.reads == 50
    msgs += tool_turn(
        99, "Edit", {"file_path": "f1.py", "old_string": "a", "new_string": "b"}, "ok"
    )
    route(r, cc(*msgs))
    assert state.seen == len(msgs) and state.reads == 50 and state.edits == 1  # only the new two
    edited = [
        *msgs[:-3],
        {"role": "user", "content": "summary of earlier work"},
    ]  # history rewritten
    route(r, cc(*edited))
    assert state.seen == len(edited) and state.edits == 0  # noticed and rescanned once


class _Broken(Router):
    """A router whose decision logic has a bug (a subclass, not a patch of the real one)."""

    def _route(self, protocol: str, body: Any, headers: Any) -> RoutePlan:
        raise KeyError("bug")


def test_a_routing_bug_does_not_fail_the_request(caplog: pytest.LogCaptureFixture) -> None:
    r = _Broken(config(default_model="claude-sonnet-4-5"), store=MemoryStore())
    plan = r.route("anthropic", cc("add a button"), H)
    assert plan.candidates[0].name == "claude-sonnet-4-5" and plan.method == "static"
    assert "routing failed" in caplog.text
    with pytest.raises(NotFound):  # the taxonomy's errors still reach the client
        Router(config(aliases={"x": "auto"}), store=MemoryStore()).route(
            "anthropic", cc("hi", model="y"), H
        )


def test_a_rule_matches_any_header_it_names_whatever_its_case() -> None:
    """``match.header`` names any header (the README's ``x-team``), not only the
    session and harness headers the router reads for itself."""
    rules = [{"name": "infra", "match": {"header": {"X-Team": "infra"}}, "tier": "quick"}]
    r = router(rules=rules)
    body = {"model": "auto", "max_tokens": 100, "messages": [{"role": "user", "content": "design the new auth architecture"}]}
    hit = r.route("anthropic", body, {"x-TEAM": "infra"})
    assert (hit.tier, hit.method) == ("quick", "rule")
    miss = r.route("anthropic", body, {"x-team": "ml"})
    assert miss.method != "rule" and miss.tier == "reasoning"
