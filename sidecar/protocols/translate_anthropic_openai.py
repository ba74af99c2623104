"""Anthropic Messages client -> OpenAI Chat Completions provider.

Request mapping (what is dropped is dropped on purpose, never half-sent):

- ``system`` (string or blocks) and ``role: "system"`` messages -> system messages
  in place; ``cache_control`` everywhere, ``context_management``,
  ``output_config`` (except ``effort``), ``top_k``, server tools (no
  ``input_schema``) and redacted thinking are dropped.
- text / image (base64 -> data URL, url) / PDF document blocks -> content parts;
  all-text content collapses to a string (many compatible servers want that).
- ``tool_result`` blocks -> ``tool`` messages placed before the rest of the
  user turn; their images (tool messages cannot carry images) follow in one
  user message; ``is_error`` prefixes the text with ``Error: `` (read back as
  ``is_error`` by the OpenAI->Anthropic translator: ``openai.split_tool_error``).
- ``tool_use`` -> ``tool_calls``; thinking text -> ``reasoning_content`` when the
  model is flagged ``reasoning``/``thinking`` (signatures are never sent), except
  thinking this provider issued itself (Claude via OpenRouter: the signature is
  tagged with its name), which goes back as ``reasoning_details``
  (``translate_reasoning``).
- ``thinking`` enabled/adaptive -> ``reasoning_effort`` for reasoning models;
  OpenAI-style reasoning models (``reasoning`` and ``max_completion_tokens``) get no
  ``temperature``, ``top_p`` or ``stop``, which they reject.
- ``max_tokens`` -> ``ModelConfig.token_param`` (capped at ``max_output``);
  ``stop_sequences`` -> ``stop``; ``metadata.user_id`` -> ``user`` (the account or
  device of Claude Code's JSON form; hashed beyond 64 characters); Claude Code's
  ``x-anthropic-billing-header`` system line is dropped; streaming
  always asks for ``stream_options.include_usage``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

import orjson

from sidecar.config import ModelConfig
from sidecar.protocols import anthropic as wa
from sidecar.protocols import openai as wo
from sidecar.protocols import translate_reasoning as rsn
from sidecar.protocols.translate import TranslateContext, map_error
from sidecar.protocols.translate_anthropic_openai_stream import OpenAIToAnthropicStream


class AnthropicToOpenAI:
    """The translator for an Anthropic client talking to an OpenAI-kind provider."""

    client = "anthropic"
    provider_kind = "openai"
    path = "/chat/completions"

    def request(
        self, body: Mapping[str, Any], model: ModelConfig, ctx: TranslateContext
    ) -> dict[str, Any]:
        return translate_request(body, model, ctx)

    def response(self, body: Mapping[str, Any], ctx: TranslateContext) -> dict[str, Any]:
        return translate_response(body, ctx)

    def stream(self, ctx: TranslateContext) -> OpenAIToAnthropicStream:
        return OpenAIToAnthropicStream(ctx)

    def error(self, status: int, body: Any) -> tuple[int, dict[str, Any]]:
        return map_error("anthropic", "openai", status, body)


def translate_request(
    body: Mapping[str, Any], model: ModelConfig, ctx: TranslateContext
) -> dict[str, Any]:
    """The chat-completions body for an Anthropic messages ``body`` (not mutated)."""
    messages = _messages(body, model, ctx.provider)
    out: dict[str, Any] = {"model": model.upstream, "messages": messages}
    tools = _tools(body.get("tools"))
    if tools:
        out["tools"] = tools
        choice, parallel = _tool_choice(body.get("tool_choice"))
        if choice is not None:
            out["tool_choice"] = choice
        if parallel is False:
            out["parallel_tool_calls"] = False
    max_tokens = body.get("max_tokens")
    if isinstance(max_tokens, int):
        if model.max_output:
            max_tokens = min(max_tokens, model.max_output)
        out[model.token_param] = max_tokens
    for key in ("temperature", "top_p"):
        if body.get(key) is not None:
            out[key] = body[key]
    stops = body.get("stop_sequences")
    if isinstance(stops, list) and stops:
        out["stop"] = [str(s) for s in stops][:4]  # OpenAI accepts at most four
    metadata = body.get("metadata")
    if isinstance(metadata, Mapping) and metadata.get("user_id"):
        out["user"] = end_user(str(metadata["user_id"]))
    effort = _effort(body, model)
    if effort:
        out["reasoning_effort"] = effort
    if model.reasoning and model.token_param == "max_completion_tokens":
        for key in ("temperature", "top_p", "stop"):  # OpenAI reasoning models reject these
            out.pop(key, None)
    if body.get("stream"):
        out["stream"] = True
        out["stream_options"] = {"include_usage": True}
    return out


def end_user(user_id: str) -> str:
    """OpenAI's ``user`` (at most 64 characters) for Anthropic's ``metadata.user_id``.

    Claude Code 2.1 sends a JSON object (device_id, account_uuid, session_id): the
    account or device is the end user. Anything longer than 64 characters becomes a
    stable hash of itself.
    """
    if user_id.startswith("{"):
        try:
            parsed = orjson.loads(user_id)
        except orjson.JSONDecodeError:
            parsed = None
        if isinstance(parsed, dict):
            user_id = str(parsed.get("account_uuid") or parsed.get("device_id") or user_id)
    if len(user_id) <= 64:
        return user_id
    return "h-" + hashlib.sha256(user_id.encode()).hexdigest()[:62]


def _effort(body: Mapping[str, Any], model: ModelConfig) -> str | None:
    thinking = body.get("thinking")
    if not (model.reasoning or model.thinking) or not isinstance(thinking, Mapping):
        return None
    kind = thinking.get("type")
    if kind == "enabled":
        budget = thinking.get("budget_tokens")
        budget = budget if isinstance(budget, int) else 8000
        return "low" if budget < 4096 else "medium" if budget < 16000 else "high"
    if kind == "adaptive":
        config = body.get("output_config")
        effort = config.get("effort") if isinstance(config, Mapping) else None
        if effort in ("low", "medium", "high"):
            return str(effort)
        return "high" if effort == "max" else "medium"
    return None


def _messages(
    body: Mapping[str, Any], model: ModelConfig, provider: str = ""
) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    system = body.get("system")
    if isinstance(system, list):  # Claude Code's billing line is for Anthropic, not a prompt
        system = [b for b in system if not _is_billing(b)]
    system = wa.system_text(system)
    if system:
        out.append({"role": "system", "content": system})
    for msg in body.get("messages") or []:
        if not isinstance(msg, Mapping):
            continue
        role, content = msg.get("role"), msg.get("content")
        if role == "system":
            text = wa.system_text(content) if isinstance(content, list) else str(content or "")
            if text and all(m["role"] == "system" for m in out):
                out.append({"role": "system", "content": text})
            elif text:  # many chat templates reject a system turn after the first user turn
                out.append({"role": "user", "content": f"<system>\n{text}\n</system>"})
        elif role == "user":
            out.extend(_user(content, model.vision))
        elif role == "assistant":
            assistant = _assistant(content, model, provider)
            if assistant:
                out.append(assistant)
    return out


def _is_billing(block: Any) -> bool:
    text = block.get("text") if isinstance(block, Mapping) else None
    return isinstance(text, str) and text.startswith("x-anthropic-billing-header:")


def image_url(block: Mapping[str, Any]) -> str | None:
    """The URL (data URL for base64) of an Anthropic image block; None if unusable."""
    source = block.get("source")
    if not isinstance(source, Mapping):
        return None
    if source.get("type") == "base64" and source.get("data"):
        return f"data:{source.get('media_type', 'image/png')};base64,{source['data']}"
    if source.get("type") == "url" and source.get("url"):
        return str(source["url"])
    return None


def _part(block: Mapping[str, Any]) -> dict[str, Any] | None:
    kind = block.get("type")
    if kind == "text":
        return {"type": "text", "text": str(block.get("text", ""))}
    if kind == "image":
        url = image_url(block)
        return {"type": "image_url", "image_url": {"url": url}} if url else None
    if kind == "document":
        source = block.get("source")
        if isinstance(source, Mapping) and source.get("type") == "text":
            return {"type": "text", "text": str(source.get("data", ""))}
        if isinstance(source, Mapping) and source.get("type") == "base64":
            data = f"data:{source.get('media_type', 'application/pdf')};base64,{source.get('data')}"
            name = str(block.get("title") or "document.pdf")
            return {"type": "file", "file": {"filename": name, "file_data": data}}
    return None


def _collapse(parts: list[dict[str, Any]]) -> str | list[dict[str, Any]]:
    if all(p["type"] == "text" for p in parts):
        return "\n".join(p["text"] for p in parts)
    return parts


def _tool_result(block: Mapping[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """One ``tool`` message and the image parts that must follow it in a user message."""
    content = block.get("content")
    texts: list[str] = []
    images: list[dict[str, Any]] = []
    if isinstance(content, str):
        texts.append(content)
    elif isinstance(content, list):
        for item in content:
            part = _part(item) if isinstance(item, Mapping) else None
            if part is None:
                continue
            if part["type"] == "text":
                texts.append(part["text"])
            else:
                images.append(part)
    text = "\n".join(texts)
    if block.get("is_error"):
        text = wo.tool_error_text(text)
    elif not text and images:
        text = "(image output attached below)"
    tool_id = str(block.get("tool_use_id", ""))
    return {"role": "tool", "tool_call_id": tool_id, "content": text}, images


def _user(content: Any, vision: bool = True) -> list[dict[str, Any]]:
    if isinstance(content, str):
        return [{"role": "user", "content": content}]
    if not isinstance(content, list):
        return []
    tools: list[dict[str, Any]] = []
    tool_images: list[dict[str, Any]] = []
    parts: list[dict[str, Any]] = []
    for block in content:
        if not isinstance(block, Mapping):
            continue
        if block.get("type") == "tool_result":
            message, images = _tool_result(block)
            tools.append(message)
            if images:
                label = f"Image output of tool call {message['tool_call_id']}:"
                tool_images += [{"type": "text", "text": label}, *images]
        else:
            part = _part(block)
            if part is not None:
                parts.append(part)
    out = list(tools)
    if not vision:  # the model cannot see: say so instead of failing the request
        omitted = {"type": "text", "text": "[image omitted: this model cannot read images]"}
        tool_images = [p if p["type"] == "text" else omitted for p in tool_images]
        parts = [p if p["type"] == "text" else omitted for p in parts]
    if tool_images or parts:
        out.append({"role": "user", "content": _collapse(tool_images + parts)})
    return out


def _assistant(content: Any, model: ModelConfig, provider: str = "") -> dict[str, Any] | None:
    if isinstance(content, str):
        return {"role": "assistant", "content": content} if content else None
    if not isinstance(content, list):
        return None
    texts: list[str] = []
    reasoning: list[str] = []
    calls: list[dict[str, Any]] = []
    for block in content:
        if not isinstance(block, Mapping):
            continue
        kind = block.get("type")
        if kind == "text" and block.get("text"):
            texts.append(str(block["text"]))
        elif kind == "thinking" and block.get("thinking"):
            reasoning.append(str(block["thinking"]))
        elif kind == "tool_use":
            args = orjson.dumps(block.get("input") or {}).decode()
            calls.append(
                {
                    "id": str(block.get("id", "")),
                    "type": "function",
                    "function": {"name": str(block.get("name", "")), "arguments": args},
                }
            )
    if not texts and not calls:
        return None
    out: dict[str, Any] = {"role": "assistant", "content": "\n".join(texts) if texts else None}
    if calls:
        out["tool_calls"] = calls
    details = rsn.reasoning_details(content, provider) if provider else []
    if details:  # the provider's own signed reasoning, back to it whole
        out["reasoning_details"] = details
    elif reasoning and (model.reasoning or model.thinking):
        out["reasoning_content"] = "\n".join(reasoning)
    return out


def _tools(tools: Any) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for tool in tools if isinstance(tools, list) else []:
        if not isinstance(tool, Mapping) or "input_schema" not in tool:
            continue  # server tools (web search, code execution) have no OpenAI equivalent
        function: dict[str, Any] = {"name": str(tool.get("name", ""))}
        if tool.get("description"):
            function["description"] = str(tool["description"])
        function["parameters"] = tool.get("input_schema") or {"type": "object", "properties": {}}
        out.append({"type": "function", "function": function})
    return out


def _tool_choice(choice: Any) -> tuple[Any, bool | None]:
    """(OpenAI tool_choice or None, parallel_tool_calls or None)."""
    if not isinstance(choice, Mapping):
        return None, None
    parallel = False if choice.get("disable_parallel_tool_use") else None
    kind = choice.get("type")
    if kind == "any":
        return "required", parallel
    if kind == "none":
        return "none", None
    if kind == "tool":
        return {"type": "function", "function": {"name": str(choice.get("name", ""))}}, parallel
    return "auto", parallel


def parse_arguments(text: str) -> dict[str, Any]:
    """Tool-call arguments text as an object (Anthropic ``input`` must be one)."""
    if not text.strip():
        return {}
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError:
        return {}
    return value if isinstance(value, dict) else {"value": value}


def message_id(upstream_id: Any, ctx: TranslateContext) -> str:
    base = str(upstream_id or ctx.request_id)
    return base if base.startswith("msg_") else "msg_" + base.removeprefix("chatcmpl-")


def translate_response(body: Mapping[str, Any], ctx: TranslateContext) -> dict[str, Any]:
    """An Anthropic ``message`` for a chat-completion ``body``."""
    choices = body.get("choices") or [{}]
    choice = choices[0] if isinstance(choices[0], Mapping) else {}
    msg = choice.get("message") or {}
    content = rsn.thinking_blocks(msg, ctx.provider)
    text = wo.content_text(msg.get("content")) or str(msg.get("refusal") or "")
    if text:
        content.append({"type": "text", "text": text})
    for i, call in enumerate(msg.get("tool_calls") or []):
        function = call.get("function") or {}
        content.append(
            {
                "type": "tool_use",
                "id": wa.tool_id(call.get("id") or f"toolu_{ctx.request_id}_{i}"),
                "name": str(function.get("name", "")),
                "input": parse_arguments(str(function.get("arguments") or "")),
            }
        )
    stop = wa.STOP_FROM_OPENAI.get(str(choice.get("finish_reason")), "end_turn")
    if stop == "end_turn" and any(b["type"] == "tool_use" for b in content):
        stop = "tool_use"  # some providers say "stop" after tool calls
    return {
        "id": message_id(body.get("id"), ctx),
        "type": "message",
        "role": "assistant",
        "model": ctx.model_name or str(body.get("model", "")),
        "content": content,
        "stop_reason": stop,
        "stop_sequence": None,
        "usage": wa.usage_to_anthropic(wo.usage_from_openai(body.get("usage"))),
    }
