"""Read what a response carried (usage, tool calls, finish reason) without changing it.

A tap sees the provider's own wire form (``openai`` chat completions or
``anthropic`` messages), either a whole JSON body (``json_body``) or stream
events one by one (``feed``). ``feed`` returns True when the event carries
content (non-empty text or reasoning, a tool call, or a finish), which is what
dispatch waits for before committing the client response; an empty block
opening (Anthropic's ``content_block_start`` with ``"text": ""``) is not. The
tap parses only the events it needs; the parsed object of the last event it did
parse is left in ``last`` (None otherwise) so a relay can reuse it instead of
parsing twice.

Pure: no aiohttp, no I/O. Usage normalisation follows ``sidecar.exchange.Usage``.
"""

from __future__ import annotations

from typing import Any

import orjson

from sidecar.exchange import ToolCall, Usage
from sidecar.protocols.sse import SSEEvent

_CONTENT_KEYS = ("content", "tool_calls", "reasoning_content", "reasoning", "refusal")
_NULLABLE = tuple(
    (key, key + b":null", key + b": null") for key in (b'"usage"', b'"finish_reason"')
)


def _worth_parsing(data: bytes) -> bool:
    """False for a plain content delta (nothing the tap records beyond "content came")."""
    if b'"tool_calls"' in data or b'"error"' in data:
        return True
    for key, null, spaced in _NULLABLE:
        if key in data and null not in data and spaced not in data:
            return True
    return False


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def openai_usage(raw: dict[str, Any]) -> Usage:
    """Normalise an OpenAI ``usage`` object (cached tokens taken out of input)."""
    prompt = _int(raw.get("prompt_tokens"))
    details = raw.get("prompt_tokens_details") or {}
    cached = _int(details.get("cached_tokens")) or _int(raw.get("prompt_cache_hit_tokens"))
    written = _int(details.get("cache_write_tokens"))
    out_details = raw.get("completion_tokens_details") or {}
    return Usage(
        input_tokens=max(prompt - cached - written, 0),
        output_tokens=_int(raw.get("completion_tokens")),
        cache_read_tokens=cached,
        cache_write_tokens=written,
        reasoning_tokens=_int(out_details.get("reasoning_tokens")),
    )


def anthropic_usage(raw: dict[str, Any]) -> Usage:
    """Normalise an Anthropic ``usage`` object (5-minute / 1-hour cache writes split)."""
    created = _int(raw.get("cache_creation_input_tokens"))
    split = raw.get("cache_creation") or {}
    w5m = _int(split.get("ephemeral_5m_input_tokens"))
    w1h = _int(split.get("ephemeral_1h_input_tokens"))
    if not (w5m or w1h):
        w5m = created
    return Usage(
        input_tokens=_int(raw.get("input_tokens")),
        output_tokens=_int(raw.get("output_tokens")),
        cache_read_tokens=_int(raw.get("cache_read_input_tokens")),
        cache_write_tokens=w5m,
        cache_write_1h_tokens=w1h,
    )


class Tap:
    """Common results; subclasses know one wire form."""

    kind = "openai"

    def __init__(self) -> None:
        self.model: str | None = None  # the model id the provider reported
        self.finish_reason: str | None = None
        self.error: dict[str, Any] | None = None  # an in-stream error event's payload
        self.last: dict[str, Any] | None = None
        self._usage: dict[str, Any] = {}
        self._tools: dict[int, list[Any]] = {}  # index -> [id, name, [argument parts]]

    @property
    def has_usage(self) -> bool:
        return bool(self._usage)

    @property
    def usage(self) -> Usage:
        if not self._usage:
            return Usage()
        if self.kind == "anthropic":
            return anthropic_usage(self._usage)
        return openai_usage(self._usage)

    @property
    def tool_calls(self) -> tuple[ToolCall, ...]:
        return tuple(
            ToolCall(str(t[0] or ""), str(t[1] or ""), "".join(t[2]))
            for _, t in sorted(self._tools.items())
        )

    def json_body(self, obj: dict[str, Any]) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def feed(self, event: SSEEvent) -> bool:  # pragma: no cover - abstract
        raise NotImplementedError


class OpenAITap(Tap):
    """Chat Completions: every chunk is parsed (they all may carry tool deltas or usage)."""

    kind = "openai"

    def __init__(self) -> None:
        super().__init__()
        self._content_seen = False

    def json_body(self, obj: dict[str, Any]) -> None:
        self.model = obj.get("model") if isinstance(obj.get("model"), str) else None
        if isinstance(obj.get("usage"), dict):
            self._usage = obj["usage"]
        for choice in obj.get("choices") or ():
            if not isinstance(choice, dict):
                continue
            self.finish_reason = choice.get("finish_reason") or self.finish_reason
            message = choice.get("message") or {}
            for i, call in enumerate(message.get("tool_calls") or ()):
                fn = call.get("function") or {}
                self._tools[i] = [call.get("id"), fn.get("name"), [fn.get("arguments") or ""]]

    def feed(self, event: SSEEvent) -> bool:
        data = event.data
        if data == b"[DONE]" or not data:
            self.last = None
            return False
        if self._content_seen and not _worth_parsing(data):
            self.last = None  # a text delta once content flows: not parsed at all
            return True
        try:
            obj = orjson.loads(data)
        except orjson.JSONDecodeError:
            self.last = None
            return False
        self.last = obj if isinstance(obj, dict) else None
        if self.last is None:
            return False
        if "error" in obj:
            self.error = obj["error"] if isinstance(obj["error"], dict) else {"message": str(obj)}
            return False
        if self.model is None and isinstance(obj.get("model"), str):
            self.model = obj["model"]
        if isinstance(obj.get("usage"), dict):
            self._usage = obj["usage"]
        content = False
        for choice in obj.get("choices") or ():
            delta = choice.get("delta") or {}
            if choice.get("finish_reason"):
                self.finish_reason = choice["finish_reason"]
                content = True
            for key in _CONTENT_KEYS:
                if delta.get(key):
                    content = True
            for call in delta.get("tool_calls") or ():
                self._tool_delta(call)
        self._content_seen = self._content_seen or content
        return content

    def _tool_delta(self, call: dict[str, Any]) -> None:
        index = call.get("index", len(self._tools))
        slot = self._tools.setdefault(index, [None, None, []])
        fn = call.get("function") or {}
        if call.get("id"):
            slot[0] = call["id"]
        if fn.get("name"):
            slot[1] = fn["name"]
        if fn.get("arguments"):
            slot[2].append(fn["arguments"])


class AnthropicTap(Tap):
    """Messages: text deltas are not parsed; only events that carry usage, tools or errors."""

    kind = "anthropic"

    def json_body(self, obj: dict[str, Any]) -> None:
        self.model = obj.get("model") if isinstance(obj.get("model"), str) else None
        if isinstance(obj.get("usage"), dict):
            self._usage = obj["usage"]
        self.finish_reason = obj.get("stop_reason")
        for i, block in enumerate(obj.get("content") or ()):
            if isinstance(block, dict) and block.get("type") == "tool_use":
                args = orjson.dumps(block.get("input", {})).decode()
                self._tools[i] = [block.get("id"), block.get("name"), [args]]

    def feed(self, event: SSEEvent) -> bool:
        self.last = None
        name = event.event
        if name == "content_block_delta":
            if b"input_json_delta" in event.data:
                obj = self._parse(event)
                delta = obj.get("delta") or {}
                slot = self._tools.get(obj.get("index", -1))
                if slot is not None:
                    slot[2].append(delta.get("partial_json") or "")
                return True
            data = event.data  # an empty text or thinking delta is not content yet
            return b'"text":""' not in data and b'"thinking":""' not in data
        if name == "content_block_start":
            return self._block_start(event)
        if name == "message_start":
            message = self._parse(event).get("message") or {}
            self.model = message.get("model") if isinstance(message.get("model"), str) else None
            if isinstance(message.get("usage"), dict):
                self._usage = dict(message["usage"])
        elif name == "message_delta":  # a finish counts as content (an empty answer is one)
            obj = self._parse(event)
            stop = (obj.get("delta") or {}).get("stop_reason")
            self.finish_reason = stop or self.finish_reason
            for key, value in (obj.get("usage") or {}).items():
                if value is not None:
                    self._usage[key] = value
            return bool(stop)
        elif name == "error":
            err = self._parse(event).get("error")
            self.error = err if isinstance(err, dict) else {"message": event.data.decode()}
        return False

    def _block_start(self, event: SSEEvent) -> bool:
        """A tool call (or redacted thinking) starting is content; the usual empty text or
        thinking block opening is not (a stall right after it is still retryable)."""
        data = event.data
        if b"tool_use" not in data and b"redacted_thinking" not in data:
            if b'"text":""' in data or b'"thinking":""' in data:
                return False  # the common case, without parsing
        obj = self._parse(event)
        block = obj.get("content_block")
        if not isinstance(block, dict):
            return False
        kind = block.get("type")
        if kind in ("tool_use", "server_tool_use"):
            index = obj.get("index", len(self._tools))
            self._tools[index] = [block.get("id"), block.get("name"), []]
            return True
        if kind == "redacted_thinking":
            return True
        return bool(block.get("text") or block.get("thinking"))

    def _parse(self, event: SSEEvent) -> dict[str, Any]:
        try:
            obj = orjson.loads(event.data)
        except orjson.JSONDecodeError:
            obj = None
        self.last = obj if isinstance(obj, dict) else None
        return self.last or {}


def make_tap(kind: str) -> Tap:
    """A fresh tap for a provider wire form (``openai`` or ``anthropic``)."""
    return AnthropicTap() if kind == "anthropic" else OpenAITap()
