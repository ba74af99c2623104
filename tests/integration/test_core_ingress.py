"""Ingress: bad input in each protocol's error shape, body limit, count_tokens,
/v1/models in both shapes, probes, admin listener, client disconnects, serve()."""

from __future__ import annotations

import asyncio
import gc
import logging
import socket
from typing import Any

import anthropic
import openai
import pytest
from aiohttp import ClientSession, web
from aiohttp.test_utils import TestServer

from sidecar import heap
from sidecar.app import RUNTIME, build_admin_app, build_app, run_server
from sidecar.ingress.keys import ROUTER
from tests.conftest import TEST_ENV, make_config, settle

MSG = [{"role": "user", "content": "hi"}]


async def post(server: TestServer, path: str, data: bytes, **headers: str) -> tuple[int, Any]:
    async with ClientSession() as session:
        async with session.post(server.make_url(path), data=data, headers=headers) as resp:
            return resp.status, await resp.json()


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        (b"{not json", "not valid JSON"),
        (b"", "empty"),
        (b"[1, 2]", "JSON object"),
        (b'{"messages": [{"role": "user", "content": "x"}]}', "`model`"),
        (b'{"model": "gpt-good"}', "`messages`"),
        (b'{"model": "gpt-good", "messages": "hi"}', "`messages`"),
        (b'{"model": 5, "messages": []}', "`model`"),
        (b'{"model": "gpt-good", "messages": [{"role": "user"}], "stream": "yes"}', "`stream`"),
    ],
)
async def test_bad_input_openai_shape(tierline: Any, body: bytes, needle: str) -> None:
    server = await tierline()
    status, data = await post(server, "/v1/chat/completions", body)
    assert status == 400
    assert data["error"]["type"] == "invalid_request_error"
    assert needle in data["error"]["message"]
    assert set(data["error"]) == {"message", "type", "param", "code"}


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        (b"{not json", "not valid JSON"),
        (b'{"model": "claude-good", "messages": [{"role": "user", "content": "x"}]}', "max_tokens"),
        (b'{"model": "claude-good", "max_tokens": "9", "messages": [{}]}', "max_tokens"),
    ],
)
async def test_bad_input_anthropic_shape(tierline: Any, body: bytes, needle: str) -> None:
    server = await tierline()
    for path in ("/v1/messages", "/v1/messages?beta=true"):
        status, data = await post(server, path, body)
        assert status == 400
        assert data["type"] == "error"
        assert data["error"]["type"] == "invalid_request_error"
        assert needle in data["error"]["message"]


async def test_unknown_model_is_404_listing_models(
    tierline: Any, openai_client: Any, anthropic_client: Any
) -> None:
    server = await tierline(routing={"aliases": {"claude-*": "claude-good"}})
    with pytest.raises(openai.NotFoundError) as info:
        await openai_client(server).chat.completions.create(model="nope-1", messages=MSG)
    message = info.value.response.json()["error"]["message"]
    assert "nope-1" in message and "gpt-good" in message and "claude-good" in message
    with pytest.raises(anthropic.NotFoundError) as ainfo:
        await anthropic_client(server).messages.create(model="nope-1", max_tokens=5, messages=MSG)
    assert ainfo.value.response.json()["error"]["type"] == "not_found_error"


async def test_body_over_the_limit_is_413_in_the_clients_protocol(tierline: Any) -> None:
    server = await tierline(server={"max_body_bytes": 2048})
    big = (
        b'{"model": "gpt-good", "messages": [{"role": "user", "content": "' + b"x" * 4096 + b'"}]}'
    )
    status, data = await post(server, "/v1/chat/completions", big)
    assert status == 413 and "max_body_bytes" in data["error"]["message"]
    status, data = await post(server, "/v1/messages", big)
    assert status == 413 and data["error"]["type"] == "request_too_large"

    async def chunks() -> Any:  # no Content-Length: aiohttp's client_max_size applies
        yield big

    async with ClientSession() as session:
        url = server.make_url("/v1/messages")
        async with session.post(url, data=chunks()) as resp:
            assert resp.status == 413
            assert (await resp.json())["error"]["type"] == "request_too_large"


async def test_unknown_route_and_method(tierline: Any) -> None:
    server = await tierline()
    async with ClientSession() as session:
        async with session.get(server.make_url("/v1/nothing")) as resp:
            assert resp.status == 404
            assert (await resp.json())["error"]["type"] == "invalid_request_error"
        async with session.get(server.make_url("/v1/messages")) as resp:
            assert resp.status == 405
            assert (await resp.json())["type"] == "error"


async def test_count_tokens_forwarded_or_estimated(tierline: Any, anthropic_client: Any) -> None:
    server = await tierline()
    client = anthropic_client(server)
    raw = await client.messages.with_raw_response.count_tokens(model="claude-good", messages=MSG)
    assert (await raw.parse()).input_tokens > 0
    assert "x-tierline-estimate" not in raw.headers
    assert raw.headers["x-tierline-provider"] == "an"
    raw = await client.messages.with_raw_response.count_tokens(model="gpt-good", messages=MSG)
    assert (await raw.parse()).input_tokens > 0
    assert raw.headers["x-tierline-estimate"] == "true"


async def test_count_tokens_relays_a_provider_400_scrubbed(
    fake: TestServer, aiohttp_server: Any, anthropic_client: Any
) -> None:
    async def refuse(request: web.Request) -> web.Response:
        message = f"bad request from key {TEST_ENV['AN_KEY']} (x-api-key: abcdef123456)"
        error = {"type": "error", "error": {"type": "invalid_request_error", "message": message}}
        return web.json_response(error, status=400)

    upstream = web.Application()
    upstream.router.add_post("/v1/messages/count_tokens", refuse)
    refuser = await aiohttp_server(upstream)
    url = str(refuser.make_url("")).rstrip("/")
    server = await aiohttp_server(build_app(make_config(
        fake,
        providers={"an2": {"kind": "anthropic", "base_url": url, "api_keys": ["env:AN_KEY"]}},
        models={"claude-strict": {"provider": "an2", "upstream": "x"}},
    )))  # fmt: skip
    with pytest.raises(anthropic.BadRequestError) as info:
        await anthropic_client(server).messages.count_tokens(model="claude-strict", messages=MSG)
    text = info.value.response.text
    assert "bad request from key ***" in text
    assert TEST_ENV["AN_KEY"] not in text and "abcdef123456" not in text


async def test_count_tokens_leaves_the_session_state_alone(
    tierline: Any, anthropic_client: Any
) -> None:
    server = await tierline()
    store = server.app[ROUTER].store  # the engine router's in-memory session store
    client = anthropic_client(server)
    await client.messages.count_tokens(model="claude-good", messages=MSG)
    await client.messages.count_tokens(model="auto", messages=MSG)
    assert len(store) == 0  # a count is not a turn of the conversation
    await client.messages.create(model="claude-good", max_tokens=20, messages=MSG)
    assert len(store) == 1


async def test_models_in_both_shapes(
    tierline: Any, openai_client: Any, anthropic_client: Any
) -> None:
    server = await tierline()
    listed = [m.id async for m in openai_client(server).models.list()]
    assert {"auto", "gpt-good", "claude-good"} <= set(listed)
    page = await anthropic_client(server).models.list()
    assert {"gpt-good", "claude-good"} <= {m.id for m in page.data}
    assert page.data[0].type == "model" and page.data[0].created_at is not None
    async with ClientSession() as session:
        async with session.get(
            server.make_url("/v1/models"), headers={"anthropic-version": "2023-06-01"}
        ) as resp:
            body = await resp.json()
    assert body["has_more"] is False
    assert body["first_id"] == body["data"][0]["id"]
    assert body["last_id"] == body["data"][-1]["id"]


async def test_one_model_in_both_shapes_and_404_in_the_clients_shape(
    tierline: Any, openai_client: Any, anthropic_client: Any
) -> None:
    server = await tierline()
    model = await openai_client(server).models.retrieve("gpt-good")
    assert (model.id, model.object, model.owned_by) == ("gpt-good", "model", "oa")
    assert isinstance(model.created, int)
    info = await anthropic_client(server).models.retrieve("claude-good")
    assert (info.id, info.type) == ("claude-good", "model") and info.created_at is not None
    assert (await openai_client(server).models.retrieve("auto")).owned_by == "tierline"
    with pytest.raises(openai.NotFoundError) as oinfo:
        await openai_client(server).models.retrieve("nope")
    assert oinfo.value.response.json()["error"]["type"] == "invalid_request_error"
    with pytest.raises(anthropic.NotFoundError) as ainfo:
        await anthropic_client(server).models.retrieve("nope")
    body = ainfo.value.response.json()
    assert body["type"] == "error" and body["error"]["type"] == "not_found_error"


async def test_root_health_ready_and_metrics(tierline: Any) -> None:
    server = await tierline()
    async with ClientSession() as session:
        for path in ("/", "/healthz", "/readyz"):
            async with session.get(server.make_url(path)) as resp:
                assert resp.status == 200, path
        async with session.head(server.make_url("/")) as resp:
            assert resp.status == 200
        async with session.get(server.make_url("/metrics")) as resp:
            assert resp.status == 200
            assert resp.headers["content-type"].startswith("text/plain")


async def test_admin_app_serves_probes_and_404_metrics_when_disabled(
    fake: TestServer, aiohttp_server: Any
) -> None:
    main = build_app(make_config(fake, server={"metrics": False}))
    await aiohttp_server(main)
    admin = await aiohttp_server(build_admin_app(main))
    async with ClientSession() as session:
        async with session.get(admin.make_url("/readyz")) as resp:
            assert resp.status == 200
        async with session.get(admin.make_url("/metrics")) as resp:
            assert resp.status == 404
        async with session.get(admin.make_url("/v1/models")) as resp:
            assert resp.status == 404
    main[RUNTIME].ready = False
    async with ClientSession() as session:
        async with session.get(admin.make_url("/readyz")) as resp:
            assert resp.status == 503


async def _hanging_upstream(aiohttp_server: Any) -> tuple[TestServer, asyncio.Event, asyncio.Event]:
    """An upstream that answers the first SSE event then waits until cancelled."""
    started, cancelled = asyncio.Event(), asyncio.Event()

    async def handler(request: web.Request) -> web.StreamResponse:
        body = await request.json()
        started.set()
        try:
            if body.get("stream"):
                response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
                await response.prepare(request)
                chunk = b'{"model":"h","choices":[{"index":0,"delta":{"content":"hi"}}]}'
                await response.write(b"data: " + chunk + b"\n\n")
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.set()
            raise
        raise AssertionError("unreachable")

    app = web.Application()
    app.router.add_post("/v1/chat/completions", handler)
    return await aiohttp_server(app), started, cancelled


@pytest.mark.parametrize("stream", [False, True])
async def test_client_disconnect_cancels_the_upstream_request(
    tierline: Any,
    aiohttp_server: Any,
    openai_client: Any,
    stream: bool,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="tierline.access")
    upstream, started, cancelled = await _hanging_upstream(aiohttp_server)
    server = await tierline(
        providers={"hang": {"kind": "openai", "base_url": str(upstream.make_url("/v1"))}},
        models={"gpt-hang": {"provider": "hang", "upstream": "h"}},
    )
    client = openai_client(server, timeout=10.0)
    if stream:
        response = await client.chat.completions.create(model="gpt-hang", messages=MSG, stream=True)
        async for _ in response:
            break
        await response.close()
    else:
        task = asyncio.ensure_future(client.chat.completions.create(model="gpt-hang", messages=MSG))
        await started.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    await asyncio.wait_for(cancelled.wait(), 5)
    settle(server)  # tierline recorded the exchange as a client disconnect
    (fields,) = [r.msg for r in caplog.records if r.name == "tierline.access"]
    assert isinstance(fields, dict)
    assert fields["status"] == 499 and fields["error_type"] == "client_disconnected"


async def test_run_server_binds_admin_and_drains_on_stop(
    fake: TestServer, aiohttp_server: Any
) -> None:
    """Both listeners serve; on stop an in-flight request still completes."""
    arrived, release = asyncio.Event(), asyncio.Event()

    async def slow(request: web.Request) -> web.Response:
        arrived.set()
        await release.wait()
        body = {"model": "s", "choices": [{"index": 0, "message": {"content": "late"}}]}
        return web.json_response(body)

    app = web.Application()
    app.router.add_post("/v1/chat/completions", slow)
    upstream = await aiohttp_server(app)
    ports = []
    for _ in range(2):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            ports.append(s.getsockname()[1])
    config = make_config(
        fake,
        server={"port": ports[0], "admin_port": ports[1]},
        providers={"slow": {"kind": "openai", "base_url": str(upstream.make_url("/v1"))}},
        models={"gpt-slow": {"provider": "slow", "upstream": "s"}},
    )
    stop, listening = asyncio.Event(), asyncio.Event()
    thresholds = gc.get_threshold()
    task = asyncio.ensure_future(run_server(config, stop, listening, settle_heap=True))
    await asyncio.wait_for(listening.wait(), 10)
    try:  # ``tierline serve`` settles the heap once it listens (sidecar.heap)
        assert gc.get_freeze_count() > 1000 and gc.get_threshold()[0] == heap.YOUNG_THRESHOLD
    finally:  # this test process keeps its own collector settings
        gc.unfreeze()
        gc.set_threshold(*thresholds)
    base = f"http://127.0.0.1:{ports[0]}/v1/chat/completions"
    async with ClientSession() as session:
        async with session.get(f"http://127.0.0.1:{ports[1]}/readyz") as resp:
            assert resp.status == 200
        async with session.post(base, json={"model": "gpt-good", "messages": MSG}) as resp:
            assert (await resp.json())["model"] == "gpt-good"
        in_flight = asyncio.ensure_future(
            session.post(base, json={"model": "gpt-slow", "messages": MSG})
        )
        await arrived.wait()
        stop.set()
        # Draining: readiness is off (the admin listener closes last) ...
        async with session.get(f"http://127.0.0.1:{ports[1]}/readyz") as resp:
            assert resp.status == 503
        release.set()  # ... and the request in flight still gets its answer.
        resp = await in_flight
        assert resp.status == 200 and (await resp.json())["model"] == "gpt-slow"
        resp.release()
    await asyncio.wait_for(task, 10)
