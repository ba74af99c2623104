"""What requests leave for after their responses (``Runtime.afterwards``) is done before
anything reads it: the next request's routing, /metrics, the app's cleanup.

The queue's timer is set to an hour here, so only those flushes can run it.
"""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp import ClientSession
from aiohttp.test_utils import TestServer

from sidecar.app import build_app
from sidecar.ingress.afterwards import Afterwards
from sidecar.ingress.keys import OBSERVERS, RUNTIME
from tests.conftest import Exchanges, make_config

MSG = [{"role": "user", "content": "hi"}]


class Order(Exchanges):
    """Exchanges, and the order in which the observer calls came."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[str] = []

    def on_request(self, protocol: str, body: Any, headers: Any, plan: Any) -> None:
        self.calls.append("request " + body["messages"][-1]["content"])

    def on_exchange(self, exchange: Any, plan: Any) -> None:
        super().on_exchange(exchange, plan)
        self.calls.append(f"exchange {exchange.status}")


async def _start(fake: TestServer, **server: Any) -> tuple[TestServer, Order]:
    app = build_app(make_config(fake, server=server))
    app[RUNTIME].afterwards = Afterwards(3600)
    order = Order()
    app[OBSERVERS].append(order)
    tierline = TestServer(app)
    await tierline.start_server()
    return tierline, order


async def _ask(server: TestServer, text: str, stream: bool = False) -> bytes:
    body = {"model": "gpt-good", "messages": [{"role": "user", "content": text}], "stream": stream}
    async with ClientSession() as http:
        async with http.post(server.make_url("/v1/chat/completions"), json=body) as resp:
            assert resp.status == 200
            return await resp.read()


@pytest.mark.parametrize("stream", [False, True])
async def test_the_next_request_is_routed_once_the_last_one_is_recorded(
    fake: TestServer, stream: bool
) -> None:
    server, order = await _start(fake)
    try:
        answer = await _ask(server, "one", stream=stream)
        assert b'"model":"fake-gpt"' not in answer and b'"model":"gpt-good"' in answer
        assert order.calls == ["request one"]  # its response is out; the rest waits
        await _ask(server, "two")
        assert order.calls == ["request one", "exchange 200", "request two"]
        (first,) = order.seen
        assert first.stream is stream and first.usage.output_tokens > 0  # the tap read it
        assert first.finish_reason == "stop" and first.duration_s > 0
    finally:
        await server.close()
    assert order.calls[-1] == "exchange 200" and len(order.seen) == 2  # cleanup ran it


async def test_metrics_count_a_request_whose_response_is_out(fake: TestServer) -> None:
    server, order = await _start(fake)
    try:
        await _ask(server, "one")
        assert order.seen == []
        async with ClientSession() as http:
            async with http.get(server.make_url("/metrics")) as resp:
                text = await resp.text()
        assert len(order.seen) == 1
        (line,) = [s for s in text.splitlines() if s.startswith("tierline_requests_total{")]
        assert line.endswith(" 1.0")
    finally:
        await server.close()
