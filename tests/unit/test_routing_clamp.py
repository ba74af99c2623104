"""``routing.clamp_max_tokens``: keep a model whose max output is below the request's limit
and forward its maximum instead (off: such models are skipped, as before)."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp import ClientSession
from aiohttp.test_utils import TestServer

from sidecar.config import ConfigError, parse_config
from sidecar.routing.engine import Router
from sidecar.routing.plan import clamp_max_tokens
from sidecar.sessions.state import MemoryStore
from tests.conftest import fake_requests


def test_clamp_max_tokens_per_protocol() -> None:
    body = {"model": "m", "max_tokens": 9000}
    assert clamp_max_tokens("anthropic", body, 4096) == {"model": "m", "max_tokens": 4096}
    assert body["max_tokens"] == 9000  # pure: the client's body is not changed
    both = {"max_tokens": 9000, "max_completion_tokens": 8000}
    assert clamp_max_tokens("openai", both, 4096) == {
        "max_tokens": 4096,
        "max_completion_tokens": 4096,
    }
    resp = {"input": "hi", "max_output_tokens": 9000}
    assert clamp_max_tokens("responses", resp, 4096)["max_output_tokens"] == 4096
    small = {"max_tokens": 100}
    assert clamp_max_tokens("anthropic", small, 4096) is small  # nothing to clamp
    assert clamp_max_tokens("anthropic", {"max_tokens": True}, 1) == {"max_tokens": True}


def _config(clamp: bool | None) -> Any:
    routing: dict[str, Any] = {"tiers": {"coding": ["small", "big"]}, "default_tier": "coding"}
    if clamp is not None:
        routing["clamp_max_tokens"] = clamp
    return parse_config(
        {
            "providers": {"anthropic": {"api_keys": ["env:K"]}},
            "models": {
                "small": {"provider": "anthropic", "upstream": "s", "max_output": 4096},
                "big": {"provider": "anthropic", "upstream": "b", "max_output": 64000},
            },
            "routing": routing,
        },
        {"K": "k"},
    )


BODY = {"model": "coding", "max_tokens": 32000, "messages": [{"role": "user", "content": "hi"}]}


def test_without_clamping_a_model_with_a_smaller_max_output_is_skipped() -> None:
    for setting in (None, False):
        plan = Router(_config(setting), store=MemoryStore()).route("anthropic", BODY, {})
        assert [m.name for m in plan.candidates] == ["big"]
        assert "skipped small (max output 4096)" in plan.reason and plan.clamp == ()
        assert plan.body_for("anthropic", plan.candidates[0], BODY) is BODY


def test_with_clamping_the_model_is_kept_and_its_limit_forwarded() -> None:
    plan = Router(_config(True), store=MemoryStore()).route("anthropic", BODY, {})
    assert [m.name for m in plan.candidates] == ["small", "big"]
    assert plan.clamp == (("small", 4096),)
    assert "max tokens 32000 clamped to 4096 for small" in plan.reason
    small, big = plan.candidates
    assert plan.body_for("anthropic", small, BODY)["max_tokens"] == 4096
    assert plan.body_for("anthropic", big, BODY) is BODY


def test_clamp_max_tokens_is_validated() -> None:
    with pytest.raises(ConfigError) as err:
        parse_config({"routing": {"clamp_max_tokens": "yes"}}, {})
    assert err.value.errors == [("routing.clamp_max_tokens", "expected a boolean, got string")]


async def test_dispatch_forwards_the_clamped_limit(fake: TestServer, tierline: Any) -> None:
    server = await tierline(
        models={"claude-good": {"max_output": 1000}},
        routing={"tiers": {"coding": ["claude-good"]}, "clamp_max_tokens": True},
    )
    body = {"model": "coding", "max_tokens": 5000,
            "messages": [{"role": "user", "content": "add a button"}]}  # fmt: skip
    async with ClientSession() as http:
        async with http.post(server.make_url("/v1/messages"), json=body) as resp:
            assert resp.status == 200, await resp.text()
            assert resp.headers["x-tierline-model"] == "claude-good"
    sent = [r["body"] for r in await fake_requests(fake) if r["path"] == "/v1/messages"]
    assert sent and sent[-1]["max_tokens"] == 1000
