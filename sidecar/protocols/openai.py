"""OpenAI Chat Completions wire helpers: usage, stop reasons, SSE chunks.

Pure functions over wire dicts (no I/O). Used by the translators in both
directions and by the Responses translator, which speaks chat completions to
providers.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson

from sidecar.exchange import Usage

DONE = b"data: [DONE]\n\n"

# A tool result the client marked as failed (Anthropic ``is_error``) is sent as a
# ``tool`` message whose text starts with this marker ("Error" alone when empty);
# the way back reads the marker as ``is_error`` and removes it.
TOOL_ERROR = "Error"
TOOL_ERROR_PREFIX = TOOL_ERROR + ": "


def tool_error_text(text: str) -> str:
    """``text`` of a failed tool result, marked for an OpenAI ``tool`` message."""
    return TOOL_ERROR_PREFIX + text if text else TOOL_ERROR


def split_tool_error(text: str) -> tuple[bool, str]:
    """(whether ``text`` carries the failed-tool marker, ``text`` without it)."""
    if text == TOOL_ERROR:
        return True, ""
    if text.startswith(TOOL_ERROR_PREFIX):
        return True, text[len(TOOL_ERROR_PREFIX) :]
    return False, text


# Anthropic stop_reason -> OpenAI finish_reason.
FINISH_FROM_ANTHROPIC: Mapping[str, str] = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "max_tokens": "length",
    "tool_use": "tool_calls",
    "pause_turn": "stop",
    "refusal": "content_filter",
    "model_context_window_exceeded": "length",
}


def sse_data(obj: Mapping[str, Any]) -> bytes:
    """One ``data:`` SSE frame (OpenAI streams carry no ``event:`` lines)."""
    return b"data: " + orjson.dumps(obj) + b"\n\n"


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def usage_from_openai(usage: Mapping[str, Any] | None) -> Usage:
    """Normalise an OpenAI ``usage`` object (incl. DeepSeek/OpenRouter cache fields).

    ``Usage.input_tokens`` excludes cached reads and cache writes, so nothing is
    counted twice when the parts are added up again.
    """
    if not usage:
        return Usage()
    prompt = _int(usage.get("prompt_tokens"))
    details = usage.get("prompt_tokens_details") or {}
    cached = _int(details.get("cached_tokens")) or _int(usage.get("prompt_cache_hit_tokens"))
    written = _int(details.get("cache_write_tokens")) or _int(
        usage.get("cache_creation_input_tokens")
    )
    out_details = usage.get("completion_tokens_details") or {}
    return Usage(
        input_tokens=max(prompt - cached - written, 0),
        output_tokens=_int(usage.get("completion_tokens")),
        cache_read_tokens=cached,
        cache_write_tokens=written,
        reasoning_tokens=_int(out_details.get("reasoning_tokens")),
    )


def usage_to_openai(usage: Usage) -> dict[str, Any]:
    """An OpenAI ``usage`` object: ``prompt_tokens`` includes cached and written tokens."""
    prompt = usage.prompt_tokens
    details: dict[str, Any] = {"cached_tokens": usage.cache_read_tokens}
    written = usage.cache_write_tokens + usage.cache_write_1h_tokens
    if written:
        details["cache_write_tokens"] = written
    out: dict[str, Any] = {
        "prompt_tokens": prompt,
        "completion_tokens": usage.output_tokens,
        "total_tokens": prompt + usage.output_tokens,
        "prompt_tokens_details": details,
    }
    if usage.reasoning_tokens:
        out["completion_tokens_details"] = {"reasoning_tokens": usage.reasoning_tokens}
    return out


def chunk(
    cid: str,
    model: str,
    created: int,
    delta: Mapping[str, Any] | None,
    finish: str | None = None,
    usage: Mapping[str, Any] | None = None,
    with_usage_field: bool = False,
) -> dict[str, Any]:
    """A ``chat.completion.chunk``; ``delta=None`` gives the usage-only chunk (no choices)."""
    out: dict[str, Any] = {
        "id": cid,
        "object": "chat.completion.chunk",
        "created": created,
        "model": model,
        "choices": []
        if delta is None
        else [{"index": 0, "delta": dict(delta), "logprobs": None, "finish_reason": finish}],
    }
    if usage is not None or with_usage_field:
        out["usage"] = dict(usage) if usage is not None else None
    return out


def content_text(content: Any) -> str:
    """The text of a chat ``content`` (string or list of parts); non-text parts ignored."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(
            str(p.get("text", ""))
            for p in content
            if isinstance(p, dict) and p.get("type") in ("text", "input_text", "output_text")
        )
    return ""


def reasoning_text(obj: Mapping[str, Any]) -> str:
    """Reasoning carried by a message or delta: ``reasoning_content`` (DeepSeek, vLLM)
    or ``reasoning`` (OpenRouter, as a string)."""
    for key in ("reasoning_content", "reasoning"):
        value = obj.get(key)
        if isinstance(value, str) and value:
            return value
    return ""


def error_message(body: Any) -> str:
    """The human message from an OpenAI-style (or any JSON) error body."""
    if isinstance(body, Mapping):
        err = body.get("error")
        if isinstance(err, Mapping) and err.get("message"):
            return str(err["message"])
        if isinstance(err, str):
            return err
        if body.get("message"):
            return str(body["message"])
        if body.get("detail"):
            return str(body["detail"])
    if isinstance(body, bytes | str):
        text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
        return text[:500]
    return "upstream error"
