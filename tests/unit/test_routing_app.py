"""The router inside the app, over loopback against the fake provider: what the
provider receives for directive-only messages, the LLM classifier answering the
triggering request, decision headers on errors, count_tokens without side effects."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp import ClientSession
from aiohttp.test_utils import TestServer

from tests.conftest import CLIENT_KEY, fake_requests

CC_LOCK = "<command-name>/lock</command-name>\n<command-args>quick</command-args>"
TIERS = {"reasoning": ["claude-good"], "coding": ["gpt-good"], "quick": ["gpt-good"]}
ANTHROPIC = {"anthropic-version": "2023-06-01", "x-api-key": CLIENT_KEY}


async def _post(
    server: TestServer, body: dict[str, Any], headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], Any]:
    async with ClientSession() as s:
        async with s.post(
            server.make_url("/v1/messages"), json=body, headers={**ANTHROPIC, **(headers or {})}
        ) as resp:
            return resp.status, dict(resp.headers), await resp.json()


@pytest.mark.parametrize(
    "content",
    [
        "/lock quick",
        [{"type": "text", "text": CC_LOCK}],
    ],
    ids=["plain", "claude-code-command"],
)
async def test_a_directive_only_message_is_forwarded_as_a_fixed_note(
    tierline: Any, fake: TestServer, content: Any
) -> None:
    server = await tierline(routing={"tiers": TIERS})
    for turn in range(2):  # the same note on every request: the cached prefix is stable
        msgs: list[dict[str, Any]] = [{"role": "user", "content": content}]
        if turn:
            msgs += [{"role": "assistant", "content": "ok"}, {"role": "user", "content": "hi"}]
        body = {"model": "auto", "max_tokens": 50, "messages": msgs}
        status, headers, _ = await _post(server, body, {"x-tierline-session": "lock"})
        assert status == 200 and headers["x-tierline-tier"] == "quick"
        assert headers["x-tierline-route"].startswith("lock")
    sent = [r for r in await fake_requests(fake) if r["path"].startswith("/v1/chat")]
    assert len(sent) == 2
    for request in sent:
        first = request["body"]["messages"][0]["content"]
        text = first if isinstance(first, str) else first[0]["text"]
        assert text == "(tierline directive: /lock quick)"


UNSURE = "hmm, what about the other thing we talked about"


async def test_the_llm_classifier_decides_the_request_that_triggers_it(
    tierline: Any, fake: TestServer
) -> None:
    classifier = {"llm": True, "threshold": 0.6, "timeout": 2.0}
    server = await tierline(routing={"tiers": TIERS, "classifier": classifier})
    async with ClientSession() as s:  # the classifier's call is the fake-gpt model's first
        await s.post(
            fake.make_url("/_fake/script"),
            json={"model": "fake-gpt", "replies": [{"text": "debugger"}]},
        )
    body = {"model": "auto", "max_tokens": 50, "messages": [{"role": "user", "content": UNSURE}]}
    status, headers, _ = await _post(server, body, {"x-tierline-session": "llm"})
    assert status == 200
    assert (headers["x-tierline-tier"], headers["x-tierline-model"]) == ("reasoning", "claude-good")
    assert headers["x-tierline-route"].startswith("llm debugger")
    paths = [r["path"] for r in await fake_requests(fake)]
    assert paths == ["/v1/chat/completions", "/v1/messages"]  # classifier, then the request


async def test_an_exhausted_plan_still_says_what_was_decided(tierline: Any) -> None:
    broken = {"broken": {"provider": "oa", "upstream": "fake-error500", "context_window": 128000}}
    tiers = {"reasoning": ["broken"], "coding": ["broken"], "quick": ["broken"]}
    server = await tierline(models=broken, routing={"tiers": tiers, "default_model": "broken"})
    body = {
        "model": "auto",
        "max_tokens": 50,
        "messages": [{"role": "user", "content": "/plan the cache layer"}],
    }
    status, headers, error = await _post(server, body)
    assert status == 502 and error["error"]["type"] == "api_error"
    assert headers["x-tierline-tier"] == "reasoning"
    assert headers["x-tierline-route"].startswith("directive planner 1.00")
    assert int(headers["x-tierline-attempts"]) >= 1
    assert "x-tierline-model" not in headers  # no model answered: the message lists attempts
