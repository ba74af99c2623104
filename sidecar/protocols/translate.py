"""Protocol translation registry: ``pair(client_protocol, provider_kind)``.

A ``Translator`` turns a client request into the provider's wire form, the
provider's answer (whole or as SSE events) back into the client's, and a
provider error into the client's error shape. Translators are pure and
idempotent: no I/O, no clock, no randomness (ids and timestamps come from the
``TranslateContext``), and ``request`` never mutates its input, so a retry or
a fallback simply runs them again.

``pair`` returns ``None`` when no translation is needed (same protocol: the
identity path forwards bytes). The ``responses`` client protocol is always
translated: providers speak chat completions or messages.

Stream translators are stateful per response: ``feed(name, data)`` takes one
upstream SSE event (event name or None, the data text) and returns the client
SSE frames it produces right away; ``close()`` finishes the client stream
(final usage, stop events, ``[DONE]``) and is safe to call more than once.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import orjson

from sidecar.config import ModelConfig
from sidecar.errors import error_body, error_for_status
from sidecar.protocols import anthropic as wire_anthropic
from sidecar.protocols import openai as wire_openai

__all__ = [
    "DONE",
    "EventData",
    "StreamTranslator",
    "TranslateContext",
    "Translator",
    "event_object",
    "map_error",
    "pair",
]


@dataclass(frozen=True)
class TranslateContext:
    """What a translator may know beyond the bodies; built by dispatch per attempt.

    ``issued_by`` names the provider that issued the thinking signatures found
    in the conversation's history (None: unknown, treat as foreign).
    ``include_usage``: the OpenAI client asked for a usage chunk.
    ``model_name``: the configured model's name, reported instead of the provider's id
    (the identity path does the same).
    ``prompt_estimate``: local estimate of prompt tokens, shown in Anthropic's
    ``message_start`` until the provider's real count arrives at the end.
    """

    provider: str = ""
    model_name: str = ""  # reported as the answer's model (configured name); "" keeps upstream's
    issued_by: str | None = None
    request_id: str = "0"
    created: int = 0
    include_usage: bool = False
    prompt_estimate: int = 0
    custom_tools: frozenset[str] = frozenset()  # Responses freeform tools, by name
    namespaces: frozenset[str] = frozenset()  # Responses tool namespaces (flattened ``ns__fn``)

    @classmethod
    def for_request(
        cls, client_protocol: str, body: Mapping[str, Any], **fields: Any
    ) -> TranslateContext:
        """A context with the hints read off the client's request ``body`` filled in
        (``include_usage``, ``custom_tools``, ``namespaces``); ``fields`` set the rest."""
        options = body.get("stream_options")
        include = isinstance(options, Mapping) and bool(options.get("include_usage"))
        custom: frozenset[str] = frozenset()
        spaces: frozenset[str] = frozenset()
        if client_protocol == "responses":
            from sidecar.protocols.responses import custom_tool_names, namespace_names

            custom, spaces = custom_tool_names(body), namespace_names(body)
        return cls(include_usage=include, custom_tools=custom, namespaces=spaces, **fields)


EventData = str | bytes | Mapping[str, Any]  # raw SSE data, or the object already parsed
DONE = "[DONE]"


def event_object(data: EventData) -> Mapping[str, Any] | str | None:
    """The JSON object of one SSE event's data (``data`` itself when already parsed, as
    dispatch's tap leaves it); ``DONE`` for OpenAI's end marker; None for anything else."""
    if isinstance(data, Mapping):
        return data
    text = data.strip()
    if not text:
        return None
    if text in ("[DONE]", b"[DONE]"):
        return DONE
    try:
        obj = orjson.loads(text)
    except orjson.JSONDecodeError:
        return None
    return obj if isinstance(obj, dict) else None


class StreamTranslator(Protocol):
    def feed(self, name: str | None, data: EventData) -> list[bytes]: ...

    def close(self) -> list[bytes]: ...


class Translator(Protocol):
    client: str
    provider_kind: str
    path: str  # provider endpoint path, appended to the provider's base_url

    def request(
        self, body: Mapping[str, Any], model: ModelConfig, ctx: TranslateContext
    ) -> dict[str, Any]: ...

    def response(self, body: Mapping[str, Any], ctx: TranslateContext) -> dict[str, Any]: ...

    def stream(self, ctx: TranslateContext) -> StreamTranslator: ...

    def error(self, status: int, body: Any) -> tuple[int, dict[str, Any]]: ...


def map_error(
    client: str, provider_kind: str, status: int, body: Any
) -> tuple[int, dict[str, Any]]:
    """A provider error (status, parsed JSON or raw text) in the client's error shape.

    The status is kept; the body is rebuilt through the error taxonomy so that
    the type names are the client protocol's own.
    """
    if provider_kind == "anthropic":
        message = wire_anthropic.error_message(body)
    else:
        message = wire_openai.error_message(body)
    err = error_for_status(status, message)
    return status, error_body("anthropic" if client == "anthropic" else "openai", err)


def pair(client_protocol: str, provider_kind: str) -> Translator | None:
    """The translator from ``client_protocol`` to ``provider_kind``; None for identity.

    Raises ``KeyError`` for an unknown combination.
    """
    # Imported here: the translator modules import this one for the context type.
    from sidecar.protocols import translate_anthropic_openai as a2o
    from sidecar.protocols import translate_openai_anthropic as o2a
    from sidecar.protocols import translate_responses as r2x

    if client_protocol == provider_kind:
        return None
    if client_protocol == "anthropic" and provider_kind == "openai":
        return a2o.AnthropicToOpenAI()
    if client_protocol == "openai" and provider_kind == "anthropic":
        return o2a.OpenAIToAnthropic()
    if client_protocol == "responses" and provider_kind in ("openai", "anthropic"):
        return r2x.ResponsesTo(provider_kind)
    raise KeyError(f"no translator for {client_protocol} -> {provider_kind}")
