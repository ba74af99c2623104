"""Anthropic Messages wire helpers: usage, stop reasons, SSE events, thinking.

Pure functions over wire dicts (no I/O). ``strip_thinking`` is what dispatch
uses on the identity path when a conversation's thinking blocks were issued by
another provider: their signatures would be rejected (or leak) elsewhere.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import orjson

from sidecar.exchange import Usage

# OpenAI finish_reason -> Anthropic stop_reason.
STOP_FROM_OPENAI: Mapping[str, str] = {
    "stop": "end_turn",
    "length": "max_tokens",
    "tool_calls": "tool_use",
    "function_call": "tool_use",
    "content_filter": "refusal",
}

THINKING_TYPES = frozenset({"thinking", "redacted_thinking"})
_BAD_ID = re.compile(r"[^A-Za-z0-9_-]")


def tool_id(value: Any) -> str:
    """A tool-call id in Anthropic's alphabet ``[A-Za-z0-9_-]`` (Kimi sends ``functions.Read:0``).

    Deterministic, so a call and its result still match after the rewrite.
    """
    return _BAD_ID.sub("_", str(value or "")) or "toolu_0"


def sse_event(obj: Mapping[str, Any]) -> bytes:
    """One Anthropic SSE frame: ``event: <type>`` plus the JSON data."""
    return b"event: " + str(obj["type"]).encode() + b"\ndata: " + orjson.dumps(obj) + b"\n\n"


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def usage_from_anthropic(usage: Mapping[str, Any] | None) -> Usage:
    """Normalise an Anthropic ``usage`` object (input_tokens already excludes cache)."""
    if not usage:
        return Usage()
    written = _int(usage.get("cache_creation_input_tokens"))
    written_1h = 0
    split = usage.get("cache_creation")
    if isinstance(split, Mapping):
        written_1h = _int(split.get("ephemeral_1h_input_tokens"))
        written = max(written - written_1h, 0)
    return Usage(
        input_tokens=_int(usage.get("input_tokens")),
        output_tokens=_int(usage.get("output_tokens")),
        cache_read_tokens=_int(usage.get("cache_read_input_tokens")),
        cache_write_tokens=written,
        cache_write_1h_tokens=written_1h,
    )


def usage_to_anthropic(usage: Usage) -> dict[str, Any]:
    """An Anthropic ``usage`` object from normalised counts."""
    return {
        "input_tokens": usage.input_tokens,
        "cache_creation_input_tokens": usage.cache_write_tokens + usage.cache_write_1h_tokens,
        "cache_read_input_tokens": usage.cache_read_tokens,
        "output_tokens": usage.output_tokens,
    }


def system_text(system: Any) -> str:
    """The ``system`` parameter (string or text blocks) as one string."""
    if isinstance(system, str):
        return system
    if isinstance(system, list):
        return "\n\n".join(
            str(b.get("text", "")) for b in system if isinstance(b, dict) and b.get("text")
        )
    return ""


def strip_thinking(body: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of an Anthropic request without thinking blocks in its history.

    Used when the blocks' signatures were issued by a different provider than
    the one about to receive the request. ``body`` is not modified.
    """
    out = dict(body)
    messages = []
    for msg in body.get("messages") or []:
        content = msg.get("content") if isinstance(msg, dict) else None
        if isinstance(content, list) and any(
            isinstance(b, dict) and b.get("type") in THINKING_TYPES for b in content
        ):
            kept = [
                b for b in content if not (isinstance(b, dict) and b.get("type") in THINKING_TYPES)
            ]
            msg = {**msg, "content": kept or [{"type": "text", "text": "..."}]}
        messages.append(msg)
    out["messages"] = messages
    return out


def error_message(body: Any) -> str:
    """The human message from an Anthropic-style (or any JSON) error body."""
    if isinstance(body, Mapping):
        err = body.get("error")
        if isinstance(err, Mapping) and err.get("message"):
            return str(err["message"])
        if body.get("message"):
            return str(body["message"])
    if isinstance(body, bytes | str):
        text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
        return text[:500]
    return "upstream error"
