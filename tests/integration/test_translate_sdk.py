"""Cross-protocol traffic through tierline with the official SDKs and the fake provider.

Anthropic SDK -> OpenAI-kind provider, OpenAI SDK -> Anthropic-kind provider,
and OpenAI ``responses`` (Codex's API) -> both kinds; streaming and not, tool
calls, images, usage, errors, count_tokens estimates.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import anthropic
import openai
import pytest

from tests.conftest import fake_requests

PNG = base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\0" * 32).decode()
MODELS = {
    "gpt-tool": {"provider": "oa", "upstream": "fake-gpt-tool"},
    "gpt-bad": {"provider": "oa", "upstream": "fake-gpt-badrequest"},
    "claude-tool": {"provider": "an", "upstream": "fake-claude-tool"},
}
READ_TOOL = {
    "name": "Read",
    "description": "Read a file",
    "input_schema": {
        "type": "object",
        "properties": {"file_path": {"type": "string"}},
        "required": ["file_path"],
    },
}
BASH_FN = {
    "type": "function",
    "function": {
        "name": "bash",
        "description": "Run a command",
        "parameters": {
            "type": "object",
            "properties": {"command": {"type": "string"}},
            "required": ["command"],
        },
    },
}


async def _chat_requests(fake: Any, path: str) -> list[dict[str, Any]]:
    return [r for r in await fake_requests(fake) if r["path"] == path]


async def test_anthropic_sdk_to_openai_provider_whole_answer(
    tierline: Any, anthropic_client: Any, fake: Any
) -> None:
    server = await tierline(models=MODELS)
    raw = await anthropic_client(server).messages.with_raw_response.create(
        model="gpt-good",
        max_tokens=256,
        system=[{"type": "text", "text": "Be brief.", "cache_control": {"type": "ephemeral"}}],
        messages=[{"role": "user", "content": "hi"}],
        metadata={"user_id": "user_abc_session_1"},
        stop_sequences=["STOP"],
    )
    message = await raw.parse()
    assert raw.headers["x-tierline-provider"] == "oa"
    assert message.model == "gpt-good"
    assert message.content[0].type == "text" and "Hello from the fake" in message.content[0].text
    assert message.stop_reason == "end_turn"
    assert message.usage.input_tokens > 0 and message.usage.output_tokens > 0
    (sent,) = await _chat_requests(fake, "/v1/chat/completions")
    body = sent["body"]
    assert body["model"] == "fake-gpt" and body["user"] == "user_abc_session_1"
    assert body["messages"][0] == {"role": "system", "content": "Be brief."}
    assert body["stop"] == ["STOP"] and body["max_tokens"] == 256
    assert "stream" not in body


async def test_claude_code_shaped_stream_with_tool_call_and_usage(
    tierline: Any, anthropic_client: Any, fake: Any
) -> None:
    server = await tierline(models=MODELS)
    client: anthropic.AsyncAnthropic = anthropic_client(server)
    async with client.beta.messages.stream(
        model="gpt-tool",
        max_tokens=32000,
        betas=[
            "claude-code-20250219",
            "interleaved-thinking-2025-05-14",
            "context-management-2025-06-27",
        ],
        system=[
            {"type": "text", "text": "You are Claude Code.", "cache_control": {"type": "ephemeral"}}
        ],
        messages=[
            {"role": "user", "content": "read a.py"},
            {"role": "system", "content": "plan mode is off"},
        ],
        tools=[READ_TOOL],
        metadata={"user_id": "user_x_account__session_y"},
        extra_body={
            "thinking": {"type": "adaptive"},
            "context_management": {"edits": [{"type": "clear_thinking_20251015"}]},
            "output_config": {"effort": "high"},
        },
    ) as stream:
        kinds = [event.type async for event in stream]
        final = await stream.get_final_message()
    assert kinds[0] == "message_start" and "message_stop" in kinds
    (tool_use,) = [b for b in final.content if b.type == "tool_use"]
    assert tool_use.name == "Read" and isinstance(tool_use.input, dict)
    assert "file_path" in tool_use.input
    assert final.stop_reason == "tool_use"
    assert final.usage.output_tokens > 0 and final.usage.input_tokens > 0
    (sent,) = await _chat_requests(fake, "/v1/chat/completions")
    body = sent["body"]
    assert body["stream"] is True and body["stream_options"] == {"include_usage": True}
    assert body["tools"][0]["function"]["name"] == "Read"
    for dropped in ("thinking", "context_management", "output_config", "metadata"):
        assert dropped not in body
    assert "anthropic-beta" not in sent["headers"]


async def test_images_and_tool_result_images_reach_an_openai_provider(
    tierline: Any, anthropic_client: Any, fake: Any
) -> None:
    server = await tierline(models=MODELS)
    image = {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": PNG}}
    message = await anthropic_client(server).messages.create(
        model="gpt-good",
        max_tokens=100,
        tools=[READ_TOOL],
        messages=[
            {"role": "user", "content": [image, {"type": "text", "text": "what is this?"}]},
            {
                "role": "assistant",
                "content": [
                    {
                        "type": "tool_use",
                        "id": "toolu_1",
                        "name": "Read",
                        "input": {"file_path": "shot.png"},
                    }
                ],
            },
            {
                "role": "user",
                "content": [
                    {
                        "type": "tool_result",
                        "tool_use_id": "toolu_1",
                        "content": [image],
                        "cache_control": {"type": "ephemeral"},
                    },
                    {
                        "type": "tool_result",
                        "tool_use_id": "toolu_2",
                        "is_error": True,
                        "content": "no such file",
                    },
                ],
            },
        ],
    )
    assert message.content
    (sent,) = await _chat_requests(fake, "/v1/chat/completions")
    roles = [m["role"] for m in sent["body"]["messages"]]
    assert roles == ["user", "assistant", "tool", "tool", "user"]
    assert sent["body"]["messages"][0]["content"][0]["image_url"]["url"].startswith(
        "data:image/png;base64,"
    )
    assert sent["body"]["messages"][3]["content"] == "Error: no such file"
    assert sent["body"]["messages"][4]["content"][1]["type"] == "image_url"


async def test_openai_sdk_to_anthropic_provider_whole_and_streamed(
    tierline: Any, openai_client: Any, fake: Any
) -> None:
    server = await tierline(models=MODELS)
    client = openai_client(server)
    completion = await client.chat.completions.create(
        model="claude-good",
        messages=[{"role": "system", "content": "sys"}, {"role": "user", "content": "hi"}],
        max_completion_tokens=300,
        user="opencode-user",
    )
    assert completion.model == "claude-good"
    assert "Hello from the fake" in (completion.choices[0].message.content or "")
    assert completion.usage is not None and completion.usage.prompt_tokens > 0
    stream = await client.chat.completions.create(
        model="claude-good",
        messages=[{"role": "user", "content": "hi"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = [c async for c in stream]
    assert chunks[0].choices[0].delta.role == "assistant"
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert "Hello from the fake" in text
    assert chunks[-1].choices == [] and chunks[-1].usage is not None
    assert chunks[-1].usage.completion_tokens > 0
    sent = await _chat_requests(fake, "/v1/messages")
    assert sent[0]["body"]["system"] == [{"type": "text", "text": "sys"}]
    assert sent[0]["body"]["max_tokens"] == 300
    assert sent[0]["body"]["metadata"] == {"user_id": "opencode-user"}
    assert sent[0]["headers"]["anthropic-version"]


async def test_openai_sdk_stream_tool_calls_from_anthropic_provider(
    tierline: Any, openai_client: Any
) -> None:
    server = await tierline(models=MODELS)
    stream = await openai_client(server).chat.completions.create(
        model="claude-tool",
        messages=[{"role": "user", "content": "list files"}],
        tools=[BASH_FN],
        stream=True,
    )
    calls: dict[int, dict[str, str]] = {}
    finish = None
    usage_seen = False
    async for chunk in stream:
        usage_seen = usage_seen or chunk.usage is not None
        for choice in chunk.choices:
            finish = choice.finish_reason or finish
            for call in choice.delta.tool_calls or []:
                entry = calls.setdefault(call.index, {"name": "", "args": ""})
                if call.function and call.function.name:
                    entry["name"] = call.function.name
                if call.function and call.function.arguments:
                    entry["args"] += call.function.arguments
    assert finish == "tool_calls" and not usage_seen  # the client did not ask for usage
    assert calls[0]["name"] == "bash" and "command" in json.loads(calls[0]["args"])


async def test_provider_errors_come_back_in_the_clients_shape(
    tierline: Any, anthropic_client: Any
) -> None:
    server = await tierline(models=MODELS)
    with pytest.raises(anthropic.BadRequestError) as caught:
        await anthropic_client(server).messages.create(
            model="gpt-bad", max_tokens=10, messages=[{"role": "user", "content": "x"}]
        )
    body = caught.value.body
    assert isinstance(body, dict) and body["type"] == "error"
    assert body["error"]["type"] == "invalid_request_error"


async def test_count_tokens_is_estimated_for_openai_models(
    tierline: Any, anthropic_client: Any
) -> None:
    server = await tierline(models=MODELS)
    raw = await anthropic_client(server).messages.with_raw_response.count_tokens(
        model="gpt-good", messages=[{"role": "user", "content": "hello there " * 50}]
    )
    assert raw.headers["x-tierline-estimate"] == "true"
    assert 80 <= (await raw.parse()).input_tokens <= 200


@pytest.mark.parametrize("model", ["gpt-good", "claude-good"])
async def test_responses_api_whole_answer(tierline: Any, openai_client: Any, model: str) -> None:
    server = await tierline(models=MODELS)
    response = await openai_client(server).responses.create(
        model=model, instructions="Be brief.", input="hi", max_output_tokens=200
    )
    assert response.status == "completed"
    assert "Hello from the fake" in response.output_text
    assert response.usage is not None and response.usage.input_tokens > 0
    assert response.usage.output_tokens > 0


@pytest.mark.parametrize("model", ["gpt-tool", "claude-tool"])
async def test_responses_api_stream_with_function_call(
    tierline: Any, openai_client: Any, fake: Any, model: str
) -> None:
    server = await tierline(models=MODELS)
    tools = [
        {
            "type": "function",
            "name": "shell",
            "description": "Run a command",
            "parameters": BASH_FN["function"]["parameters"],
            "strict": False,
        }
    ]
    async with openai_client(server).responses.stream(
        model=model,
        instructions="You are Codex.",
        input=[
            {
                "type": "message",
                "role": "user",
                "content": [{"type": "input_text", "text": "list files"}],
            },
            {
                "type": "function_call",
                "call_id": "call_0",
                "name": "shell",
                "arguments": '{"command": "pwd"}',
            },
            {"type": "function_call_output", "call_id": "call_0", "output": "/repo"},
        ],
        tools=tools,  # type: ignore[arg-type]
        store=False,
    ) as stream:
        kinds = [event.type async for event in stream]
        final = await stream.get_final_response()
    assert kinds[0] == "response.created" and kinds[-1] == "response.completed"
    assert "response.function_call_arguments.delta" in kinds
    (call,) = [item for item in final.output if item.type == "function_call"]
    assert call.name == "shell" and "command" in json.loads(call.arguments)
    assert final.usage is not None and final.usage.output_tokens > 0
    sent = [r for r in await fake_requests(fake) if r["path"] != "/_fake/requests"]
    assert sent[-1]["body"]["stream"] is True


async def test_responses_api_refuses_server_side_state(tierline: Any, openai_client: Any) -> None:
    server = await tierline(models=MODELS)
    with pytest.raises(openai.BadRequestError) as caught:
        await openai_client(server).responses.create(
            model="gpt-good", input="and then?", previous_response_id="resp_123"
        )
    assert "previous_response_id" in str(caught.value)
