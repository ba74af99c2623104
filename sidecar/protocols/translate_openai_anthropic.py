"""OpenAI Chat Completions client -> Anthropic Messages provider.

Request mapping:

- ``system`` / ``developer`` messages (anywhere) -> the ``system`` parameter,
  in order (Anthropic has no mid-conversation system turns);
- text and ``image_url`` parts (data URLs -> base64 source, http(s) -> url
  source) -> blocks; other parts (audio, files by id) are dropped;
- assistant ``tool_calls`` -> ``tool_use`` blocks; ``tool`` messages ->
  ``tool_result`` blocks in the following user turn (text starting with
  ``Error: ``, the marker the other direction gives ``is_error``, -> ``is_error``
  with the marker removed); consecutive turns of the
  same role are merged (Anthropic requires alternation); tool ids are
  sanitised to ``[A-Za-z0-9_-]`` the same way on both sides;
- reasoning from earlier turns is dropped: Anthropic only accepts thinking
  blocks with a signature it issued, and a chat client never carries one;
- ``max_completion_tokens`` / ``max_tokens`` -> ``max_tokens`` (required; the
  model's ``max_output`` or 4096 when absent); ``stop`` -> ``stop_sequences``;
  ``temperature`` clamped to [0, 1]; ``top_p``; ``user`` ->
  ``metadata.user_id``; ``tool_choice`` and ``parallel_tool_calls`` ->
  ``tool_choice`` (+ ``disable_parallel_tool_use``); ``reasoning_effort`` ->
  ``thinking`` with a budget for models flagged ``thinking``, unless the
  conversation is inside a tool loop (Anthropic would demand the earlier
  turn's signed thinking block).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import orjson

from sidecar.config import ModelConfig
from sidecar.protocols import anthropic as wa
from sidecar.protocols import openai as wo
from sidecar.protocols.translate import TranslateContext, map_error
from sidecar.protocols.translate_openai_anthropic_stream import AnthropicToOpenAIStream

_DATA_URL = re.compile(r"^data:([^;,]+);base64,(.*)$", re.DOTALL)
_BUDGET = {"minimal": 1024, "low": 2048, "medium": 8192, "high": 24576}


class OpenAIToAnthropic:
    """The translator for an OpenAI chat client talking to an Anthropic-kind provider."""

    client = "openai"
    provider_kind = "anthropic"
    path = "/messages"

    def request(
        self, body: Mapping[str, Any], model: ModelConfig, ctx: TranslateContext
    ) -> dict[str, Any]:
        return translate_request(body, model, ctx)

    def response(self, body: Mapping[str, Any], ctx: TranslateContext) -> dict[str, Any]:
        return translate_response(body, ctx)

    def stream(self, ctx: TranslateContext) -> AnthropicToOpenAIStream:
        return AnthropicToOpenAIStream(ctx)

    def error(self, status: int, body: Any) -> tuple[int, dict[str, Any]]:
        return map_error("openai", "anthropic", status, body)


def translate_request(
    body: Mapping[str, Any], model: ModelConfig, ctx: TranslateContext
) -> dict[str, Any]:
    """The Anthropic messages body for a chat-completions ``body`` (not mutated)."""
    system, messages = _messages(body.get("messages") or [])
    max_tokens = body.get("max_completion_tokens") or body.get("max_tokens")
    if not isinstance(max_tokens, int) or max_tokens <= 0:
        max_tokens = model.max_output or 4096
    elif model.max_output:
        max_tokens = min(max_tokens, model.max_output)
    out: dict[str, Any] = {"model": model.upstream, "max_tokens": max_tokens}
    if system:
        out["system"] = system
    out["messages"] = messages
    tools = _tools(body.get("tools"))
    if tools:
        out["tools"] = tools
        choice = _tool_choice(body.get("tool_choice"), body.get("parallel_tool_calls"))
        if choice:
            out["tool_choice"] = choice
    stop = body.get("stop")
    if isinstance(stop, str) and stop:
        out["stop_sequences"] = [stop]
    elif isinstance(stop, list) and stop:
        out["stop_sequences"] = [str(s) for s in stop]
    if isinstance(body.get("temperature"), int | float):
        out["temperature"] = max(0.0, min(1.0, float(body["temperature"])))
    if isinstance(body.get("top_p"), int | float):
        out["top_p"] = body["top_p"]
    if body.get("user"):
        out["metadata"] = {"user_id": str(body["user"])}
    thinking = _thinking(body, model, messages, max_tokens)
    if thinking:
        out["thinking"] = thinking
        out.pop("temperature", None)  # Anthropic rejects temperature with thinking
        out.pop("top_p", None)
    if body.get("stream"):
        out["stream"] = True
    return out


def _thinking(
    body: Mapping[str, Any], model: ModelConfig, messages: list[dict[str, Any]], max_tokens: int
) -> dict[str, Any] | None:
    effort = body.get("reasoning_effort")
    if not model.thinking or effort not in _BUDGET:
        return None
    last = messages[-1] if messages else {}
    if any(b.get("type") == "tool_result" for b in last.get("content") or []):
        return None  # inside a tool loop: the signed thinking block of the last turn is gone
    budget = min(_BUDGET[str(effort)], max_tokens - 1)
    return {"type": "enabled", "budget_tokens": budget} if budget >= 1024 else None


def _image(url: str) -> dict[str, Any]:
    match = _DATA_URL.match(url)
    if match:
        source = {"type": "base64", "media_type": match.group(1), "data": match.group(2)}
        return {"type": "image", "source": source}
    return {"type": "image", "source": {"type": "url", "url": url}}


def _blocks(content: Any) -> list[dict[str, Any]]:
    if isinstance(content, str):
        return [{"type": "text", "text": content}] if content.strip() else []
    out: list[dict[str, Any]] = []
    for part in content if isinstance(content, list) else []:
        if not isinstance(part, Mapping):
            continue
        kind = part.get("type")
        if kind in ("text", "input_text", "output_text") and str(part.get("text") or "").strip():
            out.append({"type": "text", "text": str(part["text"])})
        elif kind == "image_url":
            image = part.get("image_url")
            url = image.get("url") if isinstance(image, Mapping) else image
            if url:
                out.append(_image(str(url)))
        elif kind == "refusal" and part.get("refusal"):
            out.append({"type": "text", "text": str(part["refusal"])})
    return out


def _assistant_blocks(msg: Mapping[str, Any]) -> list[dict[str, Any]]:
    out = _blocks(msg.get("content"))
    for call in msg.get("tool_calls") or []:
        if not isinstance(call, Mapping):
            continue
        function = call.get("function") or {}
        args = wo_arguments(function.get("arguments"))
        out.append(
            {
                "type": "tool_use",
                "id": wa.tool_id(call.get("id")),
                "name": str(function.get("name", "")),
                "input": args,
            }
        )
    return out


def wo_arguments(value: Any) -> dict[str, Any]:
    """OpenAI ``arguments`` (JSON text, or already an object) as an Anthropic ``input``."""
    if isinstance(value, Mapping):
        return dict(value)
    if not isinstance(value, str) or not value.strip():
        return {}
    try:
        parsed = orjson.loads(value)
    except orjson.JSONDecodeError:
        return {}
    return parsed if isinstance(parsed, dict) else {"value": parsed}


def _messages(raw: list[Any]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(system blocks, alternating user/assistant messages)."""
    system: list[dict[str, Any]] = []
    out: list[dict[str, Any]] = []
    for msg in raw:
        if not isinstance(msg, Mapping):
            continue
        role = msg.get("role")
        if role in ("system", "developer"):
            text = wo.content_text(msg.get("content"))
            if text:
                system.append({"type": "text", "text": text})
            continue
        if role == "tool":
            blocks = [_tool_result(msg)]
            role = "user"
        elif role == "assistant":
            blocks = _assistant_blocks(msg)
        else:
            blocks = _blocks(msg.get("content"))
            role = "user"
        if not blocks:
            continue
        if out and out[-1]["role"] == role:
            out[-1]["content"].extend(blocks)
        else:
            out.append({"role": role, "content": blocks})
    for msg in out:  # tool results must open the user turn
        msg["content"].sort(key=lambda b: b.get("type") != "tool_result")
    _pair_tools(out)
    if out and out[-1]["role"] == "assistant":  # a prefill may not end in whitespace
        last = out[-1]["content"][-1]
        if last.get("type") == "text":
            last["text"] = last["text"].rstrip()
    return system, out


def _pair_tools(messages: list[dict[str, Any]]) -> None:
    """Make every ``tool_use`` answered by a ``tool_result`` in the next turn and every
    result answer a call (Anthropic rejects both mismatches; chat clients that were
    interrupted or compacted their history send them). Works in place on fresh dicts."""
    for i, msg in enumerate(messages):
        if msg["role"] != "user":
            continue
        prev = messages[i - 1] if i > 0 else None
        calls = [b["id"] for b in prev["content"] if b["type"] == "tool_use"] if prev else []
        blocks: list[dict[str, Any]] = []
        for block in msg["content"]:
            if block["type"] == "tool_result" and block["tool_use_id"] not in calls:
                text = f"Result of tool call {block['tool_use_id']}: {block.get('content')}"
                block = {"type": "text", "text": text}
            blocks.append(block)
        answered = {b["tool_use_id"] for b in blocks if b["type"] == "tool_result"}
        missing = [
            {"type": "tool_result", "tool_use_id": c, "content": "(no result)", "is_error": True}
            for c in calls
            if c not in answered
        ]
        msg["content"] = missing + blocks
    last = messages[-1] if messages else None
    if (
        last
        and last["role"] == "assistant"
        and any(b["type"] == "tool_use" for b in last["content"])
    ):
        calls = [b["id"] for b in last["content"] if b["type"] == "tool_use"]
        stubs = [
            {"type": "tool_result", "tool_use_id": c, "content": "(no result)", "is_error": True}
            for c in calls
        ]
        messages.append({"role": "user", "content": stubs})


def _tool_result(msg: Mapping[str, Any]) -> dict[str, Any]:
    content = msg.get("content")
    blocks = _blocks(content)
    result: dict[str, Any] = {
        "type": "tool_result",
        "tool_use_id": wa.tool_id(msg.get("tool_call_id")),
    }
    if blocks and all(b["type"] == "text" for b in blocks):
        result["content"] = "\n".join(b["text"] for b in blocks)
    elif blocks:
        result["content"] = blocks
    else:
        result["content"] = ""
    return _mark_error(result)


def _mark_error(result: dict[str, Any]) -> dict[str, Any]:
    """``is_error`` for a result whose text opens with the failed-tool marker."""
    content = result["content"]
    first = content if isinstance(content, str) else content[0].get("text")
    if not isinstance(first, str):
        return result
    failed, text = wo.split_tool_error(first)
    if failed:
        if isinstance(content, str):
            result["content"] = text
        else:
            result["content"] = [{**content[0], "text": text}, *content[1:]]
        result["is_error"] = True
    return result


def _tools(tools: Any) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for tool in tools if isinstance(tools, list) else []:
        if not isinstance(tool, Mapping) or tool.get("type", "function") != "function":
            continue
        function = tool.get("function") or {}
        entry: dict[str, Any] = {"name": str(function.get("name", ""))}
        if function.get("description"):
            entry["description"] = str(function["description"])
        schema = function.get("parameters") or {"type": "object", "properties": {}}
        entry["input_schema"] = schema
        out.append(entry)
    return out


def _tool_choice(choice: Any, parallel: Any) -> dict[str, Any] | None:
    out: dict[str, Any] | None = None
    if choice == "required":
        out = {"type": "any"}
    elif choice == "none":
        return {"type": "none"}
    elif isinstance(choice, Mapping):
        name = (choice.get("function") or {}).get("name") or choice.get("name")
        out = {"type": "tool", "name": str(name)} if name else {"type": "auto"}
    elif choice == "auto" or parallel is False:
        out = {"type": "auto"}
    if out is not None and parallel is False:
        out["disable_parallel_tool_use"] = True
    return out


def completion_id(upstream_id: Any, ctx: TranslateContext) -> str:
    base = str(upstream_id or ctx.request_id)
    return base if base.startswith("chatcmpl-") else "chatcmpl-" + base


def translate_response(body: Mapping[str, Any], ctx: TranslateContext) -> dict[str, Any]:
    """A ``chat.completion`` for an Anthropic ``message`` body."""
    texts: list[str] = []
    reasoning: list[str] = []
    calls: list[dict[str, Any]] = []
    for block in body.get("content") or []:
        kind = block.get("type") if isinstance(block, Mapping) else None
        if kind == "text":
            texts.append(str(block.get("text", "")))
        elif kind == "thinking":
            reasoning.append(str(block.get("thinking", "")))
        elif kind == "tool_use":
            args = orjson.dumps(block.get("input") or {}).decode()
            function = {"name": str(block.get("name", "")), "arguments": args}
            calls.append({"id": str(block.get("id", "")), "type": "function", "function": function})
    message: dict[str, Any] = {
        "role": "assistant",
        "content": "".join(texts) if texts or not calls else None,
        "refusal": None,
    }
    if calls:
        message["tool_calls"] = calls
    if reasoning:
        message["reasoning_content"] = "".join(reasoning)
    finish = wo.FINISH_FROM_ANTHROPIC.get(str(body.get("stop_reason")), "stop")
    return {
        "id": completion_id(body.get("id"), ctx),
        "object": "chat.completion",
        "created": ctx.created,
        "model": ctx.model_name or str(body.get("model", "")),
        "choices": [{"index": 0, "message": message, "logprobs": None, "finish_reason": finish}],
        "usage": wo.usage_to_openai(wa.usage_from_anthropic(body.get("usage"))),
    }
