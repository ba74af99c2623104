"""The fake provider, driven over loopback by the official openai and anthropic SDKs."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import anthropic
import openai
import pytest
from aiohttp import ClientSession
from aiohttp.test_utils import TestServer

from sidecar.demo.fake_behavior import parse_behavior
from sidecar.demo.fake_provider import build_fake_app

ServerFactory = Callable[..., Awaitable[TestServer]]

USER: Any = [{"role": "user", "content": "hello there"}]
OPENAI_TOOLS: Any = [
    {
        "type": "function",
        "function": {
            "name": "read_file",
            "parameters": {
                "type": "object",
                "properties": {"path": {"type": "string"}, "limit": {"type": "integer"}},
                "required": ["path", "limit"],
            },
        },
    }
]
ANTHROPIC_TOOLS: Any = [
    {
        "name": "Read",
        "description": "Read a file",
        "input_schema": {
            "type": "object",
            "properties": {"file_path": {"type": "string"}},
            "required": ["file_path"],
        },
    }
]
SYSTEM: Any = [
    {
        "type": "text",
        "text": "You are a coding agent. " * 40,
        "cache_control": {"type": "ephemeral"},
    }
]


@pytest.fixture
async def server(aiohttp_server: ServerFactory) -> TestServer:
    return await aiohttp_server(build_fake_app())


@pytest.fixture
async def oai(server: TestServer) -> AsyncIterator[openai.AsyncOpenAI]:
    client = openai.AsyncOpenAI(base_url=str(server.make_url("/v1")), api_key="k", max_retries=0)
    yield client
    await client.close()


@pytest.fixture
async def ant(server: TestServer) -> AsyncIterator[anthropic.AsyncAnthropic]:
    client = anthropic.AsyncAnthropic(base_url=str(server.make_url("")), api_key="k", max_retries=0)
    yield client
    await client.close()


async def test_openai_text_non_streaming(oai: openai.AsyncOpenAI) -> None:
    result = await oai.chat.completions.create(model="fake-model", messages=USER)
    assert result.model == "fake-model"
    assert result.choices[0].message.content == (
        "Hello from the fake fake-model. This is a deterministic answer."
    )
    assert result.choices[0].finish_reason == "stop"
    assert result.usage is not None and result.usage.prompt_tokens > 0
    assert result.usage.total_tokens == result.usage.prompt_tokens + result.usage.completion_tokens


async def test_openai_stream_with_usage_and_automatic_cache(oai: openai.AsyncOpenAI) -> None:
    history: Any = [
        {"role": "system", "content": "be brief " * 50},
        {"role": "user", "content": "first"},
    ]
    await oai.chat.completions.create(model="fake-model", messages=history)
    history = history + [
        {"role": "assistant", "content": "ok"},
        {"role": "user", "content": "next"},
    ]
    stream = await oai.chat.completions.create(
        model="fake-chunks-5",
        messages=history,
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = [chunk async for chunk in stream]
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "tok0 tok1 tok2 tok3 tok4 "
    assert [c for c in chunks if c.choices and c.choices[0].delta.content] != []
    assert len([c for c in chunks if c.choices and c.choices[0].delta.content]) == 5
    usage = chunks[-1].usage
    assert chunks[-1].choices == [] and usage is not None
    assert usage.prompt_tokens_details is not None
    assert 0 < (usage.prompt_tokens_details.cached_tokens or 0) < usage.prompt_tokens


async def test_openai_stream_tool_call_fragments(oai: openai.AsyncOpenAI) -> None:
    stream = await oai.chat.completions.create(
        model="fake-tool", messages=USER, tools=OPENAI_TOOLS, stream=True
    )
    name, fragments, finish = "", [], None
    async for chunk in stream:
        assert chunk.usage is None
        for call in chunk.choices[0].delta.tool_calls or []:
            assert call.function is not None
            name += call.function.name or ""
            fragments.append(call.function.arguments or "")
        finish = chunk.choices[0].finish_reason or finish
    assert name == "read_file" and finish == "tool_calls"
    assert len([f for f in fragments if f]) == 3
    assert json.loads("".join(fragments)) == {"path": "fake-path", "limit": 1}


async def test_anthropic_cache_creation_then_read(ant: anthropic.AsyncAnthropic) -> None:
    first = await ant.messages.create(
        model="fake-model", max_tokens=64, system=SYSTEM, messages=USER
    )
    second = await ant.messages.create(
        model="fake-model", max_tokens=64, system=SYSTEM, messages=USER
    )
    assert first.usage.cache_creation_input_tokens and not first.usage.cache_read_input_tokens
    assert second.usage.cache_read_input_tokens == first.usage.cache_creation_input_tokens
    assert second.usage.cache_creation_input_tokens == 0
    assert second.usage.input_tokens == first.usage.input_tokens > 0
    count = await ant.messages.count_tokens(model="fake-model", system=SYSTEM, messages=USER)
    assert count.input_tokens == first.usage.input_tokens + first.usage.cache_creation_input_tokens


async def test_anthropic_stream_tool_use(ant: anthropic.AsyncAnthropic) -> None:
    async with ant.messages.stream(
        model="fake-tool", max_tokens=64, tools=ANTHROPIC_TOOLS, messages=USER
    ) as stream:
        kinds = [event.type async for event in stream]
        message = await stream.get_final_message()
    assert kinds[0] == "message_start" and kinds[-1] == "message_stop"
    assert kinds.count("input_json") == 3
    block = message.content[0]
    assert block.type == "tool_use" and block.name == "Read"
    assert block.input == {"file_path": "fake-file_path"}
    assert message.stop_reason == "tool_use" and message.usage.output_tokens > 0


async def test_anthropic_raw_event_order(server: TestServer) -> None:
    body = {"model": "fake-model", "max_tokens": 10, "messages": USER, "stream": True}
    headers = {"anthropic-version": "2023-06-01", "x-api-key": "k"}
    async with ClientSession() as http:
        async with http.post(
            server.make_url("/v1/messages?beta=true"), json=body, headers=headers
        ) as r:
            raw = (await r.read()).decode()
            assert r.headers["request-id"].startswith("req_")
    names = [line[7:] for line in raw.splitlines() if line.startswith("event: ")]
    assert names[:3] == ["message_start", "content_block_start", "ping"]
    assert names[-3:] == ["content_block_stop", "message_delta", "message_stop"]
    assert '"cache_read_input_tokens":0' in raw


ERRORS = [
    ("fake-ratelimit", 429, openai.RateLimitError, anthropic.RateLimitError, "rate_limit"),
    ("fake-error500", 500, openai.InternalServerError, anthropic.InternalServerError, "server"),
    ("fake-error503", 503, openai.InternalServerError, anthropic.InternalServerError, "server"),
    ("fake-overloaded529", 529, openai.InternalServerError, anthropic.InternalServerError, "Over"),
    ("fake-context", 400, openai.BadRequestError, anthropic.BadRequestError, "context"),
    ("fake-auth", 401, openai.AuthenticationError, anthropic.AuthenticationError, "API key"),
    ("fake-notfound", 404, openai.NotFoundError, anthropic.NotFoundError, "not"),
    ("fake-badrequest", 400, openai.BadRequestError, anthropic.BadRequestError, "Invalid"),
]


@pytest.mark.parametrize(("model", "status", "oerr", "aerr", "_word"), ERRORS)
async def test_errors_in_each_protocol(
    oai: openai.AsyncOpenAI,
    ant: anthropic.AsyncAnthropic,
    model: str,
    status: int,
    oerr: type[openai.APIStatusError],
    aerr: type[anthropic.APIStatusError],
    _word: str,
) -> None:
    with pytest.raises(oerr) as oexc:
        await oai.chat.completions.create(model=model, messages=USER)
    with pytest.raises(aerr) as aexc:
        await ant.messages.create(model=model, max_tokens=8, messages=USER)
    assert oexc.value.status_code == aexc.value.status_code == status
    if status == 429:
        assert oexc.value.response.headers["retry-after"] == "1"


async def test_context_wordings(oai: openai.AsyncOpenAI, ant: anthropic.AsyncAnthropic) -> None:
    with pytest.raises(openai.BadRequestError) as oexc:
        await oai.chat.completions.create(model="fake-context", messages=USER)
    assert oexc.value.code == "context_length_exceeded"
    with pytest.raises(anthropic.BadRequestError) as aexc:
        await ant.messages.create(model="fake-context", max_tokens=8, messages=USER)
    assert "prompt is too long" in aexc.value.message
    # With a limit, only prompts above it overflow.
    ok = await oai.chat.completions.create(model="fake-context-1000", messages=USER)
    assert ok.choices[0].message.content


async def test_fail_times_then_success(oai: openai.AsyncOpenAI) -> None:
    with pytest.raises(openai.RateLimitError):
        await oai.chat.completions.create(model="m-ratelimit-once", messages=USER)
    ok = await oai.chat.completions.create(model="m-ratelimit-once", messages=USER)
    assert ok.choices[0].message.content
    headers = {"x-fake-fail-times": "2"}
    for _ in range(2):
        with pytest.raises(openai.InternalServerError):
            await oai.chat.completions.create(
                model="flaky",
                messages=USER,
                extra_headers=headers,
            )
    ok = await oai.chat.completions.create(model="flaky", messages=USER, extra_headers=headers)
    assert ok.model == "flaky"


async def test_api_key_behaviours(server: TestServer) -> None:
    url = str(server.make_url("/v1"))
    for key, error in (
        ("bad-key", openai.AuthenticationError),
        ("limited-key-2", openai.RateLimitError),
    ):
        client = openai.AsyncOpenAI(base_url=url, api_key=key, max_retries=0)
        with pytest.raises(error):
            await client.chat.completions.create(model="fake-model", messages=USER)
        await client.close()
    ant = anthropic.AsyncAnthropic(
        base_url=str(server.make_url("")), api_key="bad-key", max_retries=0
    )
    with pytest.raises(anthropic.AuthenticationError):
        await ant.messages.create(model="fake-model", max_tokens=8, messages=USER)
    await ant.close()


async def test_disconnect_mid_stream(
    oai: openai.AsyncOpenAI, ant: anthropic.AsyncAnthropic
) -> None:
    seen = 0
    with pytest.raises(openai.APIConnectionError):
        stream = await oai.chat.completions.create(
            model="fake-disconnect", messages=USER, stream=True
        )
        async for _ in stream:
            seen += 1
    assert seen == 2
    # The anthropic SDK lets the transport's error escape from stream iteration.
    with pytest.raises(Exception, match="peer closed|Connection error"):
        async with ant.messages.stream(model="fake-disconnect-3", max_tokens=8, messages=USER) as s:
            async for _ in s:
                pass
    with pytest.raises(openai.APIConnectionError):
        await oai.chat.completions.create(model="fake-disconnect", messages=USER)


async def test_slow_and_stall_delays(oai: openai.AsyncOpenAI) -> None:
    started = time.monotonic()
    await oai.chat.completions.create(model="fake-slow-150", messages=USER)
    assert time.monotonic() - started >= 0.15
    started = time.monotonic()
    stream = await oai.chat.completions.create(
        model="m",
        messages=USER,
        stream=True,
        extra_headers={"x-fake-behavior": "stall-200"},
    )
    stamps = [time.monotonic() async for _ in stream]
    # The fake sleeps 200 ms inside the request, so the whole stream takes at least that.
    assert stamps[-1] - started >= 0.2
    # Where the silence falls: after the first two events. A gap between two chunks seen
    # by the client is shorter than the sleep by however late the earlier chunk was
    # handled (scheduler jitter on a busy machine), so it is only compared with 150 ms.
    gaps = [b - a for a, b in zip(stamps, stamps[1:], strict=False)]
    assert gaps.index(max(gaps)) == 1 and max(gaps) >= 0.15


async def test_script_drives_replies_in_order(
    server: TestServer, oai: openai.AsyncOpenAI, ant: anthropic.AsyncAnthropic
) -> None:
    script = [
        {
            "tool_calls": [
                {"name": "Write", "arguments": {"file_path": "a.py", "content": "x = 1\n"}}
            ]
        },
        {"text": "done", "behavior": ""},
    ]
    async with ClientSession() as http:
        async with http.post(server.make_url("/_fake/script"), json=script) as r:
            assert (await r.json())["queued"] == 2
        keyed = {"model": "other", "replies": [{"behavior": "error503"}]}
        async with http.post(server.make_url("/_fake/script"), json=keyed) as r:
            assert r.status == 200
    first = await ant.messages.create(model="claude-x", max_tokens=8, messages=USER)
    assert first.content[0].type == "tool_use" and first.content[0].input == {
        "file_path": "a.py",
        "content": "x = 1\n",
    }
    with pytest.raises(openai.InternalServerError):
        await oai.chat.completions.create(model="other", messages=USER)
    second = await oai.chat.completions.create(model="gpt-x", messages=USER)
    assert second.choices[0].message.content == "done"
    third = await oai.chat.completions.create(model="gpt-x", messages=USER)
    assert third.choices[0].message.content.startswith("Hello")  # type: ignore[union-attr]


async def test_recorded_requests_models_and_validation(server: TestServer) -> None:
    async with ClientSession() as http:
        body = {"model": "fake-model", "max_tokens": 5, "messages": USER}
        async with http.post(server.make_url("/v1/messages?beta=true"), json=body) as r:
            assert r.status == 400
            assert (await r.json())["error"]["message"].startswith("anthropic-version")
        headers = {"x-fake-behavior": "echo", "authorization": "Bearer sk-1"}
        async with http.post(
            server.make_url("/v1/chat/completions"), json=body, headers=headers
        ) as r:
            assert (await r.json())["choices"][0]["message"]["content"] == "hello there"
        async with http.get(server.make_url("/_fake/requests")) as r:
            recorded = await r.json()
        assert [x["path"] for x in recorded] == ["/v1/messages", "/v1/chat/completions"]
        assert recorded[0]["query"] == {"beta": "true"} and recorded[1]["behavior"] == "echo"
        assert recorded[1]["headers"]["authorization"] == "Bearer sk-1"
        assert recorded[1]["body"] == body
        async with http.delete(server.make_url("/_fake/requests")) as r:
            assert r.status == 200
        async with http.get(server.make_url("/_fake/requests")) as r:
            assert await r.json() == []
        async with http.get(server.make_url("/v1/models")) as r:
            assert (await r.json())["data"][0]["object"] == "model"
        async with http.get(
            server.make_url("/v1/models"), headers={"anthropic-version": "2023-06-01"}
        ) as r:
            assert (await r.json())["data"][0]["type"] == "model"


def test_behavior_words_are_whole_words() -> None:
    assert parse_behavior("author-model").error is None
    assert parse_behavior("claude-sonnet-4-5").error is None and parse_behavior("x").shape == "text"
    assert parse_behavior("slow-250 tool").delay_ms == 250
    assert parse_behavior("slow-250 tool").shape == "tool"
    assert parse_behavior("fake-error502-fail-1").status == 502
    assert parse_behavior("fake-error502-fail-1").fail_times == 1
    assert parse_behavior("m", api_key="limited-key").status == 429
    assert parse_behavior("ratelimit retry-after-3").retry_after == "3"


@pytest.mark.parametrize(
    ("path", "extra"),
    [
        ("/v1/chat/completions", {"tools": 5}),
        ("/v1/messages", {"tools": 5}),
        ("/v1/chat/completions", {"messages": [5]}),
        ("/v1/messages", {"messages": [{"role": "user", "content": 5}]}),
        ("/v1/chat/completions", {"tools": [{"type": "function", "function": 5}]}),
        ("/v1/messages", {"tools": [{"name": "t", "input_schema": 5}]}),
        ("/v1/messages/count_tokens", {"messages": [{"role": "user", "content": 5}]}),
    ],
)
async def test_malformed_body_is_a_400_in_the_protocols_shape(
    server: TestServer, path: str, extra: dict[str, Any]
) -> None:
    body = {"model": "fake-tool", "max_tokens": 5, "messages": USER, **extra}
    async with ClientSession() as http:
        for stream in (False, True):
            async with http.post(
                server.make_url(path),
                json={**body, "stream": stream},
                headers={"anthropic-version": "2023-06-01"},
            ) as r:
                assert r.status == 400, await r.text()
                data = await r.json()
            if path.startswith("/v1/messages"):
                assert data["type"] == "error"
            assert data["error"]["type"] == "invalid_request_error"
