"""Provider adapters: where to send, how to authenticate, how to read a failure.

Everything here is a pure function of configuration and the data at hand, so a
retry can re-run it (idempotent). Adapters never decide fallback: they only
classify a failure (``Failure.reason`` / ``retryable``); dispatch decides.

Trust: the client's own credentials (``authorization``, ``x-api-key``) are never
copied to a provider; only the configured key for the attempt is sent.
"""

from __future__ import annotations

import asyncio
import email.utils
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import orjson

from sidecar.config import ModelConfig, ProviderConfig
from sidecar.errors import scrub

ANTHROPIC_VERSION = "2023-06-01"
RETRYABLE_STATUS = frozenset({408, 409, 500, 502, 503, 504, 529})
_CONTEXT_PHRASES = (
    "context_length_exceeded",
    "maximum context length",
    "context length exceeded",
    "prompt is too long",
    "exceed context limit",
    "exceeds the context window",
    "context window exceeded",
    "too many tokens",
    "reduce the length of the messages",
)
_PATHS = {
    "chat": "/chat/completions",
    "messages": "/messages",
    "count_tokens": "/messages/count_tokens",
}


@dataclass(frozen=True)
class Failure:
    """A classified upstream failure. ``reason`` uses the ``Attempt.reason`` vocabulary."""

    reason: str
    retryable: bool
    message: str
    status: int | None = None
    retry_after: float | None = None
    body: bytes = field(default=b"", repr=False)  # the provider's error body, for passthrough


def endpoint_url(provider: ProviderConfig, endpoint: str) -> str:
    """Full URL for ``endpoint`` (chat | messages | count_tokens) at ``provider``.

    OpenAI-kind base URLs include their version path (``.../v1``); Anthropic-kind
    ones may or may not (``https://api.anthropic.com`` or ``.../v1``).
    """
    base = provider.base_url.rstrip("/")
    if provider.kind == "anthropic" and not base.endswith("/v1"):
        base += "/v1"
    return base + _PATHS[endpoint]


def proxy_for(url: str, env: Mapping[str, str]) -> str | None:
    """The proxy for ``url`` from ``HTTPS_PROXY``/``HTTP_PROXY``/``ALL_PROXY`` and ``NO_PROXY``.

    Resolved once per provider at startup (aiohttp's ``trust_env`` would look
    the environment and ~/.netrc up in a thread on every request).
    """
    proxies = {k.lower(): v for k, v in env.items() if k.lower().endswith("_proxy") and v}
    parts = urlsplit(url)
    proxy = proxies.get(f"{parts.scheme}_proxy") or proxies.get("all_proxy")
    if not proxy:
        return None
    host = (parts.hostname or "").lower()
    for entry in proxies.get("no_proxy", "").split(","):
        entry = entry.strip().lower().split(":")[0].lstrip(".")
        if entry == "*" or (entry and (host == entry or host.endswith("." + entry))):
            return None
    return proxy


def upstream_headers(
    provider: ProviderConfig, key: str | None, client_headers: Mapping[str, str]
) -> dict[str, str]:
    """Headers for one attempt: content type, the attempt's key, passthroughs, extras."""
    headers = {"Content-Type": "application/json"}
    if provider.kind == "anthropic":
        headers["anthropic-version"] = client_headers.get("anthropic-version", ANTHROPIC_VERSION)
        beta = client_headers.get("anthropic-beta")
        if beta:
            headers["anthropic-beta"] = beta
        if key:
            headers["x-api-key"] = key
    elif key:
        headers["Authorization"] = "Bearer " + key
    headers.update(provider.headers)
    return headers


def merge_extra(body: dict[str, Any], extra: Mapping[str, Any]) -> None:
    """Merge configured ``extra_body`` into ``body`` in place; configured leaves win."""
    for key, value in extra.items():
        current = body.get(key)
        if isinstance(value, Mapping) and isinstance(current, dict):
            merged = dict(current)
            merge_extra(merged, value)
            body[key] = merged
        else:
            body[key] = value


def identity_body(
    body: Mapping[str, Any], model: ModelConfig, kind: str, stream: bool
) -> tuple[bytes, bool]:
    """Same-protocol request bytes and whether the client itself asked for stream usage.

    Only the model field changes, configured extras are merged, and OpenAI streams
    get ``stream_options.include_usage`` so the tap sees usage.
    """
    out = dict(body)
    out["model"] = model.upstream
    if model.extra_body:
        merge_extra(out, model.extra_body)
    client_usage = True
    if stream and kind == "openai":
        options = out.get("stream_options")
        options = dict(options) if isinstance(options, dict) else {}
        client_usage = options.get("include_usage") is True
        options["include_usage"] = True
        out["stream_options"] = options
    return orjson.dumps(out), client_usage


def parse_retry_after(headers: Mapping[str, str], now: float | None = None) -> float | None:
    """Seconds to wait from ``retry-after-ms`` / ``Retry-After`` (seconds or HTTP date)."""
    ms = headers.get("retry-after-ms")
    if ms:
        try:
            return max(float(ms) / 1000.0, 0.0)
        except ValueError:
            pass
    value = headers.get("Retry-After") or headers.get("retry-after")
    if not value:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError):
        return None
    return max(when - (now if now is not None else time.time()), 0.0)


def error_message(body: bytes) -> tuple[str, str]:
    """(message, text to match) from a provider error body in any known shape."""
    text = body[:4000].decode("utf-8", "replace")
    try:
        obj = orjson.loads(body)
    except orjson.JSONDecodeError:
        return text.strip()[:300] or "(empty body)", text.lower()
    err = obj.get("error") if isinstance(obj, dict) else None
    if isinstance(err, dict):
        message = str(err.get("message") or err.get("type") or text)
        extra = orjson.dumps(err.get("metadata") or {}).decode() + str(err.get("code") or "")
        return message, (message + " " + extra).lower()
    if isinstance(err, str):
        return err, err.lower()
    return text.strip()[:300], text.lower()


def is_context_length(text: str) -> bool:
    """True when an error text (lower-case) says the prompt does not fit the window."""
    return any(phrase in text for phrase in _CONTEXT_PHRASES)


def classify_status(
    status: int, body: bytes, headers: Mapping[str, str], secrets: tuple[str, ...] = ()
) -> Failure:
    """Classify a non-200 upstream response."""
    message, match = error_message(body)
    message = scrub(message, secrets)
    if status == 429:
        return Failure("rate_limited", True, message, status, parse_retry_after(headers))
    if status in RETRYABLE_STATUS:
        return Failure("server_error", True, message, status, parse_retry_after(headers))
    if status in (400, 413, 422) and is_context_length(match):
        return Failure("context_length", False, message, status)
    if status in (401, 403):
        return Failure("auth", False, message, status)
    if status == 404:
        return Failure("not_found", False, message, status)
    if status >= 500:
        return Failure("server_error", True, message, status)
    return Failure("bad_request", False, message, status, body=scrub_body(body, secrets))


def scrub_body(body: bytes, secrets: tuple[str, ...] = ()) -> bytes:
    """A provider's error body with every string scrubbed (``errors.scrub``), its JSON
    shape kept; a body that is not JSON becomes its scrubbed text."""
    try:
        obj = orjson.loads(body)
    except orjson.JSONDecodeError:
        return scrub(body.decode("utf-8", "replace"), secrets).encode()
    return orjson.dumps(_scrub_value(obj, secrets))


def _scrub_value(value: Any, secrets: tuple[str, ...]) -> Any:
    if isinstance(value, str):
        return scrub(value, secrets)
    if isinstance(value, dict):
        return {k: _scrub_value(v, secrets) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrub_value(v, secrets) for v in value]
    return value


def classify_event_error(error: Mapping[str, Any], secrets: tuple[str, ...] = ()) -> Failure:
    """Classify an error event that arrived inside a 200 stream before any content."""
    kind = str(error.get("type") or error.get("code") or "")
    message = scrub(str(error.get("message") or kind or "stream error"), secrets)
    if is_context_length((message + " " + kind).lower()):
        return Failure("context_length", False, message)
    if "rate_limit" in kind:
        return Failure("rate_limited", True, message)
    if kind in ("invalid_request_error",):
        return Failure("bad_request", False, message)
    return Failure("server_error", True, message)


def classify_exception(exc: BaseException, phase: str) -> Failure:
    """Classify a transport error; ``phase`` is connect | first_byte | stall."""
    if isinstance(exc, asyncio.TimeoutError | TimeoutError):
        return Failure("timeout", True, f"{phase} timeout")
    name = type(exc).__name__
    return Failure("connection", True, scrub(f"{name}: {exc}")[:200])


def not_a_stream(raw: bytes, secrets: tuple[str, ...]) -> Failure:
    """A JSON body where an event stream was asked for: its error, else a retryable failure."""
    try:
        obj = orjson.loads(raw)
    except orjson.JSONDecodeError:
        obj = None
    error = obj.get("error") if isinstance(obj, dict) else None
    if error:
        return classify_event_error(
            error if isinstance(error, dict) else {"message": str(error)}, secrets
        )
    return Failure("server_error", True, "the provider answered a stream request with JSON", 200)
