"""Structural checks of request bodies: the types translators and the router dereference.

Every translator pair (and the router's conversation view) reads a body with
``.get`` chains over dicts and lists; a field of the wrong type (a number where
a list of tool calls belongs) would crash it with a 500. ``check_shape`` rejects
such a body up front with the taxonomy's ``InvalidRequest`` naming the field
path (``messages[0].tool_calls``), so every pair is protected at one boundary.

Cheap on purpose: type checks only, only on the containers and fields that are
dereferenced; ``null`` is accepted wherever a field is optional (readers treat
it as absent). Values (roles, block types, ranges) are the provider's business.
Pure: no aiohttp, no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sidecar.errors import InvalidRequest

_OBJ = (dict,)
_STR = (str,)
_LIST = (list,)
_STR_OR_LIST = (str, list)
_INT = (int,)
_NAMES: dict[type, str] = {dict: "an object", str: "a string", list: "an array", int: "an integer"}


def _fail(path: str, types: tuple[type, ...]) -> None:
    what = " or ".join(_NAMES[t] for t in types)
    raise InvalidRequest(f"`{path}`: must be {what}", param=path)


def _fields(obj: Mapping[str, Any], path: str, spec: Mapping[str, tuple[type, ...]]) -> None:
    """Each of ``obj``'s fields named in ``spec`` is null or of its types (the loop runs
    over ``obj``, usually the smaller; ``path`` is a prefix ending in "." or "")."""
    for key, value in obj.items():
        types = spec.get(key)
        if types is not None and value is not None and not isinstance(value, types):
            _fail(path + key, types)


def _objects(value: Any, path: str) -> Any:
    """``value`` (an optional array) whose items must all be objects; () when absent."""
    if value is None:
        return ()
    for i, item in enumerate(value):
        if type(item) is not dict:
            _fail(f"{path}[{i}]", _OBJ)
    return value


def _blocks(content: Any, path: str, spec: Mapping[str, tuple[type, ...]]) -> None:
    """A content array: objects, each with ``spec``'s optional fields of the given types."""
    if isinstance(content, list):
        for i, block in enumerate(_objects(content, path)):
            for key, value in block.items():
                types = spec.get(key)
                if types is not None and value is not None and not isinstance(value, types):
                    _fail(f"{path}[{i}].{key}", types)


_OPENAI_PART = {"type": _STR, "text": _STR, "refusal": _STR, "image_url": (dict, str)}
_OPENAI_MESSAGE = {"role": _STR, "content": _STR_OR_LIST, "tool_calls": _LIST,
                   "tool_call_id": _STR, "name": _STR, "reasoning_content": _STR}  # fmt: skip
_OPENAI_BODY = {"messages": _LIST, "tools": _LIST, "tool_choice": (str, dict), "stop": _STR_OR_LIST,
                "stream_options": _OBJ, "response_format": _OBJ, "user": _STR,
                "reasoning_effort": _STR, "metadata": _OBJ, "max_tokens": _INT,
                "max_completion_tokens": _INT}  # fmt: skip


def check_openai(body: Mapping[str, Any]) -> None:
    _fields(body, "", _OPENAI_BODY)
    for i, msg in enumerate(_objects(body.get("messages"), "messages")):
        for key, value in msg.items():  # the hot loop: paths are built only on failure
            types = _OPENAI_MESSAGE.get(key)
            if types is not None and value is not None and not isinstance(value, types):
                _fail(f"messages[{i}].{key}", types)
        content = msg.get("content")
        if type(content) is list:
            _blocks(content, f"messages[{i}].content", _OPENAI_PART)
        if not msg.get("tool_calls"):
            continue
        path = f"messages[{i}]"
        for j, call in enumerate(_objects(msg.get("tool_calls"), path + ".tool_calls")):
            at = f"{path}.tool_calls[{j}]."
            _fields(call, at, {"id": _STR, "type": _STR, "function": _OBJ})
            function = call.get("function") or {}
            _fields(function, at + "function.", {"name": _STR, "arguments": (str, dict)})
    _openai_tools(body.get("tools"), "tools")


def _openai_tools(tools: Any, path: str) -> None:
    for i, tool in enumerate(_objects(tools, path)):
        at = f"{path}[{i}]."
        _fields(tool, at, {"type": _STR, "function": _OBJ, "name": _STR, "parameters": _OBJ})
        function = tool.get("function") or {}
        _fields(function, at + "function.", {"name": _STR, "description": _STR,
                                             "parameters": _OBJ})  # fmt: skip


_ANTHROPIC_BLOCK = {"type": _STR, "text": _STR, "id": _STR, "name": _STR, "input": _OBJ,
                    "tool_use_id": _STR, "content": _STR_OR_LIST, "source": _OBJ,
                    "thinking": _STR, "signature": _STR, "data": _STR}  # fmt: skip
_ANTHROPIC_INNER = {"type": _STR, "text": _STR, "source": _OBJ}
_ANTHROPIC_TOOL = {"name": _STR, "type": _STR, "description": _STR, "input_schema": _OBJ}
_ANTHROPIC_BODY = {"messages": _LIST, "system": _STR_OR_LIST, "tools": _LIST,
                   "tool_choice": _OBJ, "thinking": _OBJ, "metadata": _OBJ,
                   "stop_sequences": _LIST, "max_tokens": _INT}  # fmt: skip


def check_anthropic(body: Mapping[str, Any]) -> None:
    _fields(body, "", _ANTHROPIC_BODY)
    _blocks(body.get("system"), "system", _ANTHROPIC_INNER)
    for i, msg in enumerate(_objects(body.get("messages"), "messages")):
        content = msg.get("content")  # the hot loop: paths are built only on failure
        if type(content) is list:
            for j, block in enumerate(content):
                if type(block) is not dict:
                    _fail(f"messages[{i}].content[{j}]", _OBJ)
                for key, value in block.items():
                    types = _ANTHROPIC_BLOCK.get(key)
                    if types is not None and value is not None and not isinstance(value, types):
                        _fail(f"messages[{i}].content[{j}].{key}", types)
                    if key == "content" and type(value) is list:  # tool_result content
                        _blocks(value, f"messages[{i}].content[{j}].content", _ANTHROPIC_INNER)
        elif content is not None and type(content) is not str:
            _fail(f"messages[{i}].content", _STR_OR_LIST)
        role = msg.get("role")
        if role is not None and type(role) is not str:
            _fail(f"messages[{i}].role", _STR)
    for i, tool in enumerate(_objects(body.get("tools"), "tools")):
        _fields(tool, f"tools[{i}].", _ANTHROPIC_TOOL)


_RESPONSES_ITEM = {"type": _STR, "role": _STR, "content": _STR_OR_LIST, "call_id": _STR,
                   "name": _STR, "arguments": _STR, "input": _STR,
                   "output": _STR_OR_LIST, "summary": _LIST}  # fmt: skip
_RESPONSES_PART = {"type": _STR, "text": _STR, "image_url": _STR}
_RESPONSES_BODY = {"input": _STR_OR_LIST, "instructions": _STR, "tools": _LIST,
                   "tool_choice": (str, dict), "reasoning": _OBJ, "text": _OBJ,
                   "include": _LIST, "metadata": _OBJ, "max_output_tokens": _INT}  # fmt: skip


def check_responses(body: Mapping[str, Any]) -> None:
    _fields(body, "", _RESPONSES_BODY)
    items = body.get("input")
    for i, item in enumerate(_objects(items, "input") if isinstance(items, list) else ()):
        path = f"input[{i}]"
        _fields(item, path + ".", _RESPONSES_ITEM)
        _blocks(item.get("content"), path + ".content", _RESPONSES_PART)
        _blocks(item.get("output"), path + ".output", _RESPONSES_PART)
        _blocks(item.get("summary"), path + ".summary", _RESPONSES_PART)
    _openai_tools(body.get("tools"), "tools")


def check_shape(protocol: str, body: Mapping[str, Any]) -> None:
    """Raise ``InvalidRequest`` naming the first field of the wrong type."""
    if protocol == "openai":
        check_openai(body)
    elif protocol == "anthropic":
        check_anthropic(body)
    else:
        check_responses(body)
