"""OpenAI Responses API (``POST /v1/responses``) <-> chat completions, as pure functions.

Responses is translated through chat completions: ``to_chat`` builds a
client-style chat body (which the OpenAI->Anthropic translator can take further
for Anthropic providers), ``from_chat`` turns a chat completion back into a
``response`` object. The streaming side lives in ``translate_responses``.

Request mapping: ``instructions`` and system/developer items -> system
messages; ``input`` (string or items): ``message`` (input_text, input_image,
output_text parts), ``function_call`` (merged into the preceding assistant
turn), ``function_call_output`` (tool message; images follow in a user
message), ``custom_tool_call`` / ``_output`` (Codex's freeform tools, carried as
a function with one string parameter ``input``); ``reasoning`` and
``item_reference`` items are dropped (no provider-neutral form; state is not
kept, ``previous_response_id`` is ignored). Tools: ``function``, ``custom`` and
``namespace`` (its tools flattened to ``namespace__name``, except OpenAI's default
namespace ``functions`` whose tools keep their bare names), declared in ``tools``
or in ``additional_tools`` input items (Codex 0.169 sends its tools there for the
models it knows; later declarations of a name replace earlier ones); built-in
tools (web search, file search, local shell) are dropped.
``max_output_tokens`` -> ``max_tokens``, ``reasoning.effort`` ->
``reasoning_effort``, ``text.format`` -> ``response_format``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson

from sidecar.protocols import openai as wo

NS_SEP = "__"  # namespace tools are flattened to ``namespace__function``
DEFAULT_NAMESPACE = "functions"  # OpenAI's default namespace: its tools keep bare names
CUSTOM_PARAMETERS = {
    "type": "object",
    "properties": {"input": {"type": "string", "description": "The raw tool input."}},
    "required": ["input"],
}


def flat_name(namespace: Any, name: str) -> str:
    """The chat-visible name of tool ``name`` in ``namespace`` (None/"": top level)."""
    if not namespace or namespace == DEFAULT_NAMESPACE:
        return name
    return f"{namespace}{NS_SEP}{name}"


def declared_tools(body: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """Every tool declaration of a request, in order: ``tools``, then the ``tools`` of
    each ``additional_tools`` input item."""
    tools = body.get("tools")
    out = [t for t in (tools if isinstance(tools, list) else []) if isinstance(t, Mapping)]
    items = body.get("input")
    for item in items if isinstance(items, list) else []:
        if isinstance(item, Mapping) and item.get("type") == "additional_tools":
            extra = item.get("tools")
            out += [t for t in (extra if isinstance(extra, list) else []) if isinstance(t, Mapping)]
    return out


def _walk(tools: list[Mapping[str, Any]]) -> list[tuple[str, Mapping[str, Any]]]:
    """(chat-visible name, declaration) of each function or custom tool, namespaces
    flattened one level deep."""
    out: list[tuple[str, Mapping[str, Any]]] = []
    for tool in tools:
        if tool.get("type") == "namespace":
            inner = tool.get("tools")
            for sub in inner if isinstance(inner, list) else []:
                if isinstance(sub, Mapping) and sub.get("type") in ("function", "custom"):
                    out.append((flat_name(tool.get("name"), str(sub.get("name", ""))), sub))
        elif tool.get("type") in ("function", "custom"):
            out.append((str(tool.get("name", "")), tool))
    return out


def custom_tool_names(body: Mapping[str, Any]) -> frozenset[str]:
    """Chat-visible names of the ``custom`` (freeform) tools a Responses request declares."""
    return frozenset(
        name for name, tool in _walk(declared_tools(body)) if tool.get("type") == "custom"
    )


def namespace_names(body: Mapping[str, Any]) -> frozenset[str]:
    """Names of the tool ``namespace``s a Responses request declares (Codex sub-agents),
    the default namespace excepted (its tools are not prefixed)."""
    return frozenset(
        str(t.get("name"))
        for t in declared_tools(body)
        if t.get("type") == "namespace" and t.get("name") != DEFAULT_NAMESPACE
    )


def split_name(name: str, namespaces: frozenset[str]) -> tuple[str | None, str]:
    """(namespace, function name) of a flattened ``namespace__function`` tool name."""
    space, sep, rest = name.partition(NS_SEP)
    return (space, rest) if sep and space in namespaces else (None, name)


def to_chat(body: Mapping[str, Any]) -> dict[str, Any]:
    """A client-style chat-completions body for a Responses request (not mutated)."""
    out: dict[str, Any] = {"model": body.get("model", ""), "messages": _messages(body)}
    tools = _tools(declared_tools(body))
    if tools:
        out["tools"] = tools
        choice = _tool_choice(body.get("tool_choice"))
        if choice is not None:
            out["tool_choice"] = choice
        if body.get("parallel_tool_calls") is False:
            out["parallel_tool_calls"] = False
    if isinstance(body.get("max_output_tokens"), int):
        out["max_tokens"] = body["max_output_tokens"]
    for key in ("temperature", "top_p"):
        if body.get(key) is not None:
            out[key] = body[key]
    reasoning = body.get("reasoning")
    if isinstance(reasoning, Mapping) and reasoning.get("effort"):
        out["reasoning_effort"] = reasoning["effort"]
    text = body.get("text")
    fmt = text.get("format") if isinstance(text, Mapping) else None
    if isinstance(fmt, Mapping) and fmt.get("type") == "json_schema":
        schema = {k: fmt[k] for k in ("name", "schema", "strict", "description") if k in fmt}
        out["response_format"] = {"type": "json_schema", "json_schema": schema}
    elif isinstance(fmt, Mapping) and fmt.get("type") == "json_object":
        out["response_format"] = {"type": "json_object"}
    user = body.get("user") or body.get("safety_identifier")
    if user:
        out["user"] = str(user)
    if body.get("stream"):
        out["stream"] = True
        out["stream_options"] = {"include_usage": True}
    return out


def _parts(content: Any) -> list[dict[str, Any]]:
    if isinstance(content, str):
        return [{"type": "text", "text": content}]
    out: list[dict[str, Any]] = []
    for part in content if isinstance(content, list) else []:
        if not isinstance(part, Mapping):
            continue
        kind = part.get("type")
        if kind in ("input_text", "output_text", "text") and part.get("text") is not None:
            out.append({"type": "text", "text": str(part["text"])})
        elif kind == "input_image" and part.get("image_url"):
            image: dict[str, Any] = {"url": str(part["image_url"])}
            if part.get("detail") in ("low", "high"):
                image["detail"] = part["detail"]
            out.append({"type": "image_url", "image_url": image})
        elif kind == "refusal" and part.get("refusal"):
            out.append({"type": "text", "text": str(part["refusal"])})
    return out


def _collapse(parts: list[dict[str, Any]]) -> Any:
    if all(p["type"] == "text" for p in parts):
        return "".join(p["text"] for p in parts)
    return parts


def _messages(body: Mapping[str, Any]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    instructions = body.get("instructions")
    if isinstance(instructions, str) and instructions:
        out.append({"role": "system", "content": instructions})
    items = body.get("input")
    if isinstance(items, str):
        items = [{"type": "message", "role": "user", "content": items}]
    for item in items if isinstance(items, list) else []:
        if isinstance(item, Mapping):
            _item(item, out)
    return out


def _assistant_turn(out: list[dict[str, Any]]) -> dict[str, Any]:
    """The assistant message a tool call joins (a new one unless the last is assistant)."""
    if out and out[-1]["role"] == "assistant":
        return out[-1]
    out.append({"role": "assistant", "content": None})
    return out[-1]


def _item(item: Mapping[str, Any], out: list[dict[str, Any]]) -> None:
    kind = item.get("type", "message")
    if kind == "message":
        role = str(item.get("role", "user"))
        parts = _parts(item.get("content"))
        if role in ("system", "developer"):
            out.append({"role": "system", "content": "".join(p.get("text", "") for p in parts)})
        elif role == "assistant":
            text = "".join(p.get("text", "") for p in parts)
            if text:
                out.append({"role": "assistant", "content": text})
        elif parts:
            out.append({"role": "user", "content": _collapse(parts)})
    elif kind in ("function_call", "custom_tool_call"):
        args = item.get("arguments")
        if kind == "custom_tool_call":
            args = orjson.dumps({"input": str(item.get("input", ""))}).decode()
        name = flat_name(item.get("namespace"), str(item.get("name", "")))
        call = {
            "id": str(item.get("call_id") or item.get("id") or ""),
            "type": "function",
            "function": {"name": name, "arguments": str(args or "{}")},
        }
        _assistant_turn(out).setdefault("tool_calls", []).append(call)
    elif kind in ("function_call_output", "custom_tool_call_output"):
        _tool_output(item, out)


def _tool_output(item: Mapping[str, Any], out: list[dict[str, Any]]) -> None:
    output = item.get("output")
    call_id = str(item.get("call_id", ""))
    if isinstance(output, str):
        out.append({"role": "tool", "tool_call_id": call_id, "content": output})
        return
    parts = _parts(output)
    texts = [p["text"] for p in parts if p["type"] == "text"]
    images = [p for p in parts if p["type"] != "text"]
    out.append({"role": "tool", "tool_call_id": call_id, "content": "\n".join(texts)})
    if images:
        label = {"type": "text", "text": f"Image output of tool call {call_id}:"}
        out.append({"role": "user", "content": [label, *images]})


def _tools(tools: list[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Chat function tools; custom tools take one string ``input`` (their grammar goes
    into the description). A name declared again replaces the earlier declaration."""
    out: dict[str, dict[str, Any]] = {}
    for name, tool in _walk(tools):
        function: dict[str, Any] = {"name": name}
        if tool.get("type") == "function":
            if tool.get("description"):
                function["description"] = str(tool["description"])
            function["parameters"] = tool.get("parameters") or {"type": "object", "properties": {}}
        else:
            description = str(tool.get("description") or "")
            fmt = tool.get("format")
            if isinstance(fmt, Mapping) and fmt.get("definition"):
                description += f"\nInput grammar ({fmt.get('syntax', '')}):\n{fmt['definition']}"
            function["description"] = description
            function["parameters"] = CUSTOM_PARAMETERS
        out.pop(name, None)
        out[name] = {"type": "function", "function": function}
    return list(out.values())


def _tool_choice(choice: Any) -> Any:
    if choice in ("auto", "none", "required"):
        return choice
    if isinstance(choice, Mapping) and choice.get("type") in ("function", "custom"):
        name = flat_name(choice.get("namespace"), str(choice.get("name", "")))
        return {"type": "function", "function": {"name": name}}
    return None


# -- answers ------------------------------------------------------------------


def usage(chat_usage: Mapping[str, Any] | None) -> dict[str, Any]:
    """A Responses ``usage`` object from a chat ``usage`` (input includes cached)."""
    u = wo.usage_from_openai(chat_usage)
    return {
        "input_tokens": u.prompt_tokens,
        "input_tokens_details": {"cached_tokens": u.cache_read_tokens},
        "output_tokens": u.output_tokens,
        "output_tokens_details": {"reasoning_tokens": u.reasoning_tokens},
        "total_tokens": u.prompt_tokens + u.output_tokens,
    }


def envelope(
    rid: str, model: str, created: int, status: str, output: list[dict[str, Any]]
) -> dict[str, Any]:
    """A ``response`` object; ``usage``/``incomplete_details`` are set by the caller."""
    return {
        "id": rid,
        "object": "response",
        "created_at": created,
        "status": status,
        "error": None,
        "incomplete_details": None,
        "instructions": None,
        "max_output_tokens": None,
        "model": model,
        "output": output,
        "parallel_tool_calls": True,
        "previous_response_id": None,
        "reasoning": {"effort": None, "summary": None},
        "store": False,
        "temperature": None,
        "text": {"format": {"type": "text"}},
        "tool_choice": "auto",
        "tools": [],
        "top_p": None,
        "truncation": "disabled",
        "usage": None,
        "metadata": {},
    }


def finish(response: dict[str, Any], finish_reason: str | None) -> dict[str, Any]:
    """Set status (completed / incomplete) from a chat ``finish_reason``."""
    if finish_reason == "length":
        response["status"] = "incomplete"
        response["incomplete_details"] = {"reason": "max_output_tokens"}
    elif finish_reason == "content_filter":
        response["status"] = "incomplete"
        response["incomplete_details"] = {"reason": "content_filter"}
    else:
        response["status"] = "completed"
    return response


def message_item(item_id: str, text: str, status: str = "completed") -> dict[str, Any]:
    part = {"type": "output_text", "text": text, "annotations": []}
    content = [part] if status == "completed" else []
    return {
        "id": item_id,
        "type": "message",
        "status": status,
        "role": "assistant",
        "content": content,
    }


def reasoning_item(item_id: str, text: str) -> dict[str, Any]:
    content = [{"type": "reasoning_text", "text": text}] if text else []
    return {"id": item_id, "type": "reasoning", "summary": [], "content": content}


def call_item(
    item_id: str,
    call_id: str,
    name: str,
    arguments: str,
    custom: bool,
    status: str = "completed",
    namespaces: frozenset[str] = frozenset(),
) -> dict[str, Any]:
    """A ``function_call`` item, or ``custom_tool_call`` for a freeform tool; either
    with its ``namespace`` when ``name`` is a flattened namespaced tool."""
    space, bare = split_name(name, namespaces)
    item: dict[str, Any]
    if custom:
        try:
            parsed = orjson.loads(arguments)
        except orjson.JSONDecodeError:
            parsed = {"input": arguments}  # a model that sent the raw input unwrapped
        raw = parsed.get("input", "") if isinstance(parsed, dict) else ""
        item = {
            "id": "ctc_" + item_id.removeprefix("fc_"),
            "type": "custom_tool_call",
            "status": status,
            "call_id": call_id,
            "name": bare,
            "input": str(raw),
        }
    else:
        item = {
            "id": item_id,
            "type": "function_call",
            "status": status,
            "call_id": call_id,
            "name": bare,
            "arguments": arguments,
        }
    if space:
        item["namespace"] = space
    return item


def from_chat(
    body: Mapping[str, Any],
    rid: str,
    created: int,
    custom: frozenset[str],
    namespaces: frozenset[str] = frozenset(),
) -> dict[str, Any]:
    """A ``response`` object for a chat completion ``body``."""
    choices = body.get("choices") or [{}]
    choice = choices[0] if isinstance(choices[0], Mapping) else {}
    msg = choice.get("message") or {}
    output: list[dict[str, Any]] = []
    reasoning = wo.reasoning_text(msg)
    if reasoning:
        output.append(reasoning_item(f"rs_{rid}_0", reasoning))
    text = wo.content_text(msg.get("content"))
    if text:
        output.append(message_item(f"msg_{rid}_0", text))
    for i, call in enumerate(msg.get("tool_calls") or []):
        function = call.get("function") or {}
        name = str(function.get("name", ""))
        call_id = str(call.get("id") or f"call_{rid}_{i}")
        args = str(function.get("arguments") or "{}")
        item = call_item(
            f"fc_{rid}_{i}", call_id, name, args, name in custom, "completed", namespaces
        )
        output.append(item)
    response = envelope("resp_" + rid, str(body.get("model", "")), created, "completed", output)
    response["usage"] = usage(body.get("usage"))
    return finish(response, choice.get("finish_reason"))
