"""Every dispatch fault through real loopback servers and the official SDKs:
429 with key rotation and Retry-After, 5xx retry then fallback, timeouts,
mid-stream failures, context overflow, 401 cooldown, 404, plain 400, all exhausted."""

from __future__ import annotations

import json
import time
from typing import Any

import anthropic
import openai
import pytest
from aiohttp import web

from sidecar.app import TRANSLATORS, build_app
from sidecar.ingress.keys import OBSERVERS
from sidecar.upstream.translators import IDENTITY
from tests.conftest import TEST_ENV, Exchanges, fake_requests, make_config

MSG = [{"role": "user", "content": "hi"}]


def oa(upstream: str, **extra: Any) -> dict[str, Any]:
    return {"provider": "oa", "upstream": upstream, **extra}


def an(upstream: str, **extra: Any) -> dict[str, Any]:
    return {"provider": "an", "upstream": upstream, **extra}


def assert_no_secrets(text: str) -> None:
    for secret in TEST_ENV.values():
        assert secret not in text


class Ask:
    """One request through an official SDK, streaming or not (fixture ``ask``)."""

    def __init__(self, sdk: str, stream: bool, oa_client: Any, an_client: Any) -> None:
        self.sdk, self.stream = sdk, stream
        self._oa, self._an = oa_client, an_client

    async def __call__(self, server: Any, model: str) -> tuple[Any, str]:
        """(response headers, the model the client saw); an SDK error propagates."""
        if self.sdk == "openai":
            raw = await self._oa(server).chat.completions.with_raw_response.create(
                model=model, messages=MSG, stream=self.stream
            )
            parsed = raw.parse()
            if self.stream:
                return raw.headers, [c async for c in parsed][0].model
            return raw.headers, parsed.model
        raw = await self._an(server).messages.with_raw_response.create(
            model=model, max_tokens=50, messages=MSG, stream=self.stream
        )
        parsed = await raw.parse()
        if self.stream:
            return raw.headers, [e async for e in parsed][0].message.model
        return raw.headers, parsed.model

    @property
    def status_error(self) -> type[Exception]:
        return openai.APIStatusError if self.sdk == "openai" else anthropic.APIStatusError


@pytest.fixture(
    params=[("openai", False), ("openai", True), ("anthropic", False), ("anthropic", True)],
    ids=["openai", "openai-stream", "anthropic", "anthropic-stream"],
)
def ask(request: Any, openai_client: Any, anthropic_client: Any) -> Ask:
    sdk, stream = request.param
    return Ask(sdk, stream, openai_client, anthropic_client)


async def test_429_rotates_to_the_next_key_then_cools_the_limited_one(
    tierline: Any, ask: Ask, fake: Any
) -> None:
    server = await tierline(providers={"oa": {"api_keys": ["env:LIMITED_KEY", "env:OA_KEY"]}})
    headers, seen = await ask(server, "gpt-good")
    assert headers["x-tierline-attempts"] == "2"
    assert headers["x-tierline-model"] == seen == "gpt-good"
    # The limited key rests (Retry-After 1 s): the next request goes straight to the other key.
    headers, _ = await ask(server, "gpt-good")
    assert headers["x-tierline-attempts"] == "1"
    keys = [r["headers"]["authorization"].split()[-1] for r in await fake_requests(fake)]
    assert keys == [TEST_ENV["LIMITED_KEY"], TEST_ENV["OA_KEY"], TEST_ENV["OA_KEY"]]


async def test_429_honours_retry_after_then_succeeds(tierline: Any, openai_client: Any) -> None:
    server = await tierline(models={"gpt-rl": oa("fake-ratelimit-once")})
    started = time.monotonic()
    raw = await openai_client(server).chat.completions.with_raw_response.create(
        model="gpt-rl", messages=MSG
    )
    assert time.monotonic() - started >= 0.9  # Retry-After: 1
    assert raw.headers["x-tierline-model"] == "gpt-rl"
    assert raw.headers["x-tierline-attempts"] == "2"


async def test_429_with_retry_after_over_the_cap_moves_on(
    tierline: Any, anthropic_client: Any
) -> None:
    server = await tierline(
        models={"claude-rl": an("fake-ratelimit-retry-after-30")},
        routing={"fallback_chain": ["claude-good"]},
    )
    started = time.monotonic()
    raw = await anthropic_client(server).messages.with_raw_response.create(
        model="claude-rl", max_tokens=50, messages=MSG
    )
    assert time.monotonic() - started < 5
    assert raw.headers["x-tierline-model"] == "claude-good"


async def test_5xx_retries_briefly_then_falls_back(tierline: Any, ask: Ask, fake: Any) -> None:
    server = await tierline(
        models={"gpt-down": oa("fake-error503")}, routing={"fallback_chain": ["gpt-good"]}
    )
    headers, seen = await ask(server, "gpt-down")
    assert headers["x-tierline-model"] == seen == "gpt-good"
    assert headers["x-tierline-attempts"] == "3"  # 503, retry 503, fallback 200
    models = [r["body"]["model"] for r in await fake_requests(fake)]
    assert models == ["fake-error503", "fake-error503", "fake-gpt"]


async def test_5xx_once_is_retried_on_the_same_model(tierline: Any, anthropic_client: Any) -> None:
    server = await tierline(
        models={"claude-flaky": an("fake-overloaded-fail-1")},
        routing={"fallback_chain": ["claude-good"]},
    )
    raw = await anthropic_client(server).messages.with_raw_response.create(
        model="claude-flaky", max_tokens=50, messages=MSG
    )
    assert raw.headers["x-tierline-model"] == "claude-flaky"
    assert raw.headers["x-tierline-attempts"] == "2"


async def test_first_byte_timeout_falls_back(fake: Any, aiohttp_server: Any, ask: Ask) -> None:
    app = build_app(make_config(
        fake,
        server={"first_byte_timeout": 0.3, "retries_per_candidate": 0},
        models={"gpt-slow": oa("fake-slow-3000")},
        routing={"fallback_chain": ["gpt-good"]},
    ))  # fmt: skip
    exchanges = Exchanges()
    app[OBSERVERS].append(exchanges)
    server = await aiohttp_server(app)
    headers, seen = await ask(server, "gpt-slow")
    assert headers["x-tierline-model"] == seen == "gpt-good"
    first = (await exchanges.wait())[0].attempts[0]  # connected at once; no headers came
    assert (first.model, first.reason, first.message) == (
        "gpt-slow",
        "timeout",
        "first_byte timeout",
    )


async def test_disconnect_before_content_falls_back(tierline: Any, openai_client: Any) -> None:
    server = await tierline(
        models={"gpt-cut": oa("fake-disconnect-1")}, routing={"fallback_chain": ["gpt-good"]}
    )
    stream = await openai_client(server).chat.completions.create(
        model="gpt-cut", messages=MSG, stream=True
    )
    chunks = [c async for c in stream]
    assert {c.model for c in chunks} == {"gpt-good"}


async def test_openai_mid_stream_disconnect_becomes_an_error_chunk(
    tierline: Any, openai_client: Any
) -> None:
    server = await tierline(
        models={"gpt-cut": oa("fake-disconnect-4")}, routing={"fallback_chain": ["gpt-good"]}
    )
    stream = await openai_client(server).chat.completions.create(
        model="gpt-cut", messages=MSG, stream=True
    )
    seen = []
    with pytest.raises(openai.APIError) as info:
        async for chunk in stream:
            seen.append(chunk)
    assert seen and seen[0].model == "gpt-cut"  # no retry after content went out
    assert "mid-stream" in str(info.value)


async def test_anthropic_mid_stream_stall_becomes_an_error_event(
    tierline: Any, anthropic_client: Any
) -> None:
    server = await tierline(
        server={"stall_timeout": 0.3},
        models={"claude-stall": an("fake-stall-5000-after-4-chunks-4")},  # after a text delta
    )
    with pytest.raises(anthropic.APIError) as info:
        async with anthropic_client(server).messages.stream(
            model="claude-stall", max_tokens=50, messages=MSG
        ) as stream:
            async for _ in stream:
                pass
    assert "went silent" in str(info.value)


async def test_anthropic_stall_after_an_empty_block_start_is_retried(
    tierline: Any, anthropic_client: Any
) -> None:
    # message_start and an empty text content_block_start, then silence: no content yet.
    server = await tierline(
        server={"first_byte_timeout": 0.3, "retries_per_candidate": 0},
        models={"claude-stall": an("fake-stall-5000-after-2")},
        routing={"fallback_chain": ["claude-good"]},
    )
    async with anthropic_client(server).messages.stream(
        model="claude-stall", max_tokens=50, messages=MSG
    ) as stream:
        message = await stream.get_final_message()
    assert message.model == "claude-good"


async def test_context_overflow_skips_to_a_larger_window(
    tierline: Any, ask: Ask, fake: Any
) -> None:
    server = await tierline(
        models={
            "gpt-small": oa("fake-context", context_window=8000),
            "gpt-same": oa("fake-gpt", context_window=8000),
            "gpt-big": oa("fake-gpt", context_window=200000),
        },
        routing={"fallback_chain": ["gpt-same", "gpt-big"]},
    )
    headers, seen = await ask(server, "gpt-small")
    assert headers["x-tierline-model"] == seen == "gpt-big"
    assert headers["x-tierline-attempts"] == "3"  # overflow, skip same-size, answer
    assert len(await fake_requests(fake)) == 2


async def test_anthropic_context_wording_is_recognised(
    tierline: Any, anthropic_client: Any
) -> None:
    server = await tierline(
        models={
            "claude-small": an("fake-context", context_window=8000),
            "claude-big": an("fake-claude", context_window=1000000),
        },
        routing={"fallback_chain": ["claude-big"]},
    )
    raw = await anthropic_client(server).messages.with_raw_response.create(
        model="claude-small", max_tokens=50, messages=MSG
    )
    assert raw.headers["x-tierline-model"] == "claude-big"


async def test_401_cools_the_key_and_moves_on(tierline: Any, ask: Ask, fake: Any) -> None:
    base = str(fake.make_url("/v1"))
    server = await tierline(
        providers={"bad": {"kind": "openai", "base_url": base, "api_keys": ["env:BAD_KEY"]}},
        models={"gpt-badkey": {"provider": "bad", "upstream": "fake-gpt"}},
        routing={"fallback_chain": ["gpt-good"]},
    )
    for _ in range(2):
        headers, seen = await ask(server, "gpt-badkey")
        assert headers["x-tierline-model"] == seen == "gpt-good"
    sent = [r["headers"]["authorization"] for r in await fake_requests(fake)]
    assert sent.count("Bearer " + TEST_ENV["BAD_KEY"]) == 1  # the second request skipped it


async def test_401_tries_the_providers_next_key_before_moving_on(
    tierline: Any, ask: Ask, fake: Any
) -> None:
    server = await tierline(providers={"oa": {"api_keys": ["env:BAD_KEY", "env:OA_KEY"]}})
    headers, seen = await ask(server, "gpt-good")
    assert headers["x-tierline-model"] == seen == "gpt-good"
    assert headers["x-tierline-attempts"] == "2"
    keys = [r["headers"]["authorization"].split()[-1] for r in await fake_requests(fake)]
    assert keys == [TEST_ENV["BAD_KEY"], TEST_ENV["OA_KEY"]]


async def test_404_moves_on(tierline: Any, anthropic_client: Any) -> None:
    server = await tierline(
        models={"claude-gone": an("fake-notfound")}, routing={"fallback_chain": ["claude-good"]}
    )
    raw = await anthropic_client(server).messages.with_raw_response.create(
        model="claude-gone", max_tokens=50, messages=MSG
    )
    assert raw.headers["x-tierline-model"] == "claude-good"


@pytest.mark.parametrize("protocol", ["openai", "anthropic"])
async def test_plain_400_goes_back_as_the_provider_said(
    tierline: Any, openai_client: Any, anthropic_client: Any, fake: Any, protocol: str
) -> None:
    server = await tierline(
        models={"gpt-bad": oa("fake-badrequest"), "claude-bad": an("fake-badrequest")},
        routing={"fallback_chain": ["gpt-good", "claude-good"]},
    )
    if protocol == "openai":
        with pytest.raises(openai.BadRequestError) as oinfo:
            await openai_client(server).chat.completions.create(model="gpt-bad", messages=MSG)
        response = oinfo.value.response
    else:
        with pytest.raises(anthropic.BadRequestError) as ainfo:
            await anthropic_client(server).messages.create(
                model="claude-bad", max_tokens=50, messages=MSG
            )
        response = ainfo.value.response
    assert response.headers["x-should-retry"] == "false"
    assert len(await fake_requests(fake)) == 1


@pytest.mark.parametrize("protocol", ["openai", "anthropic"])
async def test_plain_400_is_scrubbed_of_keys_and_keeps_its_shape(
    tierline: Any, aiohttp_server: Any, openai_client: Any, anthropic_client: Any, protocol: str
) -> None:
    async def handler(request: web.Request) -> web.Response:
        echo = f"unsupported value for key {request.headers['authorization']}"
        error = {"message": echo, "type": "invalid_request_error", "param": "temperature"}
        return web.json_response({"error": error}, status=400)

    app = web.Application()
    app.router.add_post("/v1/chat/completions", handler)
    odd = await aiohttp_server(app)
    server = await tierline(
        providers={"odd": {"kind": "openai", "base_url": str(odd.make_url("/v1")),
                           "api_keys": ["env:OA_KEY"]}},
        models={"gpt-odd": {"provider": "odd", "upstream": "x"}},
    )  # fmt: skip
    if protocol == "openai":
        with pytest.raises(openai.BadRequestError) as oinfo:
            await openai_client(server).chat.completions.create(model="gpt-odd", messages=MSG)
        response = oinfo.value.response
        assert response.json()["error"]["param"] == "temperature"
    else:
        with pytest.raises(anthropic.BadRequestError) as ainfo:
            await anthropic_client(server).messages.create(
                model="gpt-odd", max_tokens=50, messages=MSG
            )
        response = ainfo.value.response
        assert response.json()["type"] == "error"
    assert "unsupported value for key" in response.json()["error"]["message"]
    assert_no_secrets(response.text)


async def test_all_exhausted_lists_attempts_without_secrets(tierline: Any, ask: Ask) -> None:
    server = await tierline(
        server={"retries_per_candidate": 0},
        models={"gpt-down": oa("fake-error500"), "claude-down": an("fake-error502")},
        routing={"fallback_chain": ["claude-down"]},
    )
    with pytest.raises(ask.status_error) as info:
        await ask(server, "gpt-down")
    response = info.value.response  # type: ignore[attr-defined]
    assert response.status_code == 502
    assert response.headers["x-should-retry"] == "false"
    body = response.json()
    message = body["error"]["message"]
    assert "gpt-down via oa -> 500 server_error" in message
    assert "claude-down via an -> 502 server_error" in message
    if ask.sdk == "openai":
        assert body["error"]["code"] == "upstream_exhausted"
    else:
        assert body["type"] == "error" and body["error"]["type"] == "api_error"
    assert_no_secrets(response.text)


async def test_provider_error_messages_are_scrubbed(
    tierline: Any, openai_client: Any, fake: Any
) -> None:
    base = str(fake.make_url("/v1"))
    server = await tierline(
        providers={"bad": {"kind": "openai", "base_url": base, "api_keys": ["env:BAD_KEY"]}},
        models={"gpt-badkey": {"provider": "bad", "upstream": "fake-gpt"}},
    )
    with pytest.raises(openai.APIStatusError) as info:
        await openai_client(server).chat.completions.create(model="gpt-badkey", messages=MSG)
    assert "auth" in info.value.response.text
    assert_no_secrets(info.value.response.text)
    assert_no_secrets(json.dumps(await fake_requests(fake)).replace(TEST_ENV["BAD_KEY"], ""))


@pytest.mark.parametrize("stream", [False, True])
@pytest.mark.parametrize("kind", ["server_error", "invalid_request_error"])
async def test_an_error_sent_with_status_200_is_still_an_error(
    tierline: Any, aiohttp_server: Any, openai_client: Any, kind: str, stream: bool
) -> None:
    async def handler(request: web.Request) -> web.Response:
        return web.json_response({"error": {"message": "upstream says no", "type": kind}})

    app = web.Application()
    app.router.add_post("/v1/chat/completions", handler)
    odd = await aiohttp_server(app)
    server = await tierline(
        providers={"odd": {"kind": "openai", "base_url": str(odd.make_url("/v1"))}},
        models={"gpt-odd": {"provider": "odd", "upstream": "x"}},
        routing={"fallback_chain": ["gpt-good"]},
    )
    client = openai_client(server)
    if kind == "server_error":
        raw = await client.chat.completions.with_raw_response.create(
            model="gpt-odd", messages=MSG, stream=stream
        )
        assert raw.headers["x-tierline-model"] == "gpt-good"
    else:
        with pytest.raises(openai.BadRequestError) as info:
            await client.chat.completions.create(model="gpt-odd", messages=MSG, stream=stream)
        assert "upstream says no" in info.value.response.json()["error"]["message"]


async def test_candidate_without_a_translator_is_skipped_and_listed(
    fake: Any, aiohttp_server: Any, anthropic_client: Any
) -> None:
    """With only the identity translators wired, the other protocol's models are skipped."""
    app = build_app(make_config(fake, routing={"fallback_chain": ["claude-good"]}))
    app[TRANSLATORS] = dict(IDENTITY)
    server = await aiohttp_server(app)
    raw = await anthropic_client(server).messages.with_raw_response.create(
        model="gpt-good", max_tokens=50, messages=MSG
    )
    assert raw.headers["x-tierline-model"] == "claude-good"
    assert raw.headers["x-tierline-attempts"] == "2"
