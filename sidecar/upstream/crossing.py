"""Cross-protocol ``TranslatorPair``s: the pure translators adapted to dispatch's seam.

``sidecar.protocols.translate.pair(client, kind)`` supplies the translation;
this module only builds the ``TranslateContext`` from the attempt (ids,
timestamp, configured model name, the client's own request for hints such as
``stream_options.include_usage`` and Codex's freeform tools), merges the
model's ``extra_body``, and turns dicts into bytes. Everything here is pure and
idempotent like the translators: a retry or the next candidate re-runs it.

It also hardens the Anthropic identity path: thinking blocks whose signature is
empty were produced by tierline's own translation of another provider's
reasoning, and an Anthropic provider rejects them; they are removed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import orjson

from sidecar.protocols import anthropic as wa
from sidecar.protocols.sse import SSEEvent
from sidecar.protocols.tap import Tap
from sidecar.protocols.tokens import estimate_tokens
from sidecar.protocols.translate import StreamTranslator, TranslateContext, Translator, pair
from sidecar.upstream.providers import merge_extra
from sidecar.upstream.translators import AttemptInfo, StreamEncoder, TranslatorPair

CROSSINGS = (
    ("anthropic", "openai"),
    ("openai", "anthropic"),
    ("responses", "openai"),
    ("responses", "anthropic"),
)


def context(client: str, info: AttemptInfo, estimate: bool = False) -> TranslateContext:
    """The translation context for one attempt (``estimate``: count the prompt locally)."""
    body = info.client_body or {}
    prompt = estimate_tokens(client, body) if estimate and body else 0
    return TranslateContext.for_request(
        client,
        body,
        provider=info.provider,
        model_name=info.model.name,
        request_id=info.request_id,
        created=info.created,
        prompt_estimate=prompt,
    )


class _Encoder:
    """``StreamEncoder`` over a translator's stream: provider events in, client bytes out."""

    __slots__ = ("_stream",)

    def __init__(self, stream: StreamTranslator) -> None:
        self._stream = stream

    def event(self, event: SSEEvent, tap: Tap) -> bytes:
        return b"".join(self._stream.feed(event.event, event.data))

    def finish(self, tap: Tap) -> bytes:
        return b"".join(self._stream.close())


def crossing(client: str, kind: str) -> TranslatorPair:
    """The ``TranslatorPair`` for a client protocol and a different provider kind."""
    translator = pair(client, kind)
    if translator is None:
        raise KeyError(f"{client} -> {kind} needs no translation")
    t: Translator = translator

    def request(body: Mapping[str, Any], info: AttemptInfo) -> tuple[bytes, bool]:
        ctx = context(client, info)
        out = t.request(body, info.model, ctx)
        if info.model.extra_body:
            merge_extra(out, info.model.extra_body)
        if not info.stream:
            out.pop("stream", None)
            out.pop("stream_options", None)
        return orjson.dumps(out), ctx.include_usage or client != "openai"

    def response(raw: bytes, obj: dict[str, Any], info: AttemptInfo) -> bytes:
        return orjson.dumps(t.response(obj, context(client, info)))

    def stream(info: AttemptInfo, client_usage: bool) -> StreamEncoder:
        return _Encoder(t.stream(context(client, info, estimate=client == "anthropic")))

    def error(status: int, raw: bytes) -> tuple[int, bytes]:
        try:
            parsed: Any = orjson.loads(raw)
        except orjson.JSONDecodeError:
            parsed = raw
        code, body = t.error(status, parsed)
        return code, orjson.dumps(body)

    return TranslatorPair(request, response, stream, error)


def _has_unsigned_thinking(body: Mapping[str, Any]) -> bool:
    for msg in body.get("messages") or []:
        content = msg.get("content") if isinstance(msg, Mapping) else None
        for block in content if isinstance(content, list) else []:
            if isinstance(block, Mapping) and block.get("type") == "thinking":
                if not block.get("signature"):
                    return True
    return False


def _in_tool_loop(body: Mapping[str, Any]) -> bool:
    messages = body.get("messages") or []
    last = messages[-1] if messages else {}
    content = last.get("content") if isinstance(last, Mapping) else None
    blocks = content if isinstance(content, list) else []
    return any(isinstance(b, Mapping) and b.get("type") == "tool_result" for b in blocks)


def anthropic_identity_request(
    base: Callable[[Mapping[str, Any], AttemptInfo], tuple[bytes, bool]],
) -> Callable[[Mapping[str, Any], AttemptInfo], tuple[bytes, bool]]:
    """``base`` (the identity request) after removing unsigned thinking blocks, if any."""

    def request(body: Mapping[str, Any], info: AttemptInfo) -> tuple[bytes, bool]:
        if _has_unsigned_thinking(body):
            body = wa.strip_thinking(body)
            if _in_tool_loop(body):  # Anthropic wants the loop's signed thinking back; none left
                body.pop("thinking", None)
        return base(body, info)

    return request


def add_crossings(pairs: dict[tuple[str, str], TranslatorPair]) -> None:
    """Register every cross-protocol pair and harden the Anthropic identity pair in ``pairs``."""
    for client, kind in CROSSINGS:
        pairs[(client, kind)] = crossing(client, kind)
    ident = pairs.get(("anthropic", "anthropic"))
    if ident is not None:
        hardened = anthropic_identity_request(ident.request)
        pairs[("anthropic", "anthropic")] = TranslatorPair(
            hardened, ident.response, ident.stream, ident.error
        )


__all__ = ["CROSSINGS", "add_crossings", "anthropic_identity_request", "context", "crossing"]
