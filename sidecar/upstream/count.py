"""Forward ``/v1/messages/count_tokens`` to an Anthropic-kind provider.

One try with the provider's next usable key, bounded by the connect timeout
plus 30 s. Returns (status, body) for a 200 or a client error the caller
should relay (its message scrubbed of keys, as every upstream message); None
when the provider could not answer (the caller estimates).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

import orjson
from aiohttp import ClientError, ClientSession

from sidecar.config import ModelConfig, ProviderConfig
from sidecar.errors import scrub
from sidecar.protocols.anthropic import thinking_for
from sidecar.upstream.health import Health
from sidecar.upstream.providers import endpoint_url, error_message, upstream_headers

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
    if resp.status == 200:
        return resp.status, raw
    if resp.status in (400, 413, 422):  # the client's mistake: relayed, minus any secret
        return resp.status, _scrubbed(raw, provider.api_keys)
    return None


def _scrubbed(raw: bytes, secrets: tuple[str, ...]) -> bytes:
    """An error body with its message scrubbed (a non-JSON body becomes Anthropic's shape)."""
    message, _ = error_message(raw)
    try:
        obj = orjson.loads(raw)
    except orjson.JSONDecodeError:
        obj = None
    error = obj.get("error") if isinstance(obj, dict) else None
    if isinstance(obj, dict) and isinstance(error, dict):
        return orjson.dumps({**obj, "error": {**error, "message": scrub(message, secrets)}})
    return orjson.dumps(
        {
            "type": "error",
            "error": {"type": "invalid_request_error", "message": scrub(message, secrets)},
        }
    )
