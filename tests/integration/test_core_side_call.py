"""The LLM classifier's side call inside the app: the adapter's endpoint URL (an
Anthropic base URL ending in /v1), the app's key pool (a 401 key rests, the next key
answers) and the answer changing the tier of the request that asked."""

from __future__ import annotations

from typing import Any

from aiohttp import ClientSession, web
from aiohttp.test_utils import TestServer

from sidecar.app import build_app
from sidecar.config import parse_config
from tests.conftest import TEST_ENV, fake_requests

CHEAP = {"input": 0.1, "output": 0.4}
UNSURE = "hmm, what about the other thing we talked about"


def _config(fake: TestServer) -> Any:
    base = str(fake.make_url("")).rstrip("/") + "/v1"
    keys = ["env:BAD_KEY", "env:AN_KEY"]
    return parse_config(
        {
            "providers": {"an": {"kind": "anthropic", "base_url": base, "api_keys": keys}},
            "models": {
                "cheap": {"provider": "an", "upstream": "fake-cheap", "prices": CHEAP},
                "strong": {"provider": "an", "upstream": "fake-strong", "reasoning": True},
            },
            "routing": {"classifier": {"llm": True, "threshold": 0.6, "timeout": 5.0}},
        },
        TEST_ENV,
    )


async def test_llm_classifier_uses_the_adapter_url_and_the_key_pool(
    fake: TestServer, aiohttp_server: Any, aiohttp_client: Any
) -> None:
    script = {"model": "fake-cheap", "replies": [{"text": "debugger"}] * 2}  # a 401 takes one
    async with ClientSession() as s:
        async with s.post(fake.make_url("/_fake/script"), json=script) as resp:
            assert resp.status < 300
    client = await aiohttp_client(await aiohttp_server(build_app(_config(fake))))
    body = {"model": "auto", "messages": [{"role": "user", "content": UNSURE}]}
    headers = {"x-tierline-session": "side"}
    async with client.post("/v1/chat/completions", json=body, headers=headers) as resp:
        assert resp.status == 200, await resp.text()
        assert resp.headers["x-tierline-tier"] == "reasoning"  # the LLM said debugger
        assert resp.headers["x-tierline-model"] == "strong"
    sent = [r for r in await fake_requests(fake) if r["path"] == "/v1/messages"]
    asked = [r for r in sent if UNSURE in str(r["body"]["messages"][0]["content"])]
    ask_keys = [r["headers"]["x-api-key"] for r in sent if r["body"]["max_tokens"] <= 16]
    assert ask_keys == [TEST_ENV["BAD_KEY"], TEST_ENV["AN_KEY"]]
    assert len(asked) == len(sent)  # no request went to a doubled /v1/v1 path


async def test_llm_classifier_goes_through_the_providers_proxy(
    fake: TestServer, aiohttp_server: Any, aiohttp_client: Any, monkeypatch: Any
) -> None:
    """HTTP_PROXY resolved at startup carries the side call (the proxy answers everything)."""
    seen: list[str] = []

    async def forward(request: web.Request) -> web.Response:
        seen.append(str(request.url))
        content = [{"type": "text", "text": "debugger"}]
        usage = {"input_tokens": 1, "output_tokens": 1}
        return web.json_response({
            "id": "msg_p", "type": "message", "role": "assistant", "model": "m",
            "content": content, "stop_reason": "end_turn", "usage": usage,
        })  # fmt: skip

    proxy_app = web.Application()
    proxy_app.router.add_route("*", "/{tail:.*}", forward)
    proxy = await aiohttp_server(proxy_app)
    for name in ("NO_PROXY", "no_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTP_PROXY", str(proxy.make_url("")).rstrip("/"))
    client = await aiohttp_client(await aiohttp_server(build_app(_config(fake))))
    body = {"model": "auto", "messages": [{"role": "user", "content": UNSURE}]}
    async with client.post("/v1/chat/completions", json=body) as resp:
        assert resp.status == 200, await resp.text()
        assert resp.headers["x-tierline-tier"] == "reasoning"
    assert seen and all(url.endswith("/v1/messages") for url in seen)
    assert not await fake_requests(fake)  # nothing went around the proxy
