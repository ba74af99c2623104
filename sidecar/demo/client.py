"""Send one demo request through tierline and read back what happened.

Parses both wire protocols, streamed (SSE) or not, into a ``Result``: the
assistant's reply as the harness would append it to its history, token usage,
latency, and every ``x-tierline-*`` response header (so later sections such as
the routing decision show up without changing this module).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import orjson
from aiohttp import ClientSession


@dataclass(frozen=True)
class Result:
    """One response. ``tool_calls`` are (id, name, arguments JSON)."""

    status: int
    latency_ms: float
    model: str = ""
    text: str = ""
    tool_calls: tuple[tuple[str, str, str], ...] = ()
    usage: Mapping[str, int] = field(default_factory=dict)  # input/output/cache_read/cache_write
    tierline: Mapping[str, str] = field(default_factory=dict)  # x-tierline-* headers, lower-case
    error: str = ""


async def send(
    http: ClientSession, url: str, headers: Mapping[str, str], body: Mapping[str, Any]
) -> Result:
    """POST ``body``; the protocol is read off the URL (``/v1/messages`` is Anthropic)."""
    anthropic = "/v1/messages" in url
    started = time.perf_counter()
    async with http.post(url, data=orjson.dumps(body), headers=dict(headers)) as response:
        raw = await response.read()
        latency = (time.perf_counter() - started) * 1000
        tierline = {
            k.lower(): v for k, v in response.headers.items() if k.lower().startswith("x-tierline-")
        }
        status = response.status
        is_sse = response.content_type == "text/event-stream"
    base = Result(status=status, latency_ms=latency, tierline=tierline)
    if status >= 400:
        return _failed(base, raw)
    if is_sse:
        return _anthropic_sse(base, raw) if anthropic else _openai_sse(base, raw)
    data = orjson.loads(raw)
    return _anthropic_json(base, data) if anthropic else _openai_json(base, data)


def _failed(base: Result, raw: bytes) -> Result:
    try:
        error = orjson.loads(raw).get("error") or {}
        message = str(error.get("message", "")) if isinstance(error, dict) else str(error)
    except (orjson.JSONDecodeError, AttributeError):
        message = raw[:200].decode(errors="replace")
    return replace(base, error=message)


def _events(raw: bytes) -> list[dict[str, Any]]:
    """The JSON ``data:`` payloads of an SSE body (``[DONE]`` dropped)."""
    out = []
    for line in raw.splitlines():
        if line.startswith(b"data:"):
            payload = line[5:].strip()
            if payload and payload != b"[DONE]":
                out.append(orjson.loads(payload))
    return out


def _anthropic_usage(usage: Mapping[str, Any]) -> dict[str, int]:
    return {
        "input": int(usage.get("input_tokens") or 0),
        "output": int(usage.get("output_tokens") or 0),
        "cache_read": int(usage.get("cache_read_input_tokens") or 0),
        "cache_write": int(usage.get("cache_creation_input_tokens") or 0),
    }


def _openai_usage(usage: Mapping[str, Any] | None) -> dict[str, int]:
    if not usage:
        return {}
    cached = int((usage.get("prompt_tokens_details") or {}).get("cached_tokens") or 0)
    return {
        "input": int(usage.get("prompt_tokens") or 0) - cached,
        "output": int(usage.get("completion_tokens") or 0),
        "cache_read": cached,
        "cache_write": 0,
    }


def _anthropic_json(base: Result, data: Mapping[str, Any]) -> Result:
    text = "".join(b.get("text", "") for b in data.get("content", []) if b.get("type") == "text")
    calls = tuple(
        (b["id"], b["name"], orjson.dumps(b.get("input", {})).decode())
        for b in data.get("content", [])
        if b.get("type") == "tool_use"
    )
    usage = _anthropic_usage(data.get("usage") or {})
    model = str(data.get("model", ""))
    return replace(base, model=model, text=text, tool_calls=calls, usage=usage)


def _anthropic_sse(base: Result, raw: bytes) -> Result:
    model, text, error = "", "", ""
    usage: dict[str, int] = {}
    blocks: dict[int, list[str]] = {}
    for event in _events(raw):
        kind = event.get("type")
        if kind == "message_start":
            model = event["message"].get("model", "")
            usage = _anthropic_usage(event["message"].get("usage") or {})
        elif kind == "content_block_start" and event["content_block"]["type"] == "tool_use":
            block = event["content_block"]
            blocks[event["index"]] = [block["id"], block["name"], ""]
        elif kind == "content_block_delta":
            delta = event["delta"]
            if delta.get("type") == "text_delta":
                text += delta["text"]
            elif delta.get("type") == "input_json_delta":
                blocks[event["index"]][2] += delta["partial_json"]
        elif kind == "message_delta":
            usage = {
                **usage,
                **{k: v for k, v in _anthropic_usage(event.get("usage") or {}).items() if v},
            }
        elif kind == "error":
            error = str(event.get("error", {}).get("message", "stream error"))
    calls = tuple((b[0], b[1], b[2] or "{}") for _, b in sorted(blocks.items()))
    return replace(base, model=model, text=text, tool_calls=calls, usage=usage, error=error)


def _openai_json(base: Result, data: Mapping[str, Any]) -> Result:
    message = (data.get("choices") or [{}])[0].get("message") or {}
    calls = tuple(
        (c["id"], c["function"]["name"], c["function"]["arguments"])
        for c in message.get("tool_calls") or []
    )
    return replace(
        base,
        model=str(data.get("model", "")),
        text=str(message.get("content") or ""),
        tool_calls=calls,
        usage=_openai_usage(data.get("usage")),
    )


def _openai_sse(base: Result, raw: bytes) -> Result:
    model, text, error = "", "", ""
    usage: dict[str, int] = {}
    calls: dict[int, list[str]] = {}
    for chunk in _events(raw):
        if "error" in chunk:
            error = str((chunk["error"] or {}).get("message", "stream error"))
            continue
        model = chunk.get("model") or model
        usage = _openai_usage(chunk.get("usage")) or usage
        for choice in chunk.get("choices") or []:
            delta = choice.get("delta") or {}
            text += delta.get("content") or ""
            for call in delta.get("tool_calls") or []:
                entry = calls.setdefault(call.get("index", 0), ["", "", ""])
                entry[0] = call.get("id") or entry[0]
                function = call.get("function") or {}
                entry[1] += function.get("name") or ""
                entry[2] += function.get("arguments") or ""
    tool_calls = tuple((c[0], c[1], c[2]) for _, c in sorted(calls.items()))
    return replace(base, model=model, text=text, tool_calls=tool_calls, usage=usage, error=error)
