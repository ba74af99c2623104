"""Shared fixtures: the fake provider, tierline built from a config dict, SDK clients.

- ``fake``: a running fake provider (``sidecar.demo.fake_provider``) on loopback.
- ``fake_requests(fake)``: what the fake received (``GET /_fake/requests``).
- ``make_config(fake, **sections)``: a ``Config`` via ``parse_config`` with two
  providers pointing at the fake: ``oa`` (openai kind, ``/v1``) and ``an``
  (anthropic kind), keys from a fixed env (``TEST_ENV``); sections given are
  merged over the defaults (tables merge, other values replace).
- ``tierline``: async factory ``await tierline(**sections)`` -> a running
  tierline ``TestServer`` (handler cancellation on, as ``tierline serve``).
- ``Exchanges``: an observer to append to ``app[OBSERVERS]``; keeps every exchange.
- ``openai_client(server)`` / ``anthropic_client(server)``: official SDK
  clients pointed at a server, ``max_retries=0``, closed after the test.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import anthropic
import openai
import pytest
from aiohttp import ClientSession
from aiohttp.test_utils import TestServer

from sidecar.app import build_app
from sidecar.config import Config, parse_config
from sidecar.demo.fake_provider import build_fake_app
from sidecar.exchange import Exchange
from sidecar.ingress.keys import RUNTIME

TEST_ENV = {
    "OA_KEY": "sk-oa-secret-0001",
    "OA_KEY2": "sk-oa-secret-0002",
    "AN_KEY": "sk-ant-secret-0001",
    "AN_KEY2": "sk-ant-secret-0002",
    "BAD_KEY": "sk-bad-key-0001",
    "LIMITED_KEY": "sk-limited-key-0001",
}
CLIENT_KEY = "sk-client-own-credential"


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def make_config(fake: TestServer, **sections: Any) -> Config:
    base = str(fake.make_url("")).rstrip("/")
    data: dict[str, Any] = {
        "server": {
            "backoff_base": 0.01,
            "backoff_max": 2.0,
            "first_byte_timeout": 5.0,
            "stall_timeout": 5.0,
            "deadline": 20.0,
            "cooldown_seconds": 30.0,
        },
        "providers": {
            "oa": {"kind": "openai", "base_url": base + "/v1", "api_keys": ["env:OA_KEY"]},
            "an": {"kind": "anthropic", "base_url": base, "api_keys": ["env:AN_KEY"]},
        },
        "models": {
            "gpt-good": {"provider": "oa", "upstream": "fake-gpt", "context_window": 128000},
            "claude-good": {"provider": "an", "upstream": "fake-claude"},
        },
        "routing": {"default_model": "gpt-good"},
    }
    return parse_config(_merge(data, sections), TEST_ENV)


@pytest.fixture
async def fake(aiohttp_server: Any) -> TestServer:
    server: TestServer = await aiohttp_server(build_fake_app())
    return server


async def fake_requests(fake: TestServer) -> list[dict[str, Any]]:
    async with ClientSession() as session:
        async with session.get(fake.make_url("/_fake/requests")) as resp:
            data = await resp.json()
    return list(data if isinstance(data, list) else data.get("requests", []))


class Exchanges:
    """An observer keeping every finished exchange (to read the attempts' reasons)."""

    def __init__(self) -> None:
        self.seen: list[Exchange] = []
        self._added = asyncio.Event()

    def on_request(self, *args: Any) -> None:
        pass

    def on_exchange(self, exchange: Exchange, plan: Any) -> None:
        self.seen.append(exchange)
        self._added.set()

    async def wait(self, count: int = 1) -> list[Exchange]:
        """The exchanges, once ``count`` are recorded (shortly after their responses:
        ``Runtime.afterwards``, left to run on its own here)."""
        while len(self.seen) < count:
            self._added.clear()
            await asyncio.wait_for(self._added.wait(), 5)
        return self.seen


def settle(server: TestServer) -> None:
    """Run what requests left for after their responses now (``Runtime.afterwards``), as
    ``/metrics`` and the next request do."""
    server.app[RUNTIME].afterwards.flush()


Factory = Callable[..., Awaitable[TestServer]]


@pytest.fixture
def tierline(fake: TestServer, aiohttp_server: Any) -> Factory:
    """Start tierline for ``make_config(fake, **sections)`` (TestServer cancels handlers
    when the client disconnects, like ``tierline serve``)."""

    async def start(**sections: Any) -> TestServer:
        server: TestServer = await aiohttp_server(build_app(make_config(fake, **sections)))
        return server

    return start


@pytest.fixture
async def openai_client() -> AsyncIterator[Callable[[TestServer], openai.AsyncOpenAI]]:
    clients: list[openai.AsyncOpenAI] = []

    def make(server: TestServer, **kwargs: Any) -> openai.AsyncOpenAI:
        client = openai.AsyncOpenAI(
            base_url=str(server.make_url("/v1")), api_key=CLIENT_KEY, max_retries=0, **kwargs
        )
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.close()


@pytest.fixture
async def anthropic_client() -> AsyncIterator[Callable[[TestServer], anthropic.AsyncAnthropic]]:
    clients: list[anthropic.AsyncAnthropic] = []

    def make(server: TestServer, **kwargs: Any) -> anthropic.AsyncAnthropic:
        client = anthropic.AsyncAnthropic(
            base_url=str(server.make_url("")).rstrip("/"),
            api_key=CLIENT_KEY,
            max_retries=0,
            **kwargs,
        )
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.close()
