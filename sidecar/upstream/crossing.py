"""Cross-protocol ``TranslatorPair``s: the pure translators adapted to dispatch's seam.

``sidecar.protocols.translate.pair(client, kind)`` supplies the translation;
this module only builds the ``TranslateContext`` from the attempt (ids,
timestamp, configured model name, the client's own request for hints such as
``stream_options.include_usage`` and Codex's freeform tools), merges the
model's ``extra_body``, and turns dicts into bytes. Everything here is pure and
idempotent like the translators: a retry or the next candidate re-runs it.

It also hardens the Anthropic identity path so that a thinking signature never
reaches a provider that did not issue it: signatures going to the client are
tagged ``tierline:<provider>:<signature>``; on the way back each block is
restored for its issuer and removed for any other provider, as are unsigned
blocks (tierline's own translation of another provider's reasoning). The tag
travels with the conversation, so no session state is needed and replicas
agree.
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
from sidecar.upstream.translators import AttemptInfo, StreamEncoder, TranslatorPair, verbatim_of

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
        # The tap has parsed most events already (``last`` is reset per event): reuse it.
        parsed = tap.last
        return b"".join(self._stream.feed(event.event, parsed if parsed else event.data))

    def finish(self, tap: Tap) -> bytes:
        return b"".join(self._stream.close())

    @property
    def next_sequence(self) -> int:
        """The stream's next ``sequence_number`` (Responses streams; else 0)."""
        value = getattr(self._stream, "next_sequence", 0)
        return value if isinstance(value, int) else 0


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


def _in_tool_loop(body: Mapping[str, Any]) -> bool:
    messages = body.get("messages") or []
    last = messages[-1] if messages else {}
    content = last.get("content") if isinstance(last, Mapping) else None
    blocks = content if isinstance(content, list) else []
    return any(isinstance(b, Mapping) and b.get("type") == "tool_result" for b in blocks)


RequestFn = Callable[[Mapping[str, Any], AttemptInfo], tuple[bytes, bool]]
ResponseFn = Callable[[bytes, dict[str, Any], AttemptInfo], bytes]
StreamFn = Callable[[AttemptInfo, bool], StreamEncoder]


def anthropic_identity_request(base: RequestFn) -> RequestFn:
    """``base`` (the identity request) with thinking blocks fit for the provider:
    its own tagged signatures restored, foreign or unsigned blocks removed
    (``anthropic.thinking_for``). When that leaves an open tool loop without its
    thinking, extended thinking is turned off for the request (Anthropic demands
    the loop's signed thinking block back when it is on). ``thinking: {type:
    "adaptive"}`` ("think if useful", no fit requirement) is dropped for a model
    without thinking."""

    def request(body: Mapping[str, Any], info: AttemptInfo) -> tuple[bytes, bool]:
        body, dropped = wa.thinking_for(body, info.provider)
        if dropped and _in_tool_loop(body) and "thinking" in body:
            body = {k: v for k, v in body.items() if k != "thinking"}
        thinking = body.get("thinking")
        if isinstance(thinking, Mapping) and thinking.get("type") == "adaptive":
            if not (info.model.thinking or info.model.reasoning):
                body = {k: v for k, v in body.items() if k != "thinking"}
        return base(body, info)

    return request


def _tag_content(obj: dict[str, Any], provider: str) -> bool:
    """Tag the signatures in a message's ``content`` in place; whether any changed."""
    content = obj.get("content")
    if not isinstance(content, list):
        return False
    tagged = [wa.tag_block(b, provider) if isinstance(b, Mapping) else b for b in content]
    changed = any(a is not b for a, b in zip(tagged, content, strict=True))
    obj["content"] = tagged
    return changed


def anthropic_identity_response(base: ResponseFn) -> ResponseFn:
    """``base`` with thinking signatures tagged with the provider that issued them."""

    def response(raw: bytes, obj: dict[str, Any], info: AttemptInfo) -> bytes:
        out = base(raw, obj, info)
        if b'"signature"' not in out and b"redacted_thinking" not in out:
            return out
        parsed = orjson.loads(out)
        return orjson.dumps(parsed) if _tag_content(parsed, info.provider) else out

    return response


class _SigningEncoder:
    """The identity stream with ``signature_delta`` / redacted data tagged by issuer."""

    __slots__ = ("_base", "_provider")

    def __init__(self, base: StreamEncoder, provider: str) -> None:
        self._base = base
        self._provider = provider

    def event(self, event: SSEEvent, tap: Tap) -> bytes:
        data = event.data
        if data.find(b'"signature_delta"') >= 0 or data.find(b'"redacted_thinking"') >= 0:
            obj = orjson.loads(data)  # (``find``, not ``in``: see ``sidecar.protocols.sse``)
            delta = obj.get("delta")
            block = obj.get("content_block")
            if isinstance(delta, dict) and isinstance(delta.get("signature"), str):
                delta["signature"] = wa.tag_signature(delta["signature"], self._provider)
            elif isinstance(block, dict):
                obj["content_block"] = wa.tag_block(block, self._provider)
            return (
                b"event: "
                + str(obj.get("type")).encode()
                + b"\ndata: "
                + orjson.dumps(obj)
                + b"\n\n"
            )
        return self._base.event(event, tap)

    def verbatim(self, data: bytes, tap: Tap) -> bool:
        """The base's answer, for events with nothing to tag."""
        base = verbatim_of(self._base)
        tagged = data.find(b'"signature_delta"') >= 0 or data.find(b'"redacted_thinking"') >= 0
        return base is not None and not tagged and base(data, tap)

    def finish(self, tap: Tap) -> bytes:
        return self._base.finish(tap)


def anthropic_identity_stream(base: StreamFn) -> StreamFn:
    def stream(info: AttemptInfo, client_usage: bool) -> StreamEncoder:
        return _SigningEncoder(base(info, client_usage), info.provider)

    return stream


def add_crossings(pairs: dict[tuple[str, str], TranslatorPair]) -> None:
    """Register every cross-protocol pair and harden the Anthropic identity pair in ``pairs``
    (thinking signatures tagged with their issuer on the way out, checked on the way in)."""
    for client, kind in CROSSINGS:
        pairs[(client, kind)] = crossing(client, kind)
    ident = pairs.get(("anthropic", "anthropic"))
    if ident is not None:
        pairs[("anthropic", "anthropic")] = TranslatorPair(
            anthropic_identity_request(ident.request),
            anthropic_identity_response(ident.response),
            anthropic_identity_stream(ident.stream),
            ident.error,
        )


__all__ = [
    "CROSSINGS",
    "add_crossings",
    "anthropic_identity_request",
    "anthropic_identity_response",
    "anthropic_identity_stream",
    "context",
    "crossing",
]
