"""The translator seam: how a request in one protocol is sent to a provider of a kind.

Dispatch looks up a ``TranslatorPair`` by (client protocol, provider kind). A
pair is three functions, all pure and idempotent (a retry re-runs them):

- ``request(body, info) -> (bytes, client_wants_usage)``: the upstream body for
  ``info.model`` (``client_wants_usage`` tells the stream encoder whether a
  usage-only chunk the client did not ask for must be dropped);
- ``response(raw, obj, info) -> bytes``: a whole JSON reply in provider form
  (``raw`` bytes and parsed ``obj``) -> client-protocol bytes;
- ``stream(info, client_wants_usage) -> StreamEncoder``: one per attempt,
  turning provider SSE events (already seen by the tap) into client bytes;
- ``error(status, raw) -> (status, bytes)``: a provider error body the client
  gets as is (a plain 400), in the client's shape.

The identity pairs below (openai->openai, anthropic->anthropic) forward bytes
and only rewrite the ``model`` field. The translate helper registers the
cross-protocol translators in ``sidecar.protocols.translate`` (``pair(client,
kind)``); ``default_translators`` adapts each one it offers into a pair here
(``sidecar.upstream.crossing``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple, Protocol

import orjson

from sidecar.config import ModelConfig
from sidecar.protocols.sse import SSEEvent
from sidecar.protocols.tap import Tap
from sidecar.upstream.providers import identity_body


class StreamEncoder(Protocol):
    def event(self, event: SSEEvent, tap: Tap) -> bytes:
        """Client bytes for one provider event (b"" drops it); ``tap`` has already seen it."""

    def finish(self, tap: Tap) -> bytes:
        """Client bytes owed once the provider stream ended (b"" when none)."""


def plain_of(encoder: StreamEncoder) -> Callable[[bytes, Tap], bytes | None] | None:
    """The encoder's optional ``plain(data, tap)``: client bytes for a run of whole events
    the tap accepted as plain text deltas (``Tap.plain_prefix``), or None to go event by
    event."""
    found: Callable[[bytes, Tap], bytes | None] | None = getattr(encoder, "plain", None)
    return found


def verbatim_of(encoder: StreamEncoder) -> Callable[[bytes, Tap], bool] | None:
    """The encoder's optional ``verbatim(data, tap)``: True when whole events ``data``, read
    after the first content, go to the client exactly as they came. The relay then sends
    them before the tap reads them, and does not call the encoder for them."""
    found: Callable[[bytes, Tap], bool] | None = getattr(encoder, "verbatim", None)
    return found


def next_sequence(encoder: StreamEncoder) -> int:
    """The ``sequence_number`` the encoder's next event would carry (Responses streams
    number their events, and an error event ending the stream must continue them);
    0 for an encoder that does not number its events."""
    value = getattr(encoder, "next_sequence", 0)
    return value if isinstance(value, int) else 0


class AttemptInfo(NamedTuple):
    """What a translator may know about the attempt (built by dispatch per candidate;
    a tuple for the reason given in ``sidecar.exchange``)."""

    model: ModelConfig
    provider: str
    stream: bool
    request_id: str
    created: int  # unix seconds, for ids and timestamps translators invent
    client_body: Mapping[str, Any] | None = None  # the client's request, read-only (hints)


@dataclass(frozen=True)
class TranslatorPair:
    request: Callable[[Mapping[str, Any], AttemptInfo], tuple[bytes, bool]]
    response: Callable[[bytes, dict[str, Any], AttemptInfo], bytes]
    stream: Callable[[AttemptInfo, bool], StreamEncoder]
    error: Callable[[int, bytes], tuple[int, bytes]]


def rewrite_model(raw: bytes, reported: str | None, name: str, obj: Any) -> bytes:
    """``raw`` JSON with its top-level ``model`` value set to ``name`` (cheaply when possible)."""
    if reported is None or reported == name:
        return raw
    old = b'"model":"' + reported.encode() + b'"'
    if old in raw:
        return raw.replace(old, b'"model":"' + name.encode() + b'"', 1)
    if isinstance(obj, dict) and "model" in obj:
        return orjson.dumps({**obj, "model": name})
    return raw


class _OpenAIIdentityStream:
    """Every chunk carries ``model``: unparsed ones get a byte replacement of the id
    the provider reported in the first chunk (both JSON spacings)."""

    __slots__ = ("name", "client_usage", "_swaps")

    def __init__(self, info: AttemptInfo, client_usage: bool) -> None:
        self.name = info.model.name
        self.client_usage = client_usage
        self._swaps: tuple[tuple[bytes, bytes], ...] | None = None

    def _pairs(self, reported: str) -> tuple[tuple[bytes, bytes], ...]:
        if self._swaps is None:
            old, new = reported.encode(), self.name.encode()
            self._swaps = tuple(
                (b'"model"' + sep + b'"' + old + b'"', b'"model"' + sep + b'"' + new + b'"')
                for sep in (b":", b": ")
            )
        return self._swaps

    def _swap(self, raw: bytes, reported: str) -> bytes:
        for old_bytes, new_bytes in self._pairs(reported):
            if old_bytes in raw:
                return raw.replace(old_bytes, new_bytes, 1)
        return raw

    def event(self, event: SSEEvent, tap: Tap) -> bytes:
        obj = tap.last
        if obj is None:
            if tap.model is None or tap.model == self.name:
                return event.raw
            return self._swap(event.raw, tap.model)
        if not self.client_usage and not obj.get("choices") and "usage" in obj:
            return b""  # the usage chunk tierline asked for, not the client
        reported = obj.get("model")
        if not isinstance(reported, str) or reported == self.name:
            return event.raw
        body = rewrite_model(event.data, reported, self.name, obj)
        return b"data: " + body + b"\n\n"

    def plain(self, data: bytes, tap: Tap) -> bytes | None:
        """Plain text-delta events go through as they are, the reported model id swapped
        (every occurrence: ``"model":"id"`` cannot occur inside an escaped string).
        No side effects on ``tap``."""
        if tap.model is None:  # a later chunk might name one: event by event
            return None
        if tap.model == self.name:
            return data
        for old_bytes, new_bytes in self._pairs(tap.model):
            data = data.replace(old_bytes, new_bytes)
        return data

    def verbatim(self, data: bytes, tap: Tap) -> bool:
        """Nothing to change: the client asked for the usage chunk and the provider
        reports the model under its configured name."""
        return self.client_usage and tap.model == self.name

    def finish(self, tap: Tap) -> bytes:
        return b""


class _AnthropicIdentityStream:
    __slots__ = ("name",)

    def __init__(self, info: AttemptInfo, client_usage: bool) -> None:
        self.name = info.model.name

    def event(self, event: SSEEvent, tap: Tap) -> bytes:
        if event.event != "message_start" or tap.last is None:
            return event.raw
        message = tap.last.get("message") or {}
        reported = message.get("model")
        if not isinstance(reported, str) or reported == self.name:
            return event.raw
        old = b'"model":"' + reported.encode() + b'"'
        if old in event.data:
            data = event.data.replace(old, b'"model":"' + self.name.encode() + b'"', 1)
        else:
            data = orjson.dumps({**tap.last, "message": {**message, "model": self.name}})
        return b"event: message_start\ndata: " + data + b"\n\n"

    def verbatim(self, data: bytes, tap: Tap) -> bool:
        """Only ``message_start`` is rewritten (it comes before any content)."""
        # ``find``, not ``in``: see ``sidecar.protocols.sse``
        return data.find(b'"message_start"') < 0

    def finish(self, tap: Tap) -> bytes:
        return b""


def _openai_request(body: Mapping[str, Any], info: AttemptInfo) -> tuple[bytes, bool]:
    return identity_body(body, info.model, "openai", info.stream)


def _anthropic_request(body: Mapping[str, Any], info: AttemptInfo) -> tuple[bytes, bool]:
    return identity_body(body, info.model, "anthropic", info.stream)


def _identity_response(raw: bytes, obj: dict[str, Any], info: AttemptInfo) -> bytes:
    reported = obj.get("model")
    name = info.model.name
    return rewrite_model(raw, reported if isinstance(reported, str) else None, name, obj)


def _identity_error(status: int, raw: bytes) -> tuple[int, bytes]:
    return status, raw


IDENTITY: Mapping[tuple[str, str], TranslatorPair] = {
    ("openai", "openai"): TranslatorPair(
        _openai_request, _identity_response, _OpenAIIdentityStream, _identity_error
    ),
    ("anthropic", "anthropic"): TranslatorPair(
        _anthropic_request, _identity_response, _AnthropicIdentityStream, _identity_error
    ),
}


def default_translators() -> dict[tuple[str, str], TranslatorPair]:
    """Identity pairs plus the cross-protocol pairs of ``sidecar.upstream.crossing``."""
    from sidecar.upstream.crossing import add_crossings  # it imports this module

    pairs = dict(IDENTITY)
    add_crossings(pairs)
    return pairs
