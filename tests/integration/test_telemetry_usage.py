"""Usage when the provider's count never came: aborted streams and responses without usage.

Through tierline with the fake provider's ``disconnect-N`` (the upstream drops the
connection mid-stream, after content reached the client), for both protocols: the
log record says the usage is estimated and has output > 0, and the token and cost
metrics carry it. The tap's own counting is checked on events fed directly.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from typing import Any

import anthropic
import openai
import pytest
from aiohttp.test_utils import TestServer

from sidecar.app import build_app
from sidecar.protocols.sse import SSEEvent
from sidecar.protocols.tap import AnthropicTap, OpenAITap
from sidecar.telemetry import names
from tests.conftest import make_config
from tests.fakes.otlp import RECEIVER, Receiver, build_otlp_app

MSG = [{"role": "user", "content": "tell me a long story " * 20}]
PRICES = {"prices": {"input": 1.0, "output": 2.0}}


@pytest.fixture
async def otlp(aiohttp_server: Any) -> AsyncIterator[tuple[Receiver, str]]:
    app = build_otlp_app()
    server = await aiohttp_server(app)
    yield app[RECEIVER], str(server.make_url("")).rstrip("/")


async def _tierline(fake: TestServer, otlp_url: str, **sections: Any) -> TestServer:
    config = make_config(fake, **sections)
    telemetry = dataclasses.replace(
        config.telemetry, endpoint=otlp_url, export_interval_ms=3_600_000
    )
    server = TestServer(build_app(dataclasses.replace(config, telemetry=telemetry)))
    await server.start_server()
    return server


def _cut_models() -> dict[str, Any]:
    return {
        "gpt-cut": {"provider": "oa", "upstream": "fake-disconnect-4-chunks-6", **PRICES},
        "claude-cut": {"provider": "an", "upstream": "fake-disconnect-6-chunks-6", **PRICES},
    }


async def test_aborted_streams_cost_what_was_received(fake: TestServer, otlp: Any) -> None:
    rx, url = otlp
    server = await _tierline(fake, url, models=_cut_models())
    base = str(server.make_url("")).rstrip("/")
    oa = openai.AsyncOpenAI(base_url=base + "/v1", api_key="k", max_retries=0)
    an = anthropic.AsyncAnthropic(base_url=base, api_key="k", max_retries=0)
    try:
        with pytest.raises(openai.APIError):
            stream = await oa.chat.completions.create(model="gpt-cut", messages=MSG, stream=True)
            async for _ in stream:
                pass
        with pytest.raises(anthropic.APIError):
            async with an.messages.stream(
                model="claude-cut", max_tokens=200, messages=MSG
            ) as events:
                async for _ in events:
                    pass
    finally:
        await oa.close()
        await an.close()
        await server.close()  # cleanup flushes records and metrics
    records = {r["attributes"]["tierline.model"]: r["attributes"] for r in rx.log_records()}
    assert set(records) == {"gpt-cut", "claude-cut"}
    for model, attrs in records.items():
        assert attrs["error.type"] == "stream_upstream", model
        assert attrs["tierline.usage.estimated"] is True, model
        assert attrs["tierline.usage.output_tokens"] > 0, model
        assert attrs["tierline.usage.input_tokens"] > 0, model
        assert attrs["tierline.cost.status"] == "estimated", model
        assert attrs["tierline.cost.usd"] > 0, model
    output = {p.attributes["model"]: p.value for p in rx.latest(names.TOKEN_USAGE)
              if p.attributes["type"] == "output"}  # fmt: skip
    assert output == {m: a["tierline.usage.output_tokens"] for m, a in records.items()}
    cost = {p.attributes["model"]: p.value for p in rx.latest(names.COST_USAGE)}
    assert cost == pytest.approx({m: a["tierline.cost.usd"] for m, a in records.items()})


def ev(data: bytes, event: str | None = None) -> SSEEvent:
    return SSEEvent(event, data, b"")


def test_openai_tap_counts_text_it_does_not_parse() -> None:
    tap = OpenAITap()
    chunk = b'{"id":"c","model":"m","choices":[{"index":0,"delta":{"content":"%s"}}]}'
    for text in (b"Hello", b' a \\"quoted\\" word', b"x" * 40):
        tap.feed(ev(chunk % text))
    usage = tap.usage  # no usage chunk: the stream ended early
    assert usage.estimated and usage.output_tokens == -(-(5 + 18 + 40) // 4)
    final = b'{"id":"c","model":"m","choices":[],"usage":{"prompt_tokens":9,"completion_tokens":7}}'
    tap.feed(ev(final))
    assert not tap.usage.estimated and tap.usage.output_tokens == 7


def test_anthropic_tap_estimates_output_when_message_delta_never_came() -> None:
    tap = AnthropicTap()
    start = b'{"type":"message_start","message":{"model":"m","usage":{"input_tokens":30,"output_tokens":1}}}'  # noqa: E501
    text = b'{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"%s"}}'
    tool = b'{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\\"a\\": 1}"}}'  # noqa: E501
    opened = b'{"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"t","name":"f","input":{}}}'  # noqa: E501
    tap.feed(ev(start, "message_start"))
    tap.feed(ev(text % (b"y" * 30), "content_block_delta"))
    tap.feed(ev(opened, "content_block_start"))
    tap.feed(ev(tool, "content_block_delta"))
    usage = tap.usage
    assert (usage.input_tokens, usage.output_tokens, usage.estimated) == (30, 10, True)
    done = b'{"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":12}}'  # noqa: E501
    tap.feed(ev(done, "message_delta"))
    assert (tap.usage.output_tokens, tap.usage.estimated) == (12, False)


def test_whole_bodies_without_usage_are_estimated() -> None:
    oa = OpenAITap()
    oa.json_body({"model": "m", "choices": [{"message": {"content": "z" * 20}}]})
    assert (oa.usage.output_tokens, oa.usage.estimated) == (5, True)
    an = AnthropicTap()
    an.json_body({"model": "m", "content": [{"type": "text", "text": "z" * 8}]})
    assert (an.usage.output_tokens, an.usage.estimated) == (2, True)
