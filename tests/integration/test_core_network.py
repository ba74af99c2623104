"""Outbound network behaviour: HTTP(S)_PROXY / NO_PROXY, a custom CA bundle, the
overall deadline, and a candidate that keeps failing cooling down."""

from __future__ import annotations

import contextlib
import datetime as dt
import ipaddress
import socket
import ssl
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openai
import pytest
from aiohttp import ClientSession, web
from aiohttp.test_utils import TestServer
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from sidecar.app import build_app
from sidecar.demo.fake_provider import build_fake_app
from sidecar.ingress.keys import OBSERVERS
from tests.conftest import Exchanges, fake_requests, make_config

MSG = [{"role": "user", "content": "hi"}]


async def _proxy(aiohttp_server: Any, fake: TestServer) -> tuple[TestServer, list[str]]:
    """A forward proxy that records each absolute request target and relays to the fake."""
    seen: list[str] = []

    async def handler(request: web.Request) -> web.Response:
        seen.append(request.raw_path)
        async with ClientSession() as session:
            async with session.post(
                fake.make_url(request.path), data=await request.read(), headers=request.headers
            ) as resp:
                body = await resp.read()
                return web.Response(status=resp.status, body=body, content_type="application/json")

    app = web.Application()
    app.router.add_post("/v1/chat/completions", handler)
    return await aiohttp_server(app), seen


@pytest.mark.parametrize("bypass", [False, True])
async def test_http_proxy_and_no_proxy(
    tierline: Any,
    fake: TestServer,
    aiohttp_server: Any,
    monkeypatch: pytest.MonkeyPatch,
    bypass: bool,
) -> None:
    proxy, seen = await _proxy(aiohttp_server, fake)
    monkeypatch.setenv("HTTP_PROXY", str(proxy.make_url("")))
    # The SDK honours these variables too: it reaches tierline as "localhost" (bypassed),
    # tierline reaches the fake as 127.0.0.1 (proxied unless bypassed as well).
    monkeypatch.setenv("NO_PROXY", "localhost,127.0.0.1" if bypass else "localhost")
    server = await tierline()
    client = openai.AsyncOpenAI(
        base_url=f"http://localhost:{server.port}/v1", api_key="k", max_retries=0
    )
    try:
        done = await client.chat.completions.create(model="gpt-good", messages=MSG)
    finally:
        await client.close()
    assert done.model == "gpt-good"
    assert (
        done.choices[0].message.content
        == "Hello from the fake fake-gpt. This is a deterministic answer."
    )
    if bypass:
        assert seen == []
    else:
        assert seen == [str(fake.make_url("/v1/chat/completions"))]


async def test_deadline_bounds_all_attempts(tierline: Any, openai_client: Any) -> None:
    server = await tierline(
        server={"deadline": 0.6, "first_byte_timeout": 5.0},
        models={"gpt-slow": {"provider": "oa", "upstream": "fake-slow-3000"}},
        routing={"fallback_chain": ["gpt-good"]},
    )
    started = time.monotonic()
    with pytest.raises(openai.APIStatusError) as info:
        await openai_client(server).chat.completions.create(model="gpt-slow", messages=MSG)
    assert time.monotonic() - started < 2.0
    message = info.value.response.json()["error"]["message"]
    assert "timeout" in message and "deadline" in message
    assert info.value.response.headers["x-should-retry"] == "false"


async def test_a_model_that_keeps_failing_cools_down(
    tierline: Any, openai_client: Any, fake: TestServer
) -> None:
    server = await tierline(
        server={"retries_per_candidate": 0},
        models={"gpt-down": {"provider": "oa", "upstream": "fake-error500"}},
        routing={"fallback_chain": ["gpt-good"]},
    )
    client = openai_client(server)
    for _ in range(4):
        raw = await client.chat.completions.with_raw_response.create(model="gpt-down", messages=MSG)
        assert raw.headers["x-tierline-model"] == "gpt-good"
    tried = [r["body"]["model"] for r in await fake_requests(fake)]
    assert tried.count("fake-error500") == 3  # the fourth request skipped it (cooldown)


def _self_signed(directory: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (cert path, key path)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "tierline-test-ca")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "ca.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


@pytest.mark.parametrize("trusted", [True, False])
async def test_custom_ca_bundle_for_outbound_tls(
    tierline: Any, aiohttp_server: Any, openai_client: Any, tmp_path: Path, trusted: bool
) -> None:
    cert, key = _self_signed(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    tls_fake = await aiohttp_server(build_fake_app(), ssl=context)
    server = await tierline(
        server={"ca_bundle": str(cert)} if trusted else {},
        providers={"tls": {"kind": "openai", "base_url": str(tls_fake.make_url("/v1"))}},
        models={"gpt-tls": {"provider": "tls", "upstream": "fake-gpt"}},
    )
    client = openai_client(server)
    if trusted:
        done = await client.chat.completions.create(model="gpt-tls", messages=MSG)
        assert done.model == "gpt-tls"
    else:
        with pytest.raises(openai.APIStatusError) as info:
            await client.chat.completions.create(model="gpt-tls", messages=MSG)
        assert "connection" in info.value.response.json()["error"]["message"]


@pytest.fixture
def unanswered_port() -> Iterator[int]:
    """A loopback port whose listener never accepts and whose backlog is full, so a new
    connection's SYN is dropped and connect() hangs (no external address needed)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = int(listener.getsockname()[1])
    fillers = []
    for _ in range(4):
        filler = socket.socket()
        filler.setblocking(False)
        with contextlib.suppress(BlockingIOError):
            filler.connect(("127.0.0.1", port))
        fillers.append(filler)
    yield port
    for sock in (*fillers, listener):
        sock.close()


async def test_connect_timeout_is_reported_as_connect_and_falls_back(
    fake: TestServer, aiohttp_server: Any, openai_client: Any, unanswered_port: int
) -> None:
    app = build_app(make_config(
        fake,
        server={"connect_timeout": 0.3, "first_byte_timeout": 5.0, "retries_per_candidate": 0},
        providers={"dead": {"kind": "openai", "base_url": f"http://127.0.0.1:{unanswered_port}/v1"}},
        models={"gpt-dead": {"provider": "dead", "upstream": "x"}},
        routing={"fallback_chain": ["gpt-good"]},
    ))  # fmt: skip
    exchanges = Exchanges()
    app[OBSERVERS].append(exchanges)
    server = await aiohttp_server(app)
    started = time.monotonic()
    raw = await openai_client(server).chat.completions.with_raw_response.create(
        model="gpt-dead", messages=MSG
    )
    assert time.monotonic() - started < 3  # the connect timeout, not first_byte's 5 s
    assert raw.headers["x-tierline-model"] == "gpt-good"
    first = (await exchanges.wait())[0].attempts[0]
    assert (first.model, first.reason, first.message) == ("gpt-dead", "timeout", "connect timeout")
