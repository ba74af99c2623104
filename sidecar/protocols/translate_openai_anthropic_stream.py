"""Re-encode an Anthropic messages stream as an OpenAI chat-completions stream.

Event by event:

- ``message_start`` -> the role chunk (``{"role": "assistant", "content": ""}``);
  its usage (input, cache read/write) is remembered;
- ``text_delta`` -> ``content`` deltas; ``thinking_delta`` -> ``reasoning_content``
  deltas (signatures are dropped);
- ``tool_use`` block start -> a ``tool_calls`` delta with index, id, name and
  empty arguments; ``input_json_delta`` -> argument pieces for that index
  (tool indexes count tool calls only, from 0);
- ``message_delta`` -> the ``finish_reason`` chunk; its usage updates output
  (and, when present, input and cache) counts;
- ``message_stop`` (or ``close()``) -> the usage chunk (empty ``choices``) when
  the client asked for ``stream_options.include_usage``, then ``[DONE]``;
- ``error`` -> an ``{"error": ...}`` chunk and ``[DONE]``; ``ping`` is dropped.

``chunks()`` exposes the same mapping as chunk dicts (no bytes) so the
Responses translator can stack on top of it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sidecar.exchange import Usage
from sidecar.protocols import anthropic as wa
from sidecar.protocols import openai as wo
from sidecar.protocols.translate import EventData, TranslateContext, event_object

Chunk = dict[str, Any]


class AnthropicToOpenAIStream:
    """Stateful per response; see the module docstring for the mapping."""

    def __init__(self, ctx: TranslateContext, include_usage: bool | None = None) -> None:
        self._ctx = ctx
        self._usage_wanted = ctx.include_usage if include_usage is None else include_usage
        self._id = "chatcmpl-" + ctx.request_id
        self._model = ""
        self._started = False
        self._done = False
        self._finished = False
        self._tool_of_block: dict[int, int] = {}
        self._usage = Usage()

    # -- bytes API --------------------------------------------------------------
    def feed(self, name: str | None, data: EventData) -> list[bytes]:
        return [self._encode(c) for c in self.chunks(name, data)]

    def close(self) -> list[bytes]:
        return [self._encode(c) for c in self.close_chunks()]

    def _encode(self, chunk: Chunk) -> bytes:
        return wo.DONE if chunk.get("object") == "[DONE]" else wo.sse_data(chunk)

    # -- chunk API (used by the Responses translator) ---------------------------
    def chunks(self, name: str | None, data: EventData) -> list[Chunk]:
        """Chunk dicts for one Anthropic event; ``{"object": "[DONE]"}`` marks the end."""
        if self._done:
            return []
        event = event_object(data)
        if not isinstance(event, Mapping):
            return []
        kind = event.get("type") or name
        if kind == "message_start":
            return self._message_start(event.get("message") or {})
        if kind == "content_block_start":
            return self._block_start(event)
        if kind == "content_block_delta":
            return self._block_delta(event)
        if kind == "message_delta":
            return self._message_delta(event)
        if kind == "message_stop":
            return self.close_chunks()
        if kind == "error":
            self._done = True
            message = wa.error_message(event)
            error = {"message": message, "type": "server_error", "param": None, "code": None}
            return [{"error": error}, {"object": "[DONE]"}]
        return []

    def close_chunks(self) -> list[Chunk]:
        if self._done:
            return []
        out = self._role()
        if not self._finished:
            out.append(self._chunk({}, finish="stop"))
        self._done = True
        if self._usage_wanted:
            usage = wo.usage_to_openai(self._usage)
            out.append(wo.chunk(self._id, self._model, self._ctx.created, None, usage=usage))
        out.append({"object": "[DONE]"})
        return out

    @property
    def usage(self) -> Usage:
        return self._usage

    # -- steps ----------------------------------------------------------------
    def _chunk(self, delta: Mapping[str, Any], finish: str | None = None) -> Chunk:
        return wo.chunk(
            self._id,
            self._model,
            self._ctx.created,
            delta,
            finish=finish,
            with_usage_field=self._usage_wanted,
        )

    def _role(self) -> list[Chunk]:
        if self._started:
            return []
        self._started = True
        return [self._chunk({"role": "assistant", "content": ""})]

    def _message_start(self, message: Mapping[str, Any]) -> list[Chunk]:
        upstream_id = str(message.get("id") or self._ctx.request_id)
        self._id = upstream_id if upstream_id.startswith("chatcmpl-") else "chatcmpl-" + upstream_id
        self._model = self._ctx.model_name or str(message.get("model", ""))
        self._usage = wa.usage_from_anthropic(message.get("usage"))
        return self._role()

    def _block_start(self, event: Mapping[str, Any]) -> list[Chunk]:
        block = event.get("content_block") or {}
        out = self._role()
        kind = block.get("type")
        if kind == "tool_use":
            n = len(self._tool_of_block)
            self._tool_of_block[int(event.get("index", -1))] = n
            call = {
                "index": n,
                "id": str(block.get("id", "")),
                "type": "function",
                "function": {"name": str(block.get("name", "")), "arguments": ""},
            }
            out.append(self._chunk({"tool_calls": [call]}))
        elif kind == "text" and block.get("text"):
            out.append(self._chunk({"content": str(block["text"])}))
        return out

    def _block_delta(self, event: Mapping[str, Any]) -> list[Chunk]:
        delta = event.get("delta") or {}
        kind = delta.get("type")
        out = self._role()
        if kind == "text_delta" and delta.get("text"):
            out.append(self._chunk({"content": str(delta["text"])}))
        elif kind == "thinking_delta" and delta.get("thinking"):
            out.append(self._chunk({"reasoning_content": str(delta["thinking"])}))
        elif kind == "input_json_delta" and delta.get("partial_json"):
            n = self._tool_of_block.get(int(event.get("index", -1)))
            if n is not None:
                call = {"index": n, "function": {"arguments": str(delta["partial_json"])}}
                out.append(self._chunk({"tool_calls": [call]}))
        return out

    def _message_delta(self, event: Mapping[str, Any]) -> list[Chunk]:
        usage = event.get("usage")
        if isinstance(usage, Mapping):
            merged = {**wa.usage_to_anthropic(self._usage), **usage}
            self._usage = wa.usage_from_anthropic(merged)
        reason = (event.get("delta") or {}).get("stop_reason")
        if not reason:
            return []
        self._finished = True
        finish = wo.FINISH_FROM_ANTHROPIC.get(str(reason), "stop")
        return [*self._role(), self._chunk({}, finish=finish)]
