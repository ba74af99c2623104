# ruff: noqa: E501  (request bodies read best on one line)
"""The LLM classifier against the fake provider, `tierline explain` / `tierline models`,
and the router inside the app (decision headers, directives stripped upstream, shadow mode)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from aiohttp import ClientSession
from aiohttp.test_utils import TestServer

from sidecar.cli import main
from sidecar.config import parse_config
from sidecar.demo.fake_provider import build_fake_app
from sidecar.routing.engine import Router, build_router
from sidecar.routing.explain import guess_protocol
from sidecar.sessions.state import MemoryStore
from tests.conftest import fake_requests

UNSURE = "hmm, what about the other thing we talked about"


def _config(base: str, **routing: Any) -> Any:
    return parse_config(
        {
            "providers": {"fake": {"kind": "openai", "base_url": base + "/v1"}},
            "models": {
                "cheap": {
                    "provider": "fake",
                    "upstream": "fake-cheap",
                    "prices": {"input": 0.1, "output": 0.4},
                },
                "strong": {
                    "provider": "fake",
                    "upstream": "fake-strong",
                    "reasoning": True,
                    "prices": {"input": 5, "output": 25},
                },
            },  # fmt: skip
            "routing": routing,
        },
        {},
    )


async def _script(fake: TestServer, replies: list[dict[str, Any]]) -> None:
    async with ClientSession() as s:
        async with s.post(fake.make_url("/_fake/script"), json=replies) as resp:
            assert resp.status < 300


async def test_llm_classifier_answers_later_requests_of_the_turn(aiohttp_server: Any) -> None:
    fake: TestServer = await aiohttp_server(build_fake_app())
    cfg = _config(str(fake.make_url("")).rstrip("/"), classifier={"llm": True, "threshold": 0.6, "timeout": 30.0})
    async with ClientSession() as session:
        router = build_router(cfg, lambda: session)
        assert router.llm is not None and router.llm.model.name == "cheap"  # cheapest quick model
        await _script(fake, [{"text": "debugger"}])
        body = {"model": "auto", "messages": [{"role": "user", "content": UNSURE}]}
        first = router.route("openai", body, {"x-tierline-session": "s"})
        assert first.method == "heuristic"  # the LLM never blocks the request
        await router.llm.drain()
        second = router.route("openai", body, {"x-tierline-session": "s"})
        assert (second.method, second.profile, second.tier) == ("llm", "debugger", "reasoning")
    sent = [r for r in await fake_requests(fake) if r["path"] == "/v1/chat/completions"]
    assert len(sent) == 1 and sent[0]["body"]["max_tokens"] <= 16
    assert UNSURE in sent[0]["body"]["messages"][0]["content"]


async def test_llm_classifier_answers_the_triggering_request(aiohttp_server: Any) -> None:
    fake: TestServer = await aiohttp_server(build_fake_app())
    cfg = _config(str(fake.make_url("")).rstrip("/"), classifier={"llm": True, "threshold": 0.6, "timeout": 30.0})
    async with ClientSession() as session:
        router = build_router(cfg, lambda: session)
        await _script(fake, [{"text": "debugger"}])
        body = {"model": "auto", "messages": [{"role": "user", "content": UNSURE}]}
        h = {"x-tierline-session": "now"}
        await router.load("openai", body, h)  # the awaited step before route
        plan = router.route("openai", body, h)
        assert (plan.method, plan.profile, plan.tier) == ("llm", "debugger", "reasoning")
        await router.load("openai", body, h)  # cached: no second call
        sure = {
            "model": "auto",
            "messages": [{"role": "user", "content": "Plan the migration to the new queue"}],
        }
        await router.load("openai", sure, {"x-tierline-session": "sure"})  # confident: not asked
        await router.load("openai", body, h, peek=True)
    sent = [r for r in await fake_requests(fake) if r["path"] == "/v1/chat/completions"]
    assert len(sent) == 1


async def test_llm_classifier_is_not_asked_when_an_explicit_choice_decides(
    aiohttp_server: Any,
) -> None:
    fake: TestServer = await aiohttp_server(build_fake_app())
    cfg = _config(str(fake.make_url("")).rstrip("/"), classifier={"llm": True, "threshold": 0.6})
    async with ClientSession() as session:
        router = build_router(cfg, lambda: session)

        def ask(text: str, model: str = "auto") -> dict[str, Any]:
            return {"model": model, "messages": [{"role": "user", "content": text}]}

        await router.load("openai", ask("/code " + UNSURE), {})  # a directive
        await router.load("openai", ask(UNSURE, model="coding"), {})  # a named tier
        await router.load("openai", ask(UNSURE), {"x-tierline-tier": "quick"})  # the header
        await router.load("openai", ask("/tag docs " + UNSURE), {"x-tierline-session": "t"})
    sent = [r for r in await fake_requests(fake) if r["path"] == "/v1/chat/completions"]
    assert len(sent) == 1  # only the last: a tag does not decide the tier


async def test_a_slow_llm_classifier_keeps_the_heuristic_within_its_timeout(
    aiohttp_server: Any,
) -> None:
    fake: TestServer = await aiohttp_server(build_fake_app())
    base = str(fake.make_url("")).rstrip("/")
    cfg = _config(base, classifier={"llm": True, "threshold": 0.6, "timeout": 0.2})
    async with ClientSession() as session:
        router = build_router(cfg, lambda: session)
        assert router.llm is not None
        await _script(fake, [{"text": "debugger", "behavior": "slow-5000"}])
        body = {"model": "auto", "messages": [{"role": "user", "content": UNSURE}]}
        loop = asyncio.get_running_loop()
        started = loop.time()
        await router.load("openai", body, {})
        assert loop.time() - started < 2.0  # bounded by the timeout, not the fake's 5 s
        assert router.route("openai", body, {}).method != "llm"
        await router.llm.drain()
        await router.load("openai", body, {})  # failed once: not asked (nor waited for) again
    sent = [r for r in await fake_requests(fake) if r["path"] == "/v1/chat/completions"]
    assert len(sent) == 1


async def test_llm_classifier_failure_keeps_the_heuristic(aiohttp_server: Any) -> None:
    fake: TestServer = await aiohttp_server(build_fake_app())
    cfg = _config(str(fake.make_url("")).rstrip("/"), classifier={"llm": True, "threshold": 0.6})
    async with ClientSession() as session:
        router = build_router(cfg, lambda: session)
        assert router.llm is not None
        await _script(fake, [{"text": "", "behavior": "error500"}, {"text": "no idea, sorry"}])
        for text in (UNSURE, UNSURE + "?"):
            assert await router.llm.classify(text) is None  # HTTP error, then a non-answer
        body = {"model": "auto", "messages": [{"role": "user", "content": UNSURE}]}
        assert router.route("openai", body, {}).method == "heuristic"


def test_llm_classifier_is_off_by_default() -> None:
    cfg = _config("http://127.0.0.1:9")
    assert build_router(cfg, lambda: None).llm is None


# -- CLI -----------------------------------------------------------------------------


@pytest.fixture
def files(tmp_path: Path) -> tuple[str, str]:
    cfg = tmp_path / "t.toml"
    cfg.write_text('[providers.anthropic]\napi_keys = ["env:TL_TEST_KEY"]\n', encoding="utf-8")
    req = tmp_path / "req.json"
    req.write_text(json.dumps({
        "model": "claude-sonnet-4-5", "max_tokens": 1000, "system": "You are Claude Code",
        "messages": [{"role": "user", "content": "the export crashes with a KeyError, figure out why"}],
    }), encoding="utf-8")  # fmt: skip
    return str(cfg), str(req)


def test_explain_json(
    files: tuple[str, str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TL_TEST_KEY", "k")
    cfg, req = files
    assert main(["explain", "--config", cfg, "--json", req]) == 0
    out = json.loads(capsys.readouterr().out)
    assert {"tier", "model", "profile", "method", "confidence", "tags", "reason"} <= set(out)
    assert (out["tier"], out["profile"], out["protocol"]) == ("reasoning", "debugger", "anthropic")
    assert (
        main(["explain", "--config", cfg, "--json", "--header", "x-tierline-tags: ui,db", req]) == 0
    )
    assert json.loads(capsys.readouterr().out)["tags"] == ["ui", "db"]
    assert main(["explain", "--config", cfg, "--header", "x-tierline-tier: quick", req]) == 0
    text = capsys.readouterr().out
    assert "tier        quick" in text and "method      header" in text


def test_explain_errors(
    files: tuple[str, str],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    monkeypatch.setenv("TL_TEST_KEY", "k")
    cfg, _ = files
    bad = tmp_path / "bad.json"
    bad.write_text("[1]", encoding="utf-8")
    assert main(["explain", "--config", cfg, str(bad)]) == 1
    assert main(["explain", "--config", cfg, str(tmp_path / "missing.json")]) == 1
    assert "tierline explain:" in capsys.readouterr().err


def test_models_prints_the_ranking_per_tier(
    files: tuple[str, str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TL_TEST_KEY", "k")
    cfg, _ = files
    assert main(["models", "--tiers", "--config", cfg]) == 0
    out = capsys.readouterr().out
    assert "reasoning:" in out and "coding:" in out and "quick:" in out
    assert "claude-opus-4-7" in out and "unavailable" in out  # gpt-5 etc. have no provider here
    assert "quick is ranked by blended price = 3 input : 1 output" in out
    assert (
        "gpt-5-nano                   unavailable  in/out/cache $/M 0.05/0.4/0.005     blended 0.138"
        in out
    )
    assert main(["models", "--tiers", "--json", "--config", cfg]) == 0
    ranking = json.loads(capsys.readouterr().out)
    assert (
        ranking["reasoning"][0]["model"] == "claude-opus-4-7"
        and ranking["reasoning"][0]["candidate"] == 1
    )
    blended = [r["blended"] for r in ranking["quick"]]
    assert blended == sorted(blended)  # the local model ($0) first, then gpt-5-nano
    assert [r["model"] for r in ranking["quick"][:2]] == ["qwen3-coder-30b-local", "gpt-5-nano"]


def test_guess_protocol() -> None:
    assert guess_protocol({"input": "hi"}) == "responses"
    assert guess_protocol({"system": "x", "messages": []}) == "anthropic"
    assert guess_protocol({"messages": [{"role": "tool", "content": "x"}]}) == "openai"
    assert (
        guess_protocol({"messages": [{"role": "user", "content": [{"type": "tool_result"}]}]})
        == "anthropic"
    )


# -- in the app -------------------------------------------------------------------------


async def test_app_headers_show_the_decision_and_directives_are_stripped(
    tierline: Any, fake: TestServer
) -> None:
    server = await tierline(
        routing={
            "tiers": {"reasoning": ["claude-good"], "coding": ["gpt-good"], "quick": ["gpt-good"]}
        }
    )
    body = {
        "model": "auto",
        "max_tokens": 100,
        "messages": [{"role": "user", "content": "/plan the cache layer"}],
    }
    async with ClientSession() as s:
        async with s.post(server.make_url("/v1/messages"), json=body,
                          headers={"anthropic-version": "2023-06-01", "x-api-key": "sk-client-own-credential"}) as resp:  # fmt: skip
            assert resp.status == 200, await resp.text()
            assert resp.headers["x-tierline-tier"] == "reasoning"
            assert resp.headers["x-tierline-model"] == "claude-good"
            assert resp.headers["x-tierline-route"].startswith("directive planner 1.00")
    (sent,) = [r for r in await fake_requests(fake) if r["path"].startswith("/v1/messages")]
    assert sent["body"]["messages"][0]["content"] == "the cache layer"


async def test_app_shadow_mode_sends_what_was_asked(tierline: Any, fake: TestServer) -> None:
    server = await tierline(
        routing={
            "mode": "shadow",
            "tiers": {"reasoning": ["claude-good"], "coding": ["gpt-good"], "quick": ["gpt-good"]},
        }
    )
    body = {"model": "gpt-good", "messages": [{"role": "user", "content": "/plan the cache layer"}]}
    async with ClientSession() as s:
        async with s.post(server.make_url("/v1/chat/completions"), json=body,
                          headers={"authorization": "Bearer sk-client-own-credential"}) as resp:  # fmt: skip
            assert resp.status == 200, await resp.text()
            assert resp.headers["x-tierline-model"] == "gpt-good"
            assert (
                "shadow=claude-good" in resp.headers["x-tierline-route"]
            )  # the directive outranks
    body["model"] = "auto"
    async with ClientSession() as s:
        async with s.post(server.make_url("/v1/chat/completions"), json=body,
                          headers={"authorization": "Bearer sk-client-own-credential"}) as resp:  # fmt: skip
            assert resp.status == 200
            assert resp.headers["x-tierline-model"] == "gpt-good"  # default model, as asked
            assert "shadow=claude-good" in resp.headers["x-tierline-route"]
    sent = [r for r in await fake_requests(fake) if r["path"] == "/v1/chat/completions"]
    assert sent[-1]["body"]["messages"][0]["content"] == "/plan the cache layer"  # untouched


def test_router_exposes_visible_models() -> None:
    r = Router(_config("http://127.0.0.1:9"), store=MemoryStore())
    assert r.visible_models()[:4] == ["auto", "reasoning", "coding", "quick"]
