"""``prompt_cache = "auto"``: Anthropic ``cache_control`` breakpoints for clients that set none.

Anthropic caches a prompt prefix only up to a ``cache_control`` breakpoint, so a
client that sets none (any OpenAI SDK client routed to Claude, most Anthropic SDK
scripts) pays full input price on every turn of a long conversation. With
``auto`` each attempt to an anthropic-kind provider gets ephemeral breakpoints,
in Anthropic's prefix order, on:

1. the last tool definition (the tools are the start of the prefix),
2. the last system block (a string system prompt becomes one text block),
3. the last content block of the last user turn (the growing conversation).

At most ``MAX_BREAKPOINTS`` (Anthropic's limit, 4) exist in total, counting any
already present. A body that already carries ``cache_control`` anywhere is left
alone: the client manages its cache (Claude Code does). Applied after
translation, so it serves OpenAI and Responses clients too.

OpenAI-kind providers cache automatically (prefixes of 1024+ tokens), so
``auto`` changes nothing for them.

Pure and idempotent (a retry re-runs it): new dicts and lists, the input is not
changed. No aiohttp.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson

MAX_BREAKPOINTS = 4
EPHEMERAL: Mapping[str, str] = {"type": "ephemeral"}
_NOT_CACHEABLE = frozenset({"thinking", "redacted_thinking"})


def with_breakpoints_bytes(data: bytes) -> bytes:
    """``data`` (an Anthropic Messages request) with breakpoints added, unless it has any."""
    if b'"cache_control"' in data:
        return data
    body = orjson.loads(data)
    if not isinstance(body, dict):
        return data
    out = with_breakpoints(body)
    return data if out is body else orjson.dumps(out)


def with_breakpoints(body: Mapping[str, Any]) -> Mapping[str, Any]:
    """``body`` with ephemeral breakpoints on the last tool, the last system block and the
    last block of the last user turn; ``body`` itself when it already has any or none fit."""
    budget = MAX_BREAKPOINTS - count_breakpoints(body)
    if budget < MAX_BREAKPOINTS:
        return body  # the client manages its own cache
    out = dict(body)
    for key, mark in _MARKERS:
        value = mark(body.get(key)) if budget > 0 else None
        if value is not None:
            out[key] = value
            budget -= 1
    return out if budget < MAX_BREAKPOINTS else body


def count_breakpoints(value: Any) -> int:
    """How many ``cache_control`` keys ``value`` holds, at any depth."""
    if isinstance(value, Mapping):
        own = 1 if "cache_control" in value else 0
        return own + sum(count_breakpoints(v) for v in value.values())
    if isinstance(value, list):
        return sum(count_breakpoints(v) for v in value)
    return 0


def _marked(block: Mapping[str, Any]) -> dict[str, Any] | None:
    """A copy of ``block`` with a breakpoint; None when it cannot carry one."""
    if block.get("type") in _NOT_CACHEABLE:
        return None
    if block.get("type") == "text" and not block.get("text"):
        return None  # Anthropic rejects cache_control on an empty text block
    return {**block, "cache_control": dict(EPHEMERAL)}


def _text(text: str) -> dict[str, Any]:
    return {"type": "text", "text": text, "cache_control": dict(EPHEMERAL)}


def _mark_last(items: Any) -> list[Any] | None:
    """``items`` (a list of blocks) with its last block marked, or None."""
    if not isinstance(items, list) or not items or not isinstance(items[-1], Mapping):
        return None
    last = _marked(items[-1])
    return None if last is None else [*items[:-1], last]


def _mark_tools(tools: Any) -> list[Any] | None:
    return _mark_last(tools)


def _mark_system(system: Any) -> list[Any] | None:
    if isinstance(system, str):
        return [_text(system)] if system else None
    return _mark_last(system)


def _mark_messages(messages: Any) -> list[Any] | None:
    if not isinstance(messages, list):
        return None
    for index in range(len(messages) - 1, -1, -1):
        message = messages[index]
        if not isinstance(message, Mapping) or message.get("role") != "user":
            continue
        content = message.get("content")
        if isinstance(content, str):
            blocks = [_text(content)] if content else None
        else:
            blocks = _mark_last(content)
        if blocks is None:
            return None
        return [*messages[:index], {**message, "content": blocks}, *messages[index + 1 :]]
    return None


_MARKERS = (("tools", _mark_tools), ("system", _mark_system), ("messages", _mark_messages))
