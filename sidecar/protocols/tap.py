"""Read what a response carried (usage, tool calls, finish reason) without changing it.

A tap sees the provider's own wire form (``openai`` chat completions or
``anthropic`` messages), either a whole JSON body (``json_body``) or stream
events one by one (``feed``). ``feed`` returns True when the event carries
content (non-empty text or reasoning, a tool call, or a finish), which is what
dispatch waits for before committing the client response; an empty block
opening (Anthropic's ``content_block_start`` with ``"text": ""``) is not. The
OpenAI tap parses every chunk (cheaper than scanning for what would need it); the
Anthropic tap parses only the events it needs. The parsed object of the last event
parsed is left in ``last`` (None otherwise) so a relay can reuse it instead of
parsing twice.

Output received is counted as it passes (``received``: characters of text,
reasoning and tool-argument deltas; located with ``bytes.find`` in the Anthropic
text deltas it does not parse; runs of plain OpenAI text deltas are counted only
when ``received`` is read, which ``usage`` does only when the final usage never came:
the regex over every run cost more than the rest of the relay). A response that
ends (normally or aborted) without its final usage gets ``usage`` with output
estimated as received / 4 and ``estimated=True``; input stays what the provider
reported, if anything (the recorder estimates it from the request otherwise).

Pure: no aiohttp, no I/O. Usage normalisation follows ``sidecar.exchange.Usage``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

import orjson

from sidecar.exchange import ToolCall, Usage
from sidecar.protocols import plain
from sidecar.protocols.plain import escaped
from sidecar.protocols.sse import SSEEvent

_OPENAI_KEYS = ("content", "reasoning_content", "reasoning", "refusal")
_OPENAI_TEXT_KEYS = frozenset(_OPENAI_KEYS)
_ANTHROPIC_TEXT = (b'"text":"', b'"thinking":"')
BYTES_PER_TOKEN = 4  # output estimate when usage never came
_HOLD_MAX = 256 * 1024  # plain-run bytes held uncounted per stream, at most


def _string_len(data: bytes, keys: tuple[bytes, ...]) -> int:
    """Bytes of the JSON string values after ``keys`` (escapes counted as written), found
    without parsing: each key's first occurrence up to the next unescaped quote."""
    total = 0
    for key in keys:
        start = data.find(key)
        if start < 0:
            continue
        start += len(key)
        end = data.find(b'"', start)
        while end > 0 and escaped(data, end):
            end = data.find(b'"', end + 1)
        total += (end if end > 0 else len(data)) - start
    return total


def _text_len(obj: dict[str, Any], keys: tuple[str, ...]) -> int:
    return sum(len(v) for k in keys if isinstance(v := obj.get(k), str))


def _int(value: Any) -> int:
    """A JSON integer (bools are not counts), else 0."""
    return value if type(value) is int else 0


def openai_usage(raw: dict[str, Any]) -> Usage:
    """Normalise an OpenAI ``usage`` object (cached tokens taken out of input)."""
    prompt = _int(raw.get("prompt_tokens"))
    details = raw.get("prompt_tokens_details")
    cached = written = 0
    if details:
        cached = _int(details.get("cached_tokens"))
        if "cache_write_tokens" in details:  # (rare) a call less for the usual report
            written = _int(details["cache_write_tokens"])
    if not cached and "prompt_cache_hit_tokens" in raw:
        cached = _int(raw["prompt_cache_hit_tokens"])
    out_details = raw.get("completion_tokens_details")
    reasoning = _int(out_details.get("reasoning_tokens")) if out_details else 0
    output = _int(raw.get("completion_tokens"))
    # positional (Usage's field order): keywords cost a NamedTuple ~700 instructions each
    return Usage(max(prompt - cached - written, 0), output, cached, written, 0, reasoning)


def anthropic_usage(raw: dict[str, Any]) -> Usage:
    """Normalise an Anthropic ``usage`` object (5-minute / 1-hour cache writes split)."""
    created = _int(raw.get("cache_creation_input_tokens"))
    split = raw.get("cache_creation") or {}
    w5m = _int(split.get("ephemeral_5m_input_tokens"))
    w1h = _int(split.get("ephemeral_1h_input_tokens"))
    if not (w5m or w1h):
        w5m = created
    inputs, output = _int(raw.get("input_tokens")), _int(raw.get("output_tokens"))
    return Usage(inputs, output, _int(raw.get("cache_read_input_tokens")), w5m, w1h)


class Tap(ABC):
    """Common results; subclasses know one wire form."""

    kind = "openai"

    def __init__(self) -> None:
        self.model: str | None = None  # the model id the provider reported
        self.finish_reason: str | None = None
        self.error: dict[str, Any] | None = None  # an in-stream error event's payload
        self.last: dict[str, Any] | None = None
        self._counted = 0  # output characters counted as events were read
        self._held: list[bytes] = []  # plain runs not counted yet (see ``count_plain``)
        self._held_size = 0
        self._usage: dict[str, Any] = {}
        self._final = False  # the response's final usage arrived
        self._tools: dict[int, list[Any]] = {}  # index -> [id, name, [argument parts]]

    @property
    def received(self) -> int:
        """Output characters seen (text, reasoning, tool arguments), plain runs included."""
        if self._held:
            self._settle()
        return self._counted

    def _settle(self) -> None:
        """Count the plain runs held by ``count_plain``."""
        held, self._held, self._held_size = self._held, [], 0
        for data in held:
            self._counted += self._plain_chars(data)

    def _plain_chars(self, data: bytes) -> int:
        """Output characters in a plain run (the subclass that accepts runs knows how)."""
        return 0

    @property
    def has_usage(self) -> bool:
        return bool(self._usage)

    @property
    def usage(self) -> Usage:
        """The provider's usage; without its final report, output is estimated from what
        was received (``estimated=True``)."""
        if not self._usage:
            reported = Usage()
        elif self.kind == "anthropic":
            reported = anthropic_usage(self._usage)
        else:
            reported = openai_usage(self._usage)
        if self._final or not self.received:
            return reported
        guess = -(-self.received // BYTES_PER_TOKEN)
        return reported._replace(output_tokens=max(reported.output_tokens, guess), estimated=True)

    @property
    def tool_calls(self) -> tuple[ToolCall, ...]:
        if not self._tools:
            return ()
        return tuple(
            ToolCall(str(t[0] or ""), str(t[1] or ""), "".join(t[2]))
            for _, t in sorted(self._tools.items())
        )

    @abstractmethod
    def json_body(self, obj: dict[str, Any]) -> None:
        """Read a whole (non-streamed) response body."""

    def plain_prefix(self, data: bytes) -> int:
        """Length of the leading run of whole events in ``data`` that can only be plain
        text deltas (0: none); pure. ``count_plain`` then accounts for that run."""
        return 0

    def count_plain(self, data: bytes) -> None:
        """Account for a run ``plain_prefix`` measured; never called while it returns 0.

        Its characters only matter when the final usage never comes, so the run is held
        (a reference to bytes being forwarded anyway) and counted when ``received`` is
        read; past ``_HOLD_MAX`` held bytes they are counted at once (memory stays
        bounded on a long stream)."""
        self.last = None
        self._held.append(data)
        self._held_size += len(data)
        if self._held_size > _HOLD_MAX:
            self._settle()

    @abstractmethod
    def feed(self, event: SSEEvent) -> bool:
        """Read one streamed event; True when it carried content."""


class OpenAITap(Tap):
    """Chat Completions: every chunk is parsed (they all may carry tool deltas or usage),
    except runs ``plain_prefix`` accepts (see there)."""

    kind = "openai"

    def __init__(self) -> None:
        super().__init__()
        self._template: tuple[bytes, bytes] | None = None  # plain event: before, after text

    def json_body(self, obj: dict[str, Any]) -> None:
        self.model = obj.get("model") if isinstance(obj.get("model"), str) else None
        if isinstance(obj.get("usage"), dict):
            self._usage = obj["usage"]
            self._final = True
        for choice in obj.get("choices") or ():
            if not isinstance(choice, dict):
                continue
            self.finish_reason = choice.get("finish_reason") or self.finish_reason
            message = choice.get("message") or {}
            self._counted += _text_len(message, _OPENAI_KEYS)
            for i, call in enumerate(message.get("tool_calls") or ()):
                fn = call.get("function") or {}
                self._tools[i] = [call.get("id"), fn.get("name"), [fn.get("arguments") or ""]]
                self._counted += _text_len(fn, ("arguments",))

    def feed(self, event: SSEEvent) -> bool:
        """Every chunk is parsed: one ``orjson.loads`` of a chunk costs less than
        scanning it for the keys that would make parsing necessary."""
        data = event.data
        if data == b"[DONE]" or not data:
            self.last = None
            return False
        try:
            obj = orjson.loads(data)
        except orjson.JSONDecodeError:
            self.last = None
            return False
        if type(obj) is not dict:
            self.last = None
            return False
        self.last = obj
        if "error" in obj:
            self.error = obj["error"] if isinstance(obj["error"], dict) else {"message": str(obj)}
            return False
        if self.model is None and isinstance(obj.get("model"), str):
            self.model = obj["model"]
        usage = obj.get("usage")
        if isinstance(usage, dict):
            self._usage = usage
            self._final = True
        content = False
        for choice in obj.get("choices") or ():
            if choice.get("finish_reason"):
                self.finish_reason = choice["finish_reason"]
                content = True
            delta = choice.get("delta")
            if not delta:
                continue
            for key, value in delta.items():  # usually one or two keys
                if not value:
                    continue
                if key in _OPENAI_TEXT_KEYS:
                    content = True
                    if isinstance(value, str):
                        self._counted += len(value)
                elif key == "tool_calls":
                    content = True
                    for call in value:
                        self._tool_delta(call)
        if content and self._template is None:
            self._template = plain.template(event.raw, obj)
        return content

    def plain_prefix(self, data: bytes) -> int:
        """``data`` holds whole events (it starts at one and ends after a blank line); the
        leading ones with no tool call, non-null finish reason, usage object, error,
        comment or named event only matter for their text lengths.

        Providers write every text delta of a stream alike but for the text, so the first
        one read (``plain.template``: the bytes around its text) usually describes
        the whole run: then rebuilding the run from its texts proves it (copies and
        one compare). Otherwise each marker that would need a parse is
        looked for (a C-level scan per marker)."""
        if not data.startswith(b"data: "):
            return 0
        if self._template is not None:
            cut = plain.template_cut(data, *self._template)
            if cut:
                return cut
        return plain.marker_cut(data)

    def _plain_chars(self, data: bytes) -> int:
        return plain.text_chars(data)

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
            self._counted += len(fn["arguments"])


class AnthropicTap(Tap):
    """Messages: text deltas are not parsed; only events that carry usage, tools or errors."""

    kind = "anthropic"

    def json_body(self, obj: dict[str, Any]) -> None:
        self.model = obj.get("model") if isinstance(obj.get("model"), str) else None
        if isinstance(obj.get("usage"), dict):
            self._usage = obj["usage"]
            self._final = True
        self.finish_reason = obj.get("stop_reason")
        for i, block in enumerate(obj.get("content") or ()):
            if not isinstance(block, dict):
                continue
            self._counted += _text_len(block, ("text", "thinking"))
            if block.get("type") == "tool_use":
                args = orjson.dumps(block.get("input", {})).decode()
                self._tools[i] = [block.get("id"), block.get("name"), [args]]
                self._counted += len(args)

    def feed(self, event: SSEEvent) -> bool:
        self.last = None
        name = event.event
        if name == "content_block_delta":
            # ``find``, not ``in``: see ``sidecar.protocols.sse``
            if event.data.find(b"input_json_delta") >= 0:
                obj = self._parse(event)
                delta = obj.get("delta") or {}
                slot = self._tools.get(obj.get("index", -1))
                partial = delta.get("partial_json") or ""
                self._counted += len(partial)
                if slot is not None:
                    slot[2].append(partial)
                return True
            data = event.data  # an empty text or thinking delta is not content yet
            self._counted += _string_len(data, _ANTHROPIC_TEXT)
            return data.find(b'"text":""') < 0 and data.find(b'"thinking":""') < 0
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
                    self._final = True
            return bool(stop)
        elif name == "error":
            err = self._parse(event).get("error")
            self.error = err if isinstance(err, dict) else {"message": event.data.decode()}
        return False

    def _block_start(self, event: SSEEvent) -> bool:
        """A tool call (or redacted thinking) starting is content; the usual empty text or
        thinking block opening is not (a stall right after it is still retryable)."""
        data = event.data
        if data.find(b"tool_use") < 0 and data.find(b"redacted_thinking") < 0:
            if data.find(b'"text":""') >= 0 or data.find(b'"thinking":""') >= 0:
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
