"""Wire shapes of the fake provider: bodies, SSE events, error bodies (pure, no I/O).

Everything here is deterministic: token counts are ``ceil(chars / 4)`` of the
compact JSON of the parts of the request that count as prompt, ids come from a
counter the caller passes in. OpenAI shapes follow Chat Completions; Anthropic
shapes follow the Messages API (including the streaming event sequence).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

CREATED = 1_700_000_000  # fixed "created" timestamp: responses are reproducible


@dataclass(frozen=True)
class Reply:
    """What the fake model says: text and/or tool calls (name, arguments JSON)."""

    text: str = ""
    tool_calls: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Tokens:
    """Prompt accounting. ``input`` excludes ``cache_read`` and ``cache_write``."""

    input: int
    output: int
    cache_read: int = 0
    cache_write: int = 0

    @property
    def prompt(self) -> int:
        return self.input + self.cache_read + self.cache_write


def count(value: Any) -> int:
    """Tokens of a JSON value: ceil(len(compact JSON or text) / 4)."""
    text = value if isinstance(value, str) else orjson.dumps(value).decode()
    return (len(text) + 3) // 4


def _prefix_parts(protocol: str, body: Mapping[str, Any]) -> list[tuple[Any, bool]]:
    """The prompt as ordered (part, is_cache_breakpoint) in the provider's prefix order."""
    parts: list[tuple[Any, bool]] = []
    for tool in body.get("tools") or []:
        parts.append((tool, protocol == "anthropic" and _has_cc(tool)))
    system = body.get("system")
    if isinstance(system, str):
        parts.append((system, False))
    elif isinstance(system, list):
        parts.extend((block, _has_cc(block)) for block in system)
    for message in body.get("messages") or []:
        content = message.get("content") if isinstance(message, dict) else None
        if protocol == "anthropic" and isinstance(content, list):
            parts.append((message.get("role"), False))
            parts.extend((block, _has_cc(block)) for block in content)
        else:
            parts.append((message, False))
    return parts


def _has_cc(block: Any) -> bool:
    return isinstance(block, dict) and "cache_control" in block


def prompt_tokens(protocol: str, body: Mapping[str, Any]) -> int:
    """Total prompt tokens of a request (what count_tokens answers)."""
    return max(1, sum(count(part) for part, _ in _prefix_parts(protocol, body)))


def cache_prefixes(protocol: str, body: Mapping[str, Any]) -> list[tuple[bytes, int]]:
    """Cacheable prefixes as (hash, tokens), shortest first.

    Anthropic: one per ``cache_control`` breakpoint. OpenAI (automatic caching):
    every message boundary.
    """
    digest = hashlib.sha1(protocol.encode())
    tokens = 0
    out: list[tuple[bytes, int]] = []
    for part, breakpoint_ in _prefix_parts(protocol, body):
        digest.update(orjson.dumps(part))
        tokens += count(part)
        if breakpoint_ or protocol == "openai":
            out.append((digest.copy().digest(), tokens))
    return out


def reply_tokens(reply: Reply) -> int:
    return max(1, count(reply.text) + sum(count(a) + count(n) for n, a in reply.tool_calls))


def split_text(text: str, chunks: int | None) -> list[str]:
    """Stream pieces: ``chunks`` equal-ish pieces, or one piece per word."""
    if chunks:
        size = max(1, -(-len(text) // chunks))
        pieces = [text[i : i + size] for i in range(0, len(text), size)]
        return pieces + [""] * (chunks - len(pieces)) if len(pieces) < chunks else pieces
    words = text.split(" ")
    return [w + " " for w in words[:-1]] + [words[-1]] if text else []


def split_json(arguments: str) -> list[str]:
    """Argument fragments as providers stream them (three pieces)."""
    if len(arguments) < 3:
        return [arguments]
    third = len(arguments) // 3
    return [arguments[:third], arguments[third : 2 * third], arguments[2 * third :]]


def dumps(value: Any) -> bytes:
    return orjson.dumps(value)


# --- OpenAI Chat Completions -------------------------------------------------------------


def openai_usage(tokens: Tokens) -> dict[str, Any]:
    return {
        "prompt_tokens": tokens.prompt,
        "completion_tokens": tokens.output,
        "total_tokens": tokens.prompt + tokens.output,
        "prompt_tokens_details": {"cached_tokens": tokens.cache_read, "audio_tokens": 0},
        "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0},
    }


def openai_tool_calls(reply: Reply, rid: str) -> list[dict[str, Any]]:
    return [
        {"id": f"call_{rid}_{i}", "type": "function", "function": {"name": n, "arguments": a}}
        for i, (n, a) in enumerate(reply.tool_calls)
    ]


def openai_body(model: str, rid: str, reply: Reply, tokens: Tokens) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": reply.text or None}
    message["refusal"] = None
    if reply.tool_calls:
        message["tool_calls"] = openai_tool_calls(reply, rid)
    return {
        "id": f"chatcmpl-{rid}",
        "object": "chat.completion",
        "created": CREATED,
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": message,
                "logprobs": None,
                "finish_reason": "tool_calls" if reply.tool_calls else "stop",
            }
        ],
        "usage": openai_usage(tokens),
        "system_fingerprint": "fp_fake",
    }


def openai_events(
    model: str, rid: str, reply: Reply, tokens: Tokens, *, include_usage: bool, chunks: int | None
) -> list[bytes]:
    """The ``data:`` events of a streamed completion, ``[DONE]`` last."""
    base = {"id": f"chatcmpl-{rid}", "object": "chat.completion.chunk", "created": CREATED}
    base |= {"model": model, "system_fingerprint": "fp_fake"}
    extra: dict[str, Any] = {"usage": None} if include_usage else {}

    def chunk(delta: dict[str, Any], finish: str | None = None) -> bytes:
        choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
        return b"data: " + dumps(base | {"choices": [choice]} | extra) + b"\n\n"

    events = [chunk({"role": "assistant", "content": "", "refusal": None})]
    events += [chunk({"content": piece}) for piece in split_text(reply.text, chunks)]
    for i, call in enumerate(openai_tool_calls(reply, rid)):
        fn = call["function"]
        head = {"index": i, "id": call["id"], "type": "function"}
        events.append(
            chunk({"tool_calls": [head | {"function": {"name": fn["name"], "arguments": ""}}]})
        )
        for piece in split_json(fn["arguments"]):
            events.append(chunk({"tool_calls": [{"index": i, "function": {"arguments": piece}}]}))
    events.append(chunk({}, "tool_calls" if reply.tool_calls else "stop"))
    if include_usage:
        final = base | {"choices": [], "usage": openai_usage(tokens)}
        events.append(b"data: " + dumps(final) + b"\n\n")
    events.append(b"data: [DONE]\n\n")
    return events


_OPENAI_ERRORS: dict[str, tuple[str, str | None]] = {
    "ratelimit": ("requests", "rate_limit_exceeded"),
    "server": ("server_error", None),
    "overloaded": ("server_error", "overloaded"),
    "context": ("invalid_request_error", "context_length_exceeded"),
    "auth": ("invalid_request_error", "invalid_api_key"),
    "forbidden": ("invalid_request_error", "unsupported_country_region_territory"),
    "notfound": ("invalid_request_error", "model_not_found"),
    "badrequest": ("invalid_request_error", None),
}


def openai_error(kind: str, message: str) -> dict[str, Any]:
    etype, code = _OPENAI_ERRORS.get(kind, ("server_error", None))
    param = "messages" if kind == "context" else None
    return {"error": {"message": message, "type": etype, "param": param, "code": code}}


# --- Anthropic Messages ------------------------------------------------------------------


def anthropic_usage(tokens: Tokens, *, output: int | None = None) -> dict[str, Any]:
    return {
        "input_tokens": tokens.input,
        "cache_creation_input_tokens": tokens.cache_write,
        "cache_read_input_tokens": tokens.cache_read,
        "output_tokens": tokens.output if output is None else output,
    }


def anthropic_content(reply: Reply, rid: str) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = []
    if reply.text or not reply.tool_calls:
        blocks.append({"type": "text", "text": reply.text})
    for i, (name, arguments) in enumerate(reply.tool_calls):
        tool_input = orjson.loads(arguments) if arguments else {}
        blocks.append(
            {"type": "tool_use", "id": f"toolu_{rid}_{i}", "name": name, "input": tool_input}
        )
    return blocks


def anthropic_body(model: str, rid: str, reply: Reply, tokens: Tokens) -> dict[str, Any]:
    return {
        "id": f"msg_{rid}",
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": anthropic_content(reply, rid),
        "stop_reason": "tool_use" if reply.tool_calls else "end_turn",
        "stop_sequence": None,
        "usage": anthropic_usage(tokens),
    }


def sse(event: str, data: Mapping[str, Any]) -> bytes:
    return b"event: " + event.encode() + b"\ndata: " + dumps(data) + b"\n\n"


def _anthropic_block_events(reply: Reply, rid: str, chunks: int | None) -> Iterator[bytes]:
    for index, block in enumerate(anthropic_content(reply, rid)):
        if block["type"] == "text":
            start: dict[str, Any] = {"type": "text", "text": ""}
            deltas = [{"type": "text_delta", "text": p} for p in split_text(block["text"], chunks)]
        else:
            start = block | {"input": {}}
            arguments = reply.tool_calls[index - (1 if reply.text else 0)][1]
            deltas = [
                {"type": "input_json_delta", "partial_json": p} for p in split_json(arguments)
            ]
        yield sse(
            "content_block_start",
            {"type": "content_block_start", "index": index, "content_block": start},
        )
        if index == 0:
            yield sse("ping", {"type": "ping"})
        for delta in deltas:
            yield sse(
                "content_block_delta",
                {"type": "content_block_delta", "index": index, "delta": delta},
            )
        yield sse("content_block_stop", {"type": "content_block_stop", "index": index})


def anthropic_events(
    model: str, rid: str, reply: Reply, tokens: Tokens, *, chunks: int | None
) -> list[bytes]:
    """The full event sequence of a streamed message, ``message_stop`` last."""
    start = anthropic_body(model, rid, Reply(), tokens) | {"content": [], "stop_reason": None}
    start["usage"] = anthropic_usage(tokens, output=1)
    events = [sse("message_start", {"type": "message_start", "message": start})]
    events += list(_anthropic_block_events(reply, rid, chunks))
    delta = {"stop_reason": "tool_use" if reply.tool_calls else "end_turn", "stop_sequence": None}
    usage = anthropic_usage(tokens)
    events.append(sse("message_delta", {"type": "message_delta", "delta": delta, "usage": usage}))
    events.append(sse("message_stop", {"type": "message_stop"}))
    return events


_ANTHROPIC_ERRORS: dict[str, str] = {
    "ratelimit": "rate_limit_error",
    "server": "api_error",
    "overloaded": "overloaded_error",
    "context": "invalid_request_error",
    "auth": "authentication_error",
    "forbidden": "permission_error",
    "notfound": "not_found_error",
    "badrequest": "invalid_request_error",
}


def anthropic_error(kind: str, message: str, request_id: str) -> dict[str, Any]:
    etype = _ANTHROPIC_ERRORS.get(kind, "api_error")
    return {"type": "error", "error": {"type": etype, "message": message}, "request_id": request_id}


def error_message(protocol: str, kind: str, status: int, model: str, prompt: int) -> str:
    """The provider's own wording for each error kind (tierline's classifier reads it)."""
    if kind == "context":
        if protocol == "anthropic":
            return f"prompt is too long: {prompt} tokens > {max(prompt - 1, 1)} maximum"
        return (
            f"This model's maximum context length is {max(prompt - 1, 1)} tokens. However, your "
            f"messages resulted in {prompt} tokens. Please reduce the length of the messages."
        )
    messages = {
        "ratelimit": f"Rate limit reached for {model} (fake): retry later.",
        "server": f"The server had an error while processing your request (fake {status}).",
        "overloaded": "Overloaded",
        "auth": "Incorrect API key provided (fake).",
        "forbidden": "Your API key does not have permission to use this resource (fake).",
        "notfound": f"The model `{model}` does not exist or you do not have access to it.",
        "badrequest": "Invalid request (fake badrequest behaviour).",
    }
    return messages.get(kind, f"fake error {status}")


def tool_arguments(schema: Any) -> dict[str, Any]:
    """Deterministic arguments satisfying the required properties of a JSON schema."""
    if not isinstance(schema, dict):
        return {}
    props = schema.get("properties") or {}
    out: dict[str, Any] = {}
    for name in schema.get("required") or list(props)[:1]:
        prop = props.get(name) or {}
        out[name] = _sample(prop, name)
    return out


def _sample(prop: Mapping[str, Any], name: str) -> Any:
    kind = prop.get("type")
    if "enum" in prop and prop["enum"]:
        return prop["enum"][0]
    samples: dict[str, Any] = {"integer": 1, "number": 1, "boolean": False, "array": []}
    if kind == "object":
        return tool_arguments(prop)
    return samples.get(str(kind), f"fake-{name}")


def first_tool(protocol: str, tools: Sequence[Any]) -> tuple[str, dict[str, Any]] | None:
    """(name, arguments) for the first tool a request offers, or None."""
    for tool in tools:
        if not isinstance(tool, dict):
            continue
        if protocol == "openai" and isinstance(tool.get("function"), dict):
            fn = tool["function"]
            return str(fn.get("name", "tool")), tool_arguments(fn.get("parameters"))
        if protocol == "anthropic" and "name" in tool:
            return str(tool["name"]), tool_arguments(tool.get("input_schema"))
    return None
