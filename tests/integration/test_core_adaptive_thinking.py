"""``thinking: {type: "adaptive"}`` (Claude Code's default) to an Anthropic-kind model:
kept for a model with thinking, dropped for one without (it is no fit requirement,
so such a model is a candidate and must not get a field it would refuse)."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp import ClientSession

from tests.conftest import fake_requests

MODELS = {
    "claude-good": {"provider": "an", "upstream": "fake-claude"},
    "claude-think": {"provider": "an", "upstream": "fake-claude", "thinking": True},
}


@pytest.mark.parametrize(("model", "kept"), [("claude-good", False), ("claude-think", True)])
async def test_adaptive_thinking_by_model(tierline: Any, fake: Any, model: str, kept: bool) -> None:
    server = await tierline(models=MODELS)
    body = {
        "model": model,
        "max_tokens": 50,
        "thinking": {"type": "adaptive"},
        "messages": [{"role": "user", "content": "hello"}],
    }
    async with ClientSession() as session:
        async with session.post(server.make_url("/v1/messages"), json=body) as resp:
            assert resp.status == 200, await resp.text()
    sent = (await fake_requests(fake))[-1]["body"]
    assert sent["model"] == "fake-claude"
    assert ("thinking" in sent) is kept
