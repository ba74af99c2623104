"""Anthropic Messages wire helpers: usage, stop reasons, SSE events, thinking.

Pure functions over wire dicts (no I/O). Thinking signatures are tagged with
the provider that issued them on the way to the client (``tag_block``) and
checked on the way back (``thinking_for``): a signature only ever returns to its
issuer; another provider would reject it (or learn from it).
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


SIGNATURE_TAG = "tierline:"  # tierline:<provider>:<the provider's own signature>


def tag_signature(value: str, provider: str) -> str:
    """A thinking signature (or redacted data) marked with the provider that issued it.

    The client stores it verbatim and sends it back; ``thinking_for`` reads the mark,
    so no session state is needed to know who issued which block.
    """
    return f"{SIGNATURE_TAG}{provider}:{value}" if value else value


def tag_block(block: Mapping[str, Any], provider: str) -> Mapping[str, Any]:
    """``block`` with its signature tagged (thinking, redacted_thinking); others as is."""
    key = {"thinking": "signature", "redacted_thinking": "data"}.get(str(block.get("type")))
    value = block.get(key) if key else None
    if not isinstance(value, str) or not value or value.startswith(SIGNATURE_TAG):
        return block
    return {**block, str(key): tag_signature(value, provider)}


def _restore(block: Mapping[str, Any], provider: str) -> Mapping[str, Any] | None:
    """The block to send to ``provider`` (original signature), or None to drop it."""
    key = "signature" if block.get("type") == "thinking" else "data"
    value = block.get(key)
    if not isinstance(value, str) or not value:
        return None  # unsigned: produced by translating another provider's reasoning
    if not value.startswith(SIGNATURE_TAG):
        return block  # not seen by tierline when issued: leave it to the provider
    issuer, _, original = value[len(SIGNATURE_TAG) :].partition(":")
    return {**block, key: original} if issuer == provider and original else None


def thinking_for(body: Mapping[str, Any], provider: str) -> tuple[Mapping[str, Any], bool]:
    """``body`` with thinking blocks fit for ``provider``: its own signatures restored,
    unsigned blocks and blocks issued by another provider removed; and whether any
    block was removed. ``body`` is not modified (a changed copy is returned)."""
    messages = body.get("messages")
    if not isinstance(messages, list):
        return body, False
    changed = dropped = False
    out: list[Any] = []
    for msg in messages:
        content = msg.get("content") if isinstance(msg, Mapping) else None
        if not isinstance(content, list) or not any(
            isinstance(b, Mapping) and b.get("type") in THINKING_TYPES for b in content
        ):
            out.append(msg)
            continue
        kept: list[Any] = []
        for block in content:
            if isinstance(block, Mapping) and block.get("type") in THINKING_TYPES:
                fit = _restore(block, provider)
                dropped = dropped or fit is None
                changed = changed or fit is not block
                if fit is not None:
                    kept.append(fit)
            else:
                kept.append(block)
        out.append({**msg, "content": kept or [{"type": "text", "text": "..."}]})
    if not changed:
        return body, False
    return {**body, "messages": out}, dropped


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
