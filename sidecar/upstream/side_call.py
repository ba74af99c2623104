"""Side calls to a provider outside a client request: the LLM classifier's ``Ask``.

``http_ask`` implements the routing core's seam ``Ask = async (model, prompt,
max_tokens) -> text`` with the dispatcher's pieces: the provider adapter's
endpoint URL and auth headers, the app's key pool (``Health``: rotation, a
401/403 or 429 rests the key and the next one is tried) and the per-provider
outbound proxy resolved at startup. Any other failure raises (the classifier
keeps the heuristic answer). The routing core never imports this module.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import orjson

from sidecar.config import ModelConfig, ProviderConfig
from sidecar.routing.llm_classifier import Ask
from sidecar.upstream.health import Health
from sidecar.upstream.providers import classify_status, endpoint_url, upstream_headers


class SideCallFailed(Exception):
    """A side call got no answer (the message is scrubbed of keys)."""


def _body(provider: ProviderConfig, model: ModelConfig, prompt: str, max_tokens: int) -> bytes:
    messages = [{"role": "user", "content": prompt}]
    if provider.kind == "anthropic":
        body: dict[str, Any] = {"model": model.upstream, "max_tokens": max_tokens}
    else:
        body = {"model": model.upstream, model.token_param: max_tokens}
    body["messages"] = messages
    return orjson.dumps(body)


def _text(kind: str, data: Any) -> str:
    if kind == "anthropic":
        return "".join(b.get("text", "") for b in data.get("content", []) if isinstance(b, dict))
    return str(data["choices"][0]["message"].get("content") or "")


def http_ask(
    get_session: Callable[[], Any],
    providers: Mapping[str, ProviderConfig],
    health: Health | None = None,
    proxies: Mapping[str, str | None] | None = None,
) -> Ask:
    """An ``Ask`` over the app's ClientSession (looked up at call time).

    ``health``: the app's key pool (a private one when None); ``proxies``:
    provider name -> proxy URL (``providers.proxy_for``), none when None.
    """
    pool = health or Health(cooldown_seconds=30.0, key_cooldown_seconds=60.0)
    routes = proxies or {}

    async def ask(model: ModelConfig, prompt: str, max_tokens: int) -> str:
        session = get_session()
        if session is None:
            raise SideCallFailed("no upstream session")
        provider = providers[model.provider]
        endpoint = "messages" if provider.kind == "anthropic" else "chat"
        url = endpoint_url(provider, endpoint)
        data = _body(provider, model, prompt, max_tokens)
        message = "every key is cooling down"
        for index, key in pool.keys(provider, model.upstream):
            headers = upstream_headers(provider, key, {})
            async with session.post(
                url, data=data, headers=headers, proxy=routes.get(provider.name)
            ) as resp:
                raw = await resp.read()
                if resp.status == 200:
                    return _text(provider.kind, orjson.loads(raw))
                failure = classify_status(resp.status, raw, resp.headers, provider.api_keys)
            message = f"{resp.status} {failure.reason}: {failure.message}"
            if failure.reason == "auth":
                pool.cool_key(provider.name, index)
            elif failure.reason == "rate_limited":
                pool.cool_key(provider.name, index, failure.retry_after, model.upstream)
            else:
                break
        raise SideCallFailed(message)

    return ask
