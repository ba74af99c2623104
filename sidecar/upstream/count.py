"""Forward ``/v1/messages/count_tokens`` to an Anthropic-kind provider.

One try with the provider's next usable key, bounded by the connect timeout
plus 30 s. Returns (status, body) for a 200 or a client error the caller
should relay; None when the provider could not answer (the caller estimates).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

import orjson
from aiohttp import ClientError, ClientSession

from sidecar.config import ModelConfig, ProviderConfig
from sidecar.protocols.anthropic import thinking_for
from sidecar.upstream.health import Health
from sidecar.upstream.providers import endpoint_url, upstream_headers

_COUNT_TIMEOUT = 30.0


async def forward_count_tokens(
    session: ClientSession,
    health: Health,
    provider: ProviderConfig,
    model: ModelConfig,
    body: Mapping[str, Any],
    client_headers: Mapping[str, str],
    connect_timeout: float,
    proxy: str | None = None,
) -> tuple[int, bytes] | None:
    keys = health.keys(provider)
    if not keys:
        return None
    fit, _ = thinking_for(body, provider.name)  # no foreign thinking signatures
    out = dict(fit)
    out["model"] = model.upstream
    headers = upstream_headers(provider, keys[0][1], client_headers)
    try:
        async with asyncio.timeout(connect_timeout + _COUNT_TIMEOUT):
            async with session.post(
                endpoint_url(provider, "count_tokens"),
                data=orjson.dumps(out),
                headers=headers,
                proxy=proxy,
            ) as resp:
                raw = await resp.read()
    except (ClientError, TimeoutError):
        return None
    if resp.status == 200 or resp.status in (400, 413, 422):
        return resp.status, raw
    return None
