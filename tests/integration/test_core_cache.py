"""``prompt_cache = "auto"`` through the real app and the fake provider (which reports
Anthropic cache writes for a new prefix up to a breakpoint, then reads): the second
identical request reads what the first wrote, for Anthropic and OpenAI clients alike."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import fake_requests

SYSTEM = "You are a careful coding agent. " * 40
SCHEMA = {"type": "object", "properties": {"path": {"type": "string"}}, "required": ["path"]}
TOOLS = [{"name": "Read", "description": "read a file", "input_schema": SCHEMA}]
MSG = [{"role": "user", "content": "explain the build " * 30}]


@pytest.mark.parametrize("stream", [False, True])
async def test_auto_cache_anthropic_client(
    tierline: Any, anthropic_client: Any, fake: Any, stream: bool
) -> None:
    server = await tierline(providers={"an": {"prompt_cache": "auto"}})
    client = anthropic_client(server)
    usages = []
    for _ in range(2):
        if stream:
            async with client.messages.stream(
                model="claude-good", max_tokens=50, system=SYSTEM, tools=TOOLS, messages=MSG
            ) as events:
                usages.append((await events.get_final_message()).usage)
        else:
            message = await client.messages.create(
                model="claude-good", max_tokens=50, system=SYSTEM, tools=TOOLS, messages=MSG
            )
            usages.append(message.usage)
    first, second = usages
    assert first.cache_creation_input_tokens and not first.cache_read_input_tokens
    assert second.cache_read_input_tokens == first.cache_creation_input_tokens
    sent = (await fake_requests(fake))[0]["body"]
    assert sent["system"][-1]["cache_control"] == {"type": "ephemeral"}
    assert sent["tools"][-1]["cache_control"] == {"type": "ephemeral"}
    assert sent["messages"][-1]["content"][-1]["cache_control"] == {"type": "ephemeral"}


async def test_auto_cache_openai_client_routed_to_anthropic(
    tierline: Any, openai_client: Any
) -> None:
    server = await tierline(providers={"an": {"prompt_cache": "auto"}})
    client = openai_client(server)
    messages = [{"role": "system", "content": SYSTEM}, *MSG]
    first = await client.chat.completions.create(model="claude-good", messages=messages)
    second = await client.chat.completions.create(model="claude-good", messages=messages)
    assert first.usage and second.usage
    cached = second.usage.prompt_tokens_details
    assert cached is not None and cached.cached_tokens
    assert not (
        first.usage.prompt_tokens_details and first.usage.prompt_tokens_details.cached_tokens
    )


async def test_cache_off_or_client_breakpoints_are_left_alone(
    tierline: Any, anthropic_client: Any, fake: Any
) -> None:
    server = await tierline()  # prompt_cache defaults to "off"
    client = anthropic_client(server)
    for _ in range(2):
        message = await client.messages.create(
            model="claude-good", max_tokens=50, system=SYSTEM, messages=MSG
        )
    assert not message.usage.cache_read_input_tokens
    server = await tierline(providers={"an": {"prompt_cache": "auto"}})
    own = [{"type": "text", "text": SYSTEM, "cache_control": {"type": "ephemeral"}}]
    await anthropic_client(server).messages.create(
        model="claude-good", max_tokens=50, system=own, messages=MSG
    )
    sent = (await fake_requests(fake))[-1]["body"]
    assert sent["system"] == own and isinstance(sent["messages"][-1]["content"], str)
