"""Responses API client -> OpenAI chat or Anthropic messages provider.

Requests go Responses -> chat (``responses.to_chat``) and, for Anthropic
providers, on through the OpenAI->Anthropic translator; answers come back the
same way. The stream re-encoder consumes chat-completion chunks (for an
Anthropic provider, the chunk dicts the Anthropic->OpenAI stream produces) and
emits Responses events as they arrive, each with an increasing
``sequence_number``:

``response.created``, ``response.in_progress``; per output item
``response.output_item.added`` then, for messages, ``response.content_part.added``
/ ``response.output_text.delta`` / ``response.output_text.done`` /
``response.content_part.done``; for reasoning ``response.reasoning_text.delta``
/ ``.done``; for function calls ``response.function_call_arguments.delta`` /
``.done``; then ``response.output_item.done``. The end is
``response.completed`` (or ``response.incomplete`` when the token limit cut
the answer, ``response.failed`` on an upstream error) with the whole response
and its usage. There is no ``[DONE]`` in this protocol.

Custom (freeform) tool calls are sent whole at their end (the raw input is
only known once the JSON wrapper is complete). Argument pieces of parallel
calls may interleave; ``ToolOrder`` keeps each call's item contiguous without
dropping a piece.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson

from sidecar.config import ModelConfig
from sidecar.protocols import responses as rs
from sidecar.protocols import translate_openai_anthropic as o2a
from sidecar.protocols.translate import DONE, EventData, TranslateContext, event_object, map_error
from sidecar.protocols.translate_openai_anthropic_stream import AnthropicToOpenAIStream
from sidecar.protocols.translate_toolorder import Step, ToolOrder


class ResponsesTo:
    """The translator for a Responses client talking to a provider of ``provider_kind``."""

    client = "responses"

    def __init__(self, provider_kind: str) -> None:
        self.provider_kind = provider_kind
        self.path = "/messages" if provider_kind == "anthropic" else "/chat/completions"

    def request(
        self, body: Mapping[str, Any], model: ModelConfig, ctx: TranslateContext
    ) -> dict[str, Any]:
        chat = rs.to_chat(body)
        if self.provider_kind == "anthropic":
            return o2a.translate_request(chat, model, ctx)
        chat["model"] = model.upstream
        limit = chat.pop("max_tokens", None)
        if isinstance(limit, int):
            chat[model.token_param] = min(limit, model.max_output) if model.max_output else limit
        return chat

    def response(self, body: Mapping[str, Any], ctx: TranslateContext) -> dict[str, Any]:
        if self.provider_kind == "anthropic":
            body = o2a.translate_response(body, ctx)
        return rs.from_chat(body, ctx.request_id, ctx.created, ctx.custom_tools, ctx.namespaces)

    def stream(self, ctx: TranslateContext) -> ResponsesStream:
        return ResponsesStream(ctx, anthropic=self.provider_kind == "anthropic")

    def error(self, status: int, body: Any) -> tuple[int, dict[str, Any]]:
        return map_error("responses", self.provider_kind, status, body)


def _sse(obj: Mapping[str, Any]) -> bytes:
    return b"event: " + str(obj["type"]).encode() + b"\ndata: " + orjson.dumps(obj) + b"\n\n"


class ResponsesStream:
    """Stateful per response; see the module docstring for the event order."""

    def __init__(self, ctx: TranslateContext, anthropic: bool = False) -> None:
        self._ctx = ctx
        self._inner = AnthropicToOpenAIStream(ctx, include_usage=True) if anthropic else None
        self._rid = "resp_" + ctx.request_id
        self._model = ""
        self._seq = 0
        self._started = False
        self._done = False
        self._output: list[dict[str, Any]] = []
        self._open: str | None = None  # "message" | "reasoning" | "tool:<n>"
        self._item_id = ""
        self._text = ""
        self._call: tuple[str, str, bool] = ("", "", False)  # call_id, name, custom
        self._order = ToolOrder()
        self._finish: str | None = None
        self._usage: Mapping[str, Any] | None = None

    # -- public -------------------------------------------------------------
    def feed(self, name: str | None, data: EventData) -> list[bytes]:
        if self._done:
            return []
        chunks: list[Mapping[str, Any]]
        if self._inner is not None:
            chunks = list(self._inner.chunks(name, data))
        else:
            obj = event_object(data)
            if obj == DONE:
                chunks = [{"object": "[DONE]"}]
            else:
                chunks = [obj] if isinstance(obj, Mapping) else []
        out: list[bytes] = []
        for chunk in chunks:
            out += self._chunk(chunk)
        return out

    def close(self) -> list[bytes]:
        return [] if self._done else self._end()

    @property
    def next_sequence(self) -> int:
        """The ``sequence_number`` of the next event (an error event ending the stream
        from outside, e.g. dispatch after a mid-stream failure, continues from it)."""
        return self._seq

    # -- helpers ----------------------------------------------------------------
    def _event(self, kind: str, **fields: Any) -> bytes:
        self._seq += 1
        return _sse({"type": kind, "sequence_number": self._seq - 1, **fields})

    def _envelope(self, status: str) -> dict[str, Any]:
        return rs.envelope(self._rid, self._model, self._ctx.created, status, list(self._output))

    def _start(self, chunk: Mapping[str, Any]) -> list[bytes]:
        if self._started:
            return []
        self._started = True
        self._model = self._ctx.model_name or str(chunk.get("model", ""))
        response = self._envelope("in_progress")
        return [
            self._event("response.created", response=response),
            self._event("response.in_progress", response=response),
        ]

    def _chunk(self, chunk: Mapping[str, Any]) -> list[bytes]:
        if chunk.get("object") == "[DONE]":
            return self._end()
        if chunk.get("error"):
            return self._fail(chunk["error"])
        out = self._start(chunk)
        for choice in chunk.get("choices") or []:
            if isinstance(choice, Mapping):
                out += self._choice(choice)
        if chunk.get("usage"):
            self._usage = chunk["usage"]
        return out

    def _choice(self, choice: Mapping[str, Any]) -> list[bytes]:
        delta = choice.get("delta") or {}
        out: list[bytes] = []
        reasoning = delta.get("reasoning_content") or delta.get("reasoning")
        if isinstance(reasoning, str) and reasoning:
            out += self._text_delta("reasoning", reasoning)
        content = delta.get("content")
        if isinstance(content, str) and content:
            out += self._text_delta("message", content)
        for pos, call in enumerate(delta.get("tool_calls") or []):
            if isinstance(call, Mapping):
                out += self._steps(self._order.feed_delta(pos, call))
        if choice.get("finish_reason"):
            self._finish = str(choice["finish_reason"])
            out += self._steps(self._order.flush())
            out += self._close_item()
        return out

    def _open_item(self, kind: str, item: dict[str, Any]) -> list[bytes]:
        out = self._close_item()
        self._open, self._item_id, self._text = kind, str(item["id"]), ""
        return out + [
            self._event("response.output_item.added", output_index=len(self._output), item=item)
        ]

    def _text_delta(self, kind: str, delta: str) -> list[bytes]:
        out = self._steps(self._order.flush())
        if self._open != kind:
            out += self._close_item()
        index = len(self._output)
        if self._open != kind:
            item_id = f"{'rs' if kind == 'reasoning' else 'msg'}_{self._ctx.request_id}_{index}"
            if kind == "message":
                out += self._open_item(kind, rs.message_item(item_id, "", "in_progress"))
                part = {"type": "output_text", "text": "", "annotations": []}
            else:
                out += self._open_item(kind, rs.reasoning_item(item_id, ""))
                part = {"type": "reasoning_text", "text": ""}
            out.append(
                self._event(
                    "response.content_part.added",
                    item_id=self._item_id,
                    output_index=index,
                    content_index=0,
                    part=part,
                )
            )
        self._text += delta
        name = f"response.{'output' if kind == 'message' else 'reasoning'}_text.delta"
        extra: dict[str, Any] = {"logprobs": []} if kind == "message" else {}
        out.append(
            self._event(
                name,
                item_id=self._item_id,
                output_index=index,
                content_index=0,
                delta=delta,
                **extra,
            )
        )
        return out

    def _steps(self, steps: list[Step]) -> list[bytes]:
        """Responses events for ``ToolOrder`` steps: one call item per tool call."""
        out: list[bytes] = []
        for step in steps:
            if step.kind == "open":
                out += self._open_call(step)
            elif step.kind == "args":
                self._text += step.text
                if not self._call[2]:
                    out.append(
                        self._event(
                            "response.function_call_arguments.delta",
                            item_id=self._item_id,
                            output_index=len(self._output),
                            delta=step.text,
                        )
                    )
            else:
                out += self._close_item()
        return out

    def _open_call(self, step: Step) -> list[bytes]:
        out = self._close_item()
        call_id = step.call.call_id or f"call_{self._ctx.request_id}_{step.call.index}"
        custom = step.call.name in self._ctx.custom_tools
        item = rs.call_item(
            f"fc_{self._ctx.request_id}_{len(self._output)}",
            call_id,
            step.call.name,
            "",
            False,
            "in_progress",
            self._ctx.namespaces,
        )
        if custom:  # announced whole at its end
            self._open, self._item_id, self._text = f"tool:{step.call.index}", str(item["id"]), ""
        else:
            out += self._open_item(f"tool:{step.call.index}", item)
        self._call = (call_id, step.call.name, custom)
        return out

    def _close_item(self) -> list[bytes]:
        """Finish the open output item: its closing events, then ``output_item.done``."""
        if self._open is None:
            return []
        kind, item_id, text, index = self._open, self._item_id, self._text, len(self._output)
        self._open = None
        if kind in ("message", "reasoning"):
            item, out = self._close_text(kind, item_id, text, index)
        else:
            item, out = self._close_call(item_id, text, index)
        self._output.append(item)
        out.append(self._event("response.output_item.done", output_index=index, item=item))
        return out

    def _close_text(
        self, kind: str, item_id: str, text: str, index: int
    ) -> tuple[dict[str, Any], list[bytes]]:
        where = {"item_id": item_id, "output_index": index, "content_index": 0}
        if kind == "message":
            item = rs.message_item(item_id, text)
            part: dict[str, Any] = {"type": "output_text", "text": text, "annotations": []}
            done = self._event("response.output_text.done", **where, text=text, logprobs=[])
        else:
            item = rs.reasoning_item(item_id, text)
            part = {"type": "reasoning_text", "text": text}
            done = self._event("response.reasoning_text.done", **where, text=text)
        return item, [done, self._event("response.content_part.done", **where, part=part)]

    def _close_call(
        self, item_id: str, text: str, index: int
    ) -> tuple[dict[str, Any], list[bytes]]:
        call_id, name, custom = self._call
        arguments = text or "{}"
        item = rs.call_item(
            item_id, call_id, name, arguments, custom, "completed", self._ctx.namespaces
        )
        name = str(item["name"])
        if custom:  # announced only now, whole
            added = {**item, "status": "in_progress"}
            return item, [self._event("response.output_item.added", output_index=index, item=added)]
        done = self._event(
            "response.function_call_arguments.done",
            item_id=item_id,
            output_index=index,
            name=name,
            arguments=arguments,
        )
        return item, [done]

    def _end(self) -> list[bytes]:
        out = self._start({})
        out += self._steps(self._order.flush())
        out += self._close_item()
        self._done = True
        response = rs.finish(self._envelope("completed"), self._finish)
        response["usage"] = rs.usage(self._usage)
        kind = "response.incomplete" if response["status"] == "incomplete" else "response.completed"
        return out + [self._event(kind, response=response)]

    def _fail(self, error: Any) -> list[bytes]:
        out = self._start({})
        self._done = True
        message = str(
            error.get("message", "upstream error") if isinstance(error, Mapping) else error
        )
        response = self._envelope("failed")
        response["error"] = {"code": "server_error", "message": message}
        return out + [self._event("response.failed", response=response)]
