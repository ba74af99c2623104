"""Re-encode an OpenAI chat-completions stream as an Anthropic messages stream.

Event by event, nothing buffered but the open block's bookkeeping:

- the first chunk -> ``message_start`` (usage: the context's prompt estimate,
  the real counts follow in ``message_delta``) and a ``ping``;
- ``reasoning_content`` / ``reasoning`` deltas -> a ``thinking`` block
  (``thinking_delta``; the empty signature marks it as not Anthropic-issued);
  Claude's signature in OpenRouter's ``reasoning_details`` -> ``signature_delta``
  on the open thinking block (tagged with the provider; dropped if no thinking
  block is open, since it would sign the wrong text), its redacted thinking -> a
  ``redacted_thinking`` block (``translate_reasoning``);
- ``content`` deltas -> a ``text`` block (``text_delta``);
- ``tool_calls`` deltas -> one ``tool_use`` block per OpenAI tool index
  (``input_json_delta``); arguments may arrive in pieces or whole in one chunk,
  and pieces of parallel calls may interleave: ``ToolOrder`` streams one call
  live and holds the others' pieces until it is complete (blocks stay contiguous,
  no piece is dropped);
- ``finish_reason`` closes the open block; the usage chunk (or ``[DONE]``, or
  ``close()``) ends the message: ``message_delta`` with stop_reason and the
  full usage (input, cache read/write, output), then ``message_stop``;
- an ``error`` object in the stream -> an Anthropic ``error`` event.

A block is closed before the next one opens (Anthropic blocks never
interleave); text or thinking after tool calls first sends the held calls.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sidecar.exchange import Usage
from sidecar.protocols import anthropic as wa
from sidecar.protocols import openai as wo
from sidecar.protocols.translate import DONE, EventData, TranslateContext, event_object
from sidecar.protocols.translate_reasoning import StreamSignatures
from sidecar.protocols.translate_toolorder import Step, ToolOrder


class OpenAIToAnthropicStream:
    """Stateful per response; see the module docstring for the mapping."""

    def __init__(self, ctx: TranslateContext) -> None:
        self._ctx = ctx
        self._started = False
        self._done = False
        self._index = -1  # Anthropic index of the open block, -1: none open
        self._open: str | None = None  # "text" | "thinking" | "tool:<n>"
        self._order = ToolOrder()  # parallel tool calls, made contiguous
        self._signatures = StreamSignatures(ctx.provider)
        self._next = 0
        self._stop: str | None = None
        self._usage: Usage | None = None

    # -- public -------------------------------------------------------------
    def feed(self, name: str | None, data: EventData) -> list[bytes]:
        if self._done:
            return []
        obj = event_object(data)
        if obj == DONE:
            return self._finish()
        if not isinstance(obj, Mapping):
            return []
        if obj.get("error"):
            return self._error(obj)
        out = self._start(obj)
        for choice in obj.get("choices") or []:
            if isinstance(choice, Mapping):
                out += self._choice(choice)
        if obj.get("usage"):
            self._usage = wo.usage_from_openai(obj["usage"])
        return out

    def close(self) -> list[bytes]:
        return [] if self._done else self._finish()

    # -- steps ----------------------------------------------------------------
    def _start(self, obj: Mapping[str, Any]) -> list[bytes]:
        if self._started:
            return []
        self._started = True
        upstream_id = str(obj.get("id") or self._ctx.request_id)
        message: dict[str, Any] = {
            "id": upstream_id if upstream_id.startswith("msg_") else "msg_" + upstream_id,
            "type": "message",
            "role": "assistant",
            "model": self._ctx.model_name or str(obj.get("model", "")),
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": {
                "input_tokens": self._ctx.prompt_estimate,
                "cache_creation_input_tokens": 0,
                "cache_read_input_tokens": 0,
                "output_tokens": 1,
            },
        }
        return [
            wa.sse_event({"type": "message_start", "message": message}),
            wa.sse_event({"type": "ping"}),
        ]

    def _choice(self, choice: Mapping[str, Any]) -> list[bytes]:
        out: list[bytes] = []
        delta = choice.get("delta") or {}
        reasoning = wo.reasoning_text(delta)
        if reasoning:
            out += self._steps(self._order.flush())
            out += self._block("thinking", {"type": "thinking", "thinking": "", "signature": ""})
            out.append(self._delta({"type": "thinking_delta", "thinking": reasoning}))
        if "reasoning_details" in delta:
            out += self._signed(delta)
        text = delta.get("content")
        if isinstance(text, str) and text:
            out += self._steps(self._order.flush())
            out += self._block("text", {"type": "text", "text": ""})
            out.append(self._delta({"type": "text_delta", "text": text}))
        for pos, call in enumerate(delta.get("tool_calls") or []):
            if isinstance(call, Mapping):
                out += self._steps(self._order.feed_delta(pos, call))
        finish = choice.get("finish_reason")
        if finish:
            out += self._steps(self._order.flush())
            out += self._close_block()
            self._stop = wa.STOP_FROM_OPENAI.get(str(finish), "end_turn")
        return out

    def _signed(self, delta: Mapping[str, Any]) -> list[bytes]:
        """Claude's signature ends the open thinking block; redacted thinking is a block."""
        signatures, redacted = self._signatures.feed(delta)
        out: list[bytes] = []
        for signature in signatures:
            if self._open == "thinking":
                out.append(self._delta({"type": "signature_delta", "signature": signature}))
                self._open = "thinking:signed"  # more reasoning opens a new block
        for data in redacted:
            out += self._steps(self._order.flush())
            out += self._block("redacted", {"type": "redacted_thinking", "data": data}, True)
            out += self._close_block()
        return out

    def _steps(self, steps: list[Step]) -> list[bytes]:
        """Anthropic events for ``ToolOrder`` steps: a ``tool_use`` block per call."""
        out: list[bytes] = []
        for step in steps:
            if step.kind == "open":
                call_id = step.call.call_id or f"toolu_{self._ctx.request_id}_{step.call.index}"
                block = {
                    "type": "tool_use",
                    "id": wa.tool_id(call_id),
                    "name": step.call.name,
                    "input": {},
                }
                out += self._block(f"tool:{step.call.index}", block, force=True)
            elif step.kind == "args":
                out.append(self._delta({"type": "input_json_delta", "partial_json": step.text}))
            else:
                out += self._close_block()
        return out

    def _block(self, kind: str, block: dict[str, Any], force: bool = False) -> list[bytes]:
        """Open a block of ``kind`` unless it is the open one (``force``: always new)."""
        if self._open == kind and not force:
            return []
        out = self._close_block()
        self._index = self._next
        self._next += 1
        self._open = kind
        out.append(
            wa.sse_event(
                {"type": "content_block_start", "index": self._index, "content_block": block}
            )
        )
        return out

    def _delta(self, delta: dict[str, Any]) -> bytes:
        return wa.sse_event({"type": "content_block_delta", "index": self._index, "delta": delta})

    def _close_block(self) -> list[bytes]:
        if self._open is None:
            return []
        self._open = None
        return [wa.sse_event({"type": "content_block_stop", "index": self._index})]

    def _finish(self) -> list[bytes]:
        out = self._start({})
        out += self._steps(self._order.flush())
        out += self._close_block()
        self._done = True
        stop = self._stop or "end_turn"
        if stop == "end_turn" and self._order.calls:
            stop = "tool_use"
        usage = self._usage or Usage(input_tokens=self._ctx.prompt_estimate, estimated=True)
        out.append(
            wa.sse_event(
                {
                    "type": "message_delta",
                    "delta": {"stop_reason": stop, "stop_sequence": None},
                    "usage": wa.usage_to_anthropic(usage),
                }
            )
        )
        out.append(wa.sse_event({"type": "message_stop"}))
        return out

    def _error(self, obj: Mapping[str, Any]) -> list[bytes]:
        self._done = True
        message = wo.error_message(obj)
        error = {"type": "error", "error": {"type": "api_error", "message": message}}
        return [wa.sse_event(error)]
