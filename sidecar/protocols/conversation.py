"""A read-only view over a request body in its wire form.

``Conversation.from_body(protocol, body)`` never copies or mutates ``body``.
Building it is O(1): each raw message/item is decoded into a ``Message`` the
first time it is asked for and cached, so a caller that only reads the
messages it has not seen before (the router keeps a per-session cursor) pays
for those alone. ``messages`` decodes everything (once).

Mapping (one ``Message`` per raw wire entry, same index, so cursors line up):

- ``openai`` (chat completions): ``body["messages"]``; roles ``system`` and
  ``developer`` become role ``"system"``; role ``tool`` messages carry one
  ``ToolResult``; assistant ``tool_calls`` become ``ToolCall``s.
- ``anthropic`` (messages): ``body["system"]`` is the system text;
  ``tool_use`` blocks are tool calls, ``tool_result`` blocks (inside user
  messages) are tool results; ``thinking`` blocks are ignored.
- ``responses`` (OpenAI Responses API): ``body["instructions"]`` plus leading
  system/developer items are the system text; ``input`` may be a string (one
  user message) or a list of items: messages, ``function_call`` /
  ``custom_tool_call`` / ``local_shell_call`` (role ``"assistant"``, one tool
  call), ``*_call_output`` (role ``"tool"``, one tool result); ``reasoning``
  and unknown items give an empty message of role ``"other"``.

Roles are therefore ``system | user | assistant | tool | other``. The view is
tolerant: malformed entries decode to empty messages rather than raising.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any, NamedTuple

import orjson

from sidecar.exchange import Protocol, ToolCall
from sidecar.protocols.responses import flat_name

__all__ = ["Conversation", "Message", "ToolCall", "ToolResult"]

_IMAGE_TYPES = frozenset({"image", "image_url", "input_image"})
_TEXT_TYPES = frozenset({"text", "input_text", "output_text"})


class ToolResult(NamedTuple):
    """The result of an earlier tool call, as the client sent it back."""

    id: str
    text: str
    is_error: bool = False


class Message(NamedTuple):
    role: str  # system | user | assistant | tool | other
    text: str = ""
    tool_calls: tuple[ToolCall, ...] = ()
    tool_results: tuple[ToolResult, ...] = ()
    images: int = 0


_EMPTY = Message(role="other")


def _s(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _json(value: Any) -> str:
    if isinstance(value, str):
        return value
    try:
        return orjson.dumps(value).decode()
    except TypeError:
        return ""


def _parts_text(content: Any) -> tuple[str, int]:
    """Text and image count of a content value: a string or a list of parts."""
    if isinstance(content, str):
        return content, 0
    if not isinstance(content, list):
        return "", 0
    texts: list[str] = []
    images = 0
    for part in content:
        if isinstance(part, str):
            texts.append(part)
        elif isinstance(part, dict):
            kind = part.get("type")
            if not isinstance(kind, str | None):
                continue  # malformed part (an unhashable "type" would raise below)
            if kind in _TEXT_TYPES or (kind is None and "text" in part):
                texts.append(_s(part.get("text")))
            elif kind in _IMAGE_TYPES:
                images += 1
    return "\n".join(t for t in texts if t), images


# -- openai chat completions -------------------------------------------------


def _openai_message(raw: Any) -> Message:
    if not isinstance(raw, dict):
        return _EMPTY
    role = raw.get("role")
    content = raw.get("content")
    if (role == "user" or role == "assistant") and isinstance(content, str):
        if not raw.get("tool_calls"):  # the common shape: plain text, nothing else to decode
            # (tuple.__new__: Message(role, content) without the generated __new__'s frame)
            return tuple.__new__(Message, (role, content, (), (), 0))
    role = _s(role)
    text, images = _parts_text(content)
    if role in ("system", "developer"):
        return Message("system", text)
    if role == "tool":
        result = ToolResult(_s(raw.get("tool_call_id")), text, False)
        return Message("tool", "", (), (result,), images)
    calls: tuple[ToolCall, ...] = ()
    raw_calls = raw.get("tool_calls")
    if isinstance(raw_calls, list):
        calls = tuple(_openai_call(c) for c in raw_calls if isinstance(c, dict))
    if role not in ("user", "assistant"):
        role = "other" if role != "function" else "tool"
    return Message(role, text, calls, (), images)


def _openai_call(call: Mapping[str, Any]) -> ToolCall:
    fn = call.get("function")
    fn = fn if isinstance(fn, dict) else {}
    return ToolCall(_s(call.get("id")), _s(fn.get("name")), _json(fn.get("arguments", "")))


# -- anthropic messages ------------------------------------------------------


def _anthropic_message(raw: Any) -> Message:
    if not isinstance(raw, dict):
        return _EMPTY
    role = _s(raw.get("role"))
    role = role if role in ("user", "assistant") else "other"
    content = raw.get("content")
    if isinstance(content, str):
        return Message(role, content)
    if not isinstance(content, list):
        return Message(role)
    texts: list[str] = []
    calls: list[ToolCall] = []
    results: list[ToolResult] = []
    images = 0
    for block in content:
        if not isinstance(block, dict):
            continue
        kind = block.get("type")
        if kind == "text":
            texts.append(_s(block.get("text")))
        elif kind == "image":
            images += 1
        elif kind in ("tool_use", "server_tool_use"):
            calls.append(
                ToolCall(_s(block.get("id")), _s(block.get("name")), _json(block.get("input", {})))
            )
        elif kind == "tool_result":
            text, imgs = _parts_text(block.get("content"))
            images += imgs
            results.append(
                ToolResult(_s(block.get("tool_use_id")), text, block.get("is_error") is True)
            )
    text = "\n".join(t for t in texts if t)
    return Message(role, text, tuple(calls), tuple(results), images)


def _anthropic_system(body: Mapping[str, Any]) -> str:
    return _parts_text(body.get("system"))[0]


# -- openai responses --------------------------------------------------------

_CALL_ITEMS = {"function_call": "arguments", "custom_tool_call": "input"}
_OUTPUT_ITEMS = frozenset(
    {"function_call_output", "custom_tool_call_output", "local_shell_call_output"}
)


def _responses_item(raw: Any) -> Message:
    if isinstance(raw, str):
        return Message("user", raw)
    if not isinstance(raw, dict):
        return _EMPTY
    kind = raw.get("type")
    if not isinstance(kind, str | None):
        return _EMPTY  # malformed item (an unhashable "type" would raise below)
    if kind in (None, "message"):
        role = _s(raw.get("role"))
        text, images = _parts_text(raw.get("content"))
        if role in ("system", "developer"):
            return Message("system", text)
        return Message(role if role in ("user", "assistant") else "other", text, (), (), images)
    call_id = _s(raw.get("call_id")) or _s(raw.get("id"))
    if kind in _CALL_ITEMS:
        args = _json(raw.get(_CALL_ITEMS[kind], ""))
        return Message("assistant", "", (ToolCall(call_id, _s(raw.get("name")), args),))
    if kind == "local_shell_call":
        call = ToolCall(call_id, "local_shell", _json(raw.get("action")))
        return Message("assistant", "", (call,))
    if kind in _OUTPUT_ITEMS:
        output = raw.get("output")
        text, images = _parts_text(output) if not isinstance(output, dict) else ("", 0)
        return Message("tool", "", (), (ToolResult(call_id, text, False),), images)
    return _EMPTY


_DECODERS = {
    "openai": _openai_message,
    "anthropic": _anthropic_message,
    "responses": _responses_item,
}


class Conversation:
    """Lazy, read-only view over one request body (see the module docstring).

    Not thread-safe (it caches decoded messages); build one per request.
    """

    __slots__ = ("protocol", "_body", "_raw", "_cache", "_decode", "_system", "_tools")

    def __init__(self, protocol: Protocol, body: Mapping[str, Any]) -> None:
        self.protocol: Protocol = protocol
        self._body = body
        raw: Any
        if protocol == "responses":
            raw = body.get("input")
            raw = [raw] if isinstance(raw, str) else raw
        else:
            raw = body.get("messages")
        self._raw: Sequence[Any] = raw if isinstance(raw, list) else []
        self._cache: list[Message | None] = [None] * len(self._raw)
        self._decode = _DECODERS[protocol]
        self._system: str | None = None
        self._tools: tuple[str, ...] | None = None

    @classmethod
    def from_body(cls, protocol: Protocol, body: Mapping[str, Any]) -> Conversation:
        if protocol not in _DECODERS:
            raise ValueError(f"unknown protocol {protocol!r}")
        return cls(protocol, body if isinstance(body, dict) else {})

    def __len__(self) -> int:
        return len(self._raw)

    def message(self, index: int) -> Message:
        """The decoded message at ``index`` (negative indexes allowed)."""
        if index < 0:
            index += len(self._raw)
        cached = self._cache[index]
        if cached is None:
            cached = self._decode(self._raw[index])
            self._cache[index] = cached
        return cached

    def iter_from(self, start: int) -> Iterator[Message]:
        """Messages from index ``start`` on (decoding only those)."""
        for i in range(max(start, 0), len(self._raw)):
            yield self.message(i)

    @property
    def messages(self) -> tuple[Message, ...]:
        return tuple(self.iter_from(0))

    @property
    def system(self) -> str:
        """Top-level system text plus leading system/developer messages."""
        if self._system is None:
            parts: list[str] = []
            if self.protocol == "anthropic":
                parts.append(_anthropic_system(self._body))
            elif self.protocol == "responses":
                parts.append(_s(self._body.get("instructions")))
            for raw in self._raw:  # raw access: no Message is built for this
                if not isinstance(raw, dict) or raw.get("role") not in ("system", "developer"):
                    break
                if raw.get("type", "message") == "message":
                    content = raw.get("content")
                    parts.append(content if isinstance(content, str) else _parts_text(content)[0])
            if "" in parts:
                parts = [p for p in parts if p]
            self._system = parts[0] if len(parts) == 1 else "\n".join(parts)
        return self._system

    def first_user_text(self, limit: int = 8) -> str:
        """Text of the first user message among the first ``limit`` entries ('' if none)."""
        for raw in self._raw[:limit]:
            if isinstance(raw, str):
                return raw
            if isinstance(raw, dict) and raw.get("role") == "user":
                content = raw.get("content")
                text = content if isinstance(content, str) else _parts_text(content)[0]
                if text:
                    return text
        return ""

    @property
    def last_user_text(self) -> str:
        """Text of the last user message that has text ('' if none).

        A user message carrying only tool results (an agent follow-up) is
        skipped, so this is the latest instruction a human (or a parent agent)
        wrote.
        """
        for i in range(len(self._raw) - 1, -1, -1):
            msg = self.message(i)
            if msg.role == "user" and msg.text:
                return msg.text
        return ""

    @property
    def last(self) -> Message | None:
        if not self._raw:
            return None
        cached = self._cache[-1]
        if cached is None:
            cached = self._cache[-1] = self._decode(self._raw[-1])
        return cached

    @property
    def tools(self) -> tuple[str, ...]:
        """Names of the tools the request offers the model.

        Responses requests may also declare tools in ``additional_tools`` input
        items (Codex 0.169 with a model it knows); those follow ``tools``. A
        ``namespace``'s tools are listed by the name the model sees after
        translation (``namespace__name``; bare in the default ``functions``).
        """
        if self._tools is None:
            names: list[str] = []
            _tool_names(self._body.get("tools"), names, None)
            if self.protocol == "responses":
                for raw in self._raw:
                    if isinstance(raw, dict) and raw.get("type") == "additional_tools":
                        _tool_names(raw.get("tools"), names, None)
            self._tools = tuple(names)
        return self._tools


def _tool_names(raw: Any, names: list[str], namespace: str | None) -> None:
    """Append the names of the tool declarations in ``raw`` (namespaces one level deep)."""
    if not isinstance(raw, list):
        return
    for tool in raw:
        if not isinstance(tool, dict):
            continue
        if namespace is None and tool.get("type") == "namespace":
            _tool_names(tool.get("tools"), names, _s(tool.get("name")))
            continue
        fn = tool.get("function")
        name = fn.get("name") if isinstance(fn, dict) else tool.get("name")
        if not isinstance(name, str):
            name = _s(tool.get("type"))
        if name:
            names.append(flat_name(namespace, name))
