"""The identity path through tierline with the official SDKs: both protocols,
streaming and not, tool calls, headers, what reaches the provider, the access log."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest

from tests.conftest import CLIENT_KEY, TEST_ENV, fake_requests, settle

TOOLS_OA = [
    {
        "type": "function",
        "function": {
            "name": "read_file",
            "description": "Read a file",
            "parameters": {
                "type": "object",
                "properties": {"path": {"type": "string"}},
                "required": ["path"],
            },
        },
    }
]
TOOLS_AN = [
    {
        "name": "read_file",
        "description": "Read a file",
        "input_schema": {
            "type": "object",
            "properties": {"path": {"type": "string"}},
            "required": ["path"],
        },
    }
]
MSG = [{"role": "user", "content": "hi"}]


async def test_openai_non_stream_rewrites_model_and_sets_headers(
    tierline: Any, openai_client: Any, fake: Any
) -> None:
    server = await tierline()
    raw = await openai_client(server).chat.completions.with_raw_response.create(
        model="gpt-good", messages=MSG
    )
    completion = raw.parse()
    assert completion.model == "gpt-good"
    assert "Hello from the fake fake-gpt" in (completion.choices[0].message.content or "")
    assert completion.usage is not None and completion.usage.prompt_tokens > 0
    assert raw.headers["x-tierline-model"] == "gpt-good"
    assert raw.headers["x-tierline-provider"] == "oa"
    assert raw.headers["x-tierline-attempts"] == "1"
    assert raw.headers["x-tierline-route"]
    assert raw.headers["x-request-id"]
    (sent,) = await fake_requests(fake)
    assert sent["body"] == {"model": "fake-gpt", "messages": MSG}
    assert sent["headers"]["authorization"] == "Bearer " + TEST_ENV["OA_KEY"]
    assert CLIENT_KEY not in json.dumps(sent["headers"])


async def test_openai_stream_text_usage_chunk_hidden_unless_asked(
    tierline: Any, openai_client: Any, fake: Any
) -> None:
    server = await tierline()
    client = openai_client(server)
    stream = await client.chat.completions.create(model="gpt-good", messages=MSG, stream=True)
    chunks = [chunk async for chunk in stream]
    assert all(c.model == "gpt-good" for c in chunks)
    assert all(c.choices for c in chunks), "the usage-only chunk must not reach this client"
    text = "".join(c.choices[0].delta.content or "" for c in chunks)
    assert text.startswith("Hello from the fake fake-gpt")
    (sent,) = await fake_requests(fake)
    assert sent["body"]["stream_options"] == {"include_usage": True}

    stream = await client.chat.completions.create(
        model="gpt-good", messages=MSG, stream=True, stream_options={"include_usage": True}
    )
    chunks = [chunk async for chunk in stream]
    assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens > 0


async def test_openai_tool_calls_stream_and_not(tierline: Any, openai_client: Any) -> None:
    server = await tierline(models={"gpt-tool": {"provider": "oa", "upstream": "fake-tool"}})
    client = openai_client(server)
    done = await client.chat.completions.create(model="gpt-tool", messages=MSG, tools=TOOLS_OA)
    call = done.choices[0].message.tool_calls[0]  # type: ignore[index]
    assert call.function.name == "read_file"
    assert "path" in json.loads(call.function.arguments)
    stream = await client.chat.completions.create(
        model="gpt-tool", messages=MSG, tools=TOOLS_OA, stream=True
    )
    args, names = "", []
    async for chunk in stream:
        for tc in chunk.choices[0].delta.tool_calls or [] if chunk.choices else []:
            if tc.function and tc.function.name:
                names.append(tc.function.name)
            if tc.function and tc.function.arguments:
                args += tc.function.arguments
    assert names == ["read_file"]
    assert "path" in json.loads(args)


async def test_anthropic_non_stream_and_stream(
    tierline: Any, anthropic_client: Any, fake: Any
) -> None:
    server = await tierline()
    client = anthropic_client(server)
    raw = await client.messages.with_raw_response.create(
        model="claude-good",
        max_tokens=100,
        messages=MSG,
        extra_headers={"anthropic-beta": "prompt-caching-2024-07-31"},
    )
    message = await raw.parse()
    assert message.model == "claude-good"
    assert message._request_id == raw.headers["x-request-id"]
    assert raw.headers["x-tierline-provider"] == "an"
    assert message.usage.input_tokens > 0
    async with client.messages.stream(model="claude-good", max_tokens=100, messages=MSG) as stream:
        text = "".join([t async for t in stream.text_stream])
        final = await stream.get_final_message()
    assert text.startswith("Hello from the fake fake-claude")
    assert final.model == "claude-good"
    assert final.usage.output_tokens > 0
    first, second = await fake_requests(fake)
    assert first["headers"]["x-api-key"] == TEST_ENV["AN_KEY"]
    assert first["headers"]["anthropic-beta"] == "prompt-caching-2024-07-31"
    assert "anthropic-version" in first["headers"]
    assert "authorization" not in first["headers"]
    assert CLIENT_KEY not in json.dumps(first["headers"]) + json.dumps(second["headers"])
    assert first["body"]["model"] == "fake-claude"


async def test_anthropic_beta_query_and_tool_stream(tierline: Any, anthropic_client: Any) -> None:
    server = await tierline(models={"claude-tool": {"provider": "an", "upstream": "fake-tool"}})
    client = anthropic_client(server)
    message = await client.beta.messages.create(
        model="claude-tool", max_tokens=100, messages=MSG, tools=TOOLS_AN
    )
    assert message.content[-1].type == "tool_use"
    async with client.messages.stream(
        model="claude-tool", max_tokens=100, messages=MSG, tools=TOOLS_AN
    ) as stream:
        final = await stream.get_final_message()
    (block,) = [b for b in final.content if b.type == "tool_use"]
    assert block.name == "read_file" and "path" in block.input  # type: ignore[operator]
    assert final.stop_reason == "tool_use"


async def test_extra_body_and_headers_reach_provider(
    tierline: Any, openai_client: Any, fake: Any
) -> None:
    server = await tierline(
        providers={"oa": {"headers": {"X-Title": "tierline-test"}}},
        models={
            "gpt-good": {"extra_body": {"provider": {"order": ["fireworks"]}, "temperature": 0}}
        },
    )
    await openai_client(server).chat.completions.create(
        model="gpt-good", messages=MSG, temperature=1, extra_body={"provider": {"sort": "price"}}
    )
    (sent,) = await fake_requests(fake)
    assert sent["headers"]["x-title"] == "tierline-test"
    assert sent["body"]["provider"] == {"sort": "price", "order": ["fireworks"]}
    assert sent["body"]["temperature"] == 0


async def test_alias_and_default_routing(tierline: Any, openai_client: Any, fake: Any) -> None:
    server = await tierline(routing={"aliases": {"claude-*": "claude-good", "*": "auto"}})
    client = openai_client(server)
    raw = await client.chat.completions.with_raw_response.create(model="gpt-5", messages=MSG)
    assert raw.headers["x-tierline-model"] == "gpt-good"
    assert raw.parse().model == "gpt-good"
    assert raw.headers["x-tierline-route"]


@pytest.mark.parametrize("stream", [False, True])
async def test_access_log_line(
    tierline: Any, openai_client: Any, caplog: pytest.LogCaptureFixture, stream: bool
) -> None:
    server = await tierline()
    with caplog.at_level(logging.INFO, logger="tierline.access"):
        if stream:
            s = await openai_client(server).chat.completions.create(
                model="gpt-good", messages=MSG, stream=True
            )
            _ = [c async for c in s]
        else:
            await openai_client(server).chat.completions.create(model="gpt-good", messages=MSG)
        settle(server)  # (the line is written just after the response)
    (record,) = [r for r in caplog.records if r.name == "tierline.access"]
    fields = record.msg
    assert isinstance(fields, dict)
    assert fields["model"] == "gpt-good" and fields["status"] == 200
    assert fields["output_tokens"] > 0 and fields["stream"] is stream
    assert fields["attempts"] == ["gpt-good@oa:200:ok"]
    assert CLIENT_KEY not in str(fields) and TEST_ENV["OA_KEY"] not in str(fields)
