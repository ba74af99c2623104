"""Codex-shaped tool declarations, interleaved parallel tool calls and OpenRouter's signed
reasoning, through real SDKs.

- Codex CLI 0.169, for a model name it knows, declares its tools in an
  ``additional_tools`` input item (namespaces, a freeform ``exec``): the provider
  must receive them as tools and the answer must come back as Codex's own items.
- An OpenAI-kind provider whose stream interleaves the argument pieces of parallel
  tool calls (a loopback replay of ``tests/golden/*_interleaved``): the Anthropic
  SDK and the Responses stream must get every call whole and valid.
- Claude via OpenRouter (``reasoning_details``, a replay of
  ``tests/golden/a2o_openrouter_signed_reasoning``): the Anthropic SDK gets the
  thinking block signed (tagged with the provider) and the redacted block.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from tests.conftest import fake_requests

GOLDEN = Path(__file__).resolve().parent.parent / "golden"
CODEX = json.loads((GOLDEN / "responses_codex_additional_tools" / "request.in.json").read_text())
MODELS = {
    "gpt-tool": {"provider": "oa", "upstream": "fake-gpt-tool"},
    "claude-tool": {"provider": "an", "upstream": "fake-claude-tool"},
}


@pytest.mark.parametrize("model", ["gpt-tool", "claude-tool"])
async def test_codex_additional_tools_reach_the_provider_and_map_back(
    tierline: Any, openai_client: Any, fake: Any, model: str
) -> None:
    server = await tierline(models=MODELS)
    async with openai_client(server).responses.stream(
        model=model,
        input=CODEX["input"][:7],  # the additional_tools item, instructions, the prompt
        store=False,
    ) as stream:
        kinds = [event.type async for event in stream]
        final = await stream.get_final_response()
    assert kinds[-1] == "response.completed"
    sent = [r for r in await fake_requests(fake) if r["path"] != "/_fake/requests"]
    body = sent[-1]["body"]
    names = [t.get("name") or t["function"]["name"] for t in body["tools"]]
    assert names == ["exec", "wait", "clock__sleep", "collaboration__spawn_agent",
                     "collaboration__wait_agent"]  # fmt: skip
    # The fake calls the first tool: the freeform ``exec``, back as Codex's custom call.
    (call,) = [item for item in final.output if item.type != "message"]
    assert call.type == "custom_tool_call" and call.name == "exec"
    assert isinstance(call.input, str)


def _replay(feature: str) -> web.Application:
    """An OpenAI-kind upstream answering every chat request with a recorded stream."""
    raw = (GOLDEN / feature / "stream.in.sse").read_bytes()

    async def chat(request: web.Request) -> web.StreamResponse:
        await request.read()
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        for frame in raw.split(b"\n\n"):  # one frame per write: pieces arrive apart
            if frame.strip():
                await response.write(frame + b"\n\n")
        await response.write_eof()
        return response

    app = web.Application()
    app.router.add_post("/v1/chat/completions", chat)
    return app


async def _replaying_tierline(tierline: Any, aiohttp_server: Any, feature: str) -> Any:
    upstream = await aiohttp_server(_replay(feature))
    base = str(upstream.make_url("/v1"))
    return await tierline(
        providers={"rp": {"kind": "openai", "base_url": base, "api_keys": ["env:OA_KEY"]}},
        models={"replay": {"provider": "rp", "upstream": "moonshotai/kimi-k2-0905"}},
        routing={"default_model": "replay"},
    )


async def test_interleaved_parallel_tool_calls_reach_the_anthropic_sdk_whole(
    tierline: Any, aiohttp_server: Any, anthropic_client: Any
) -> None:
    server = await _replaying_tierline(tierline, aiohttp_server, "a2o_tools_interleaved")
    async with anthropic_client(server).messages.stream(
        model="replay", max_tokens=512, messages=[{"role": "user", "content": "go"}]
    ) as stream:
        message = await stream.get_final_message()
    calls = [(b.name, b.input) for b in message.content if b.type == "tool_use"]
    assert calls == [
        ("Write", {"file_path": "/repo/a.py", "content": "print('a')\n"}),
        ("Bash", {"command": "git status"}),
        ("Grep", {"pattern": "TODO"}),
    ]
    assert message.stop_reason == "tool_use"


async def test_interleaved_parallel_tool_calls_reach_a_responses_client_whole(
    tierline: Any, aiohttp_server: Any, openai_client: Any
) -> None:
    server = await _replaying_tierline(tierline, aiohttp_server, "responses_tools_interleaved")
    async with openai_client(server).responses.stream(model="replay", input="go") as stream:
        final = await stream.get_final_response()
    calls = [(i.name, json.loads(i.arguments)) for i in final.output if i.type == "function_call"]
    assert calls == [
        ("Write", {"file_path": "/repo/a.py", "content": "print('a')\n"}),
        ("Bash", {"command": "git status"}),
        ("Grep", {"pattern": "TODO"}),
    ]


async def test_openrouter_signed_reasoning_reaches_the_anthropic_sdk(
    tierline: Any, aiohttp_server: Any, anthropic_client: Any
) -> None:
    server = await _replaying_tierline(tierline, aiohttp_server, "a2o_openrouter_signed_reasoning")
    async with anthropic_client(server).messages.stream(
        model="replay", max_tokens=512, messages=[{"role": "user", "content": "go"}]
    ) as stream:
        message = await stream.get_final_message()
    thinking, redacted, text, call = message.content
    assert thinking.type == "thinking" and thinking.thinking == "The version is in setup.cfg."
    assert thinking.signature == "tierline:rp:EqQBCkYIBxgCKkBsig3"
    assert redacted.type == "redacted_thinking" and redacted.data == "tierline:rp:EmwKAhgBEgy3red3"
    assert text.type == "text" and call.type == "tool_use"
