"""A provider failing mid-stream, seen by a Responses client: the stream ends with
``response.failed`` continuing the stream's own ``sequence_number``s (Codex and the
OpenAI SDK expect them consecutive), for both provider kinds."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aiohttp import ClientSession

from sidecar.protocols.sse import SSEDecoder

MODELS = {
    # The text in 12 chunks; the connection drops after 6 events (after the first content).
    "gpt-cut": {"provider": "oa", "upstream": "fake-gpt-chunks-12-disconnect-6"},
    "claude-cut": {"provider": "an", "upstream": "fake-claude-chunks-12-disconnect-6"},
}


@pytest.mark.parametrize("model", ["gpt-cut", "claude-cut"])
async def test_mid_stream_failure_continues_the_sequence_numbers(tierline: Any, model: str) -> None:
    server = await tierline(models=MODELS)
    body = {"model": model, "input": "hi", "stream": True, "store": False}
    async with ClientSession() as http:
        async with http.post(server.make_url("/v1/responses"), json=body) as resp:
            assert resp.status == 200
            raw = await resp.read()
    events = [json.loads(e.data) for e in SSEDecoder().feed(raw)]
    kinds = [e["type"] for e in events]
    assert "response.output_text.delta" in kinds, kinds
    assert kinds[-1] == "response.failed"
    assert [e["sequence_number"] for e in events] == list(range(len(events)))
    assert "mid-stream" in events[-1]["response"]["error"]["message"]
