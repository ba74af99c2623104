"""One error taxonomy, mapped once at the boundary to each protocol's error body.

Every failure tierline reports to a client is a ``TierlineError`` subclass: the
class fixes the HTTP ``status``, the Anthropic error ``type``, the OpenAI error
``type`` and whether a client may usefully ``retryable`` it. Ingress turns an
error into a body exactly once (``error_body``); nothing else builds error JSON.

Pure module: no aiohttp, no I/O. Messages must never contain secrets; upstream
messages pass through ``scrub`` before they are stored or shown.
"""

from __future__ import annotations

import re
from typing import Any, ClassVar, Literal

import orjson

ClientProtocol = Literal["openai", "anthropic", "responses"]

_SECRET = re.compile(
    r"(sk-[A-Za-z0-9_\-]{6,}|Bearer\s+[A-Za-z0-9_\-.=]{6,}|"
    r"(?:api[_-]?key|x-api-key|authorization)[\"':= ]+[A-Za-z0-9_\-.=]{6,})",
    re.IGNORECASE,
)


def scrub(text: str, secrets: tuple[str, ...] = ()) -> str:
    """``text`` with key-looking tokens and the given ``secrets`` masked, capped at 500 chars."""
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, "***")
    text = _SECRET.sub("***", text)
    return text if len(text) <= 500 else text[:497] + "..."


class TierlineError(Exception):
    """Base of the taxonomy. ``param``/``code`` are OpenAI's optional fields."""

    status: ClassVar[int] = 500
    type: ClassVar[str] = "api_error"  # Anthropic error type
    openai_type: ClassVar[str] = "server_error"
    retryable: ClassVar[bool] = False

    def __init__(
        self,
        message: str,
        *,
        param: str | None = None,
        code: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.param = param
        self.code = code
        self.headers = headers or {}


class InvalidRequest(TierlineError):
    status = 400
    type = "invalid_request_error"
    openai_type = "invalid_request_error"


class AuthenticationFailed(TierlineError):
    status = 401
    type = "authentication_error"
    openai_type = "authentication_error"


class PermissionDenied(TierlineError):
    status = 403
    type = "permission_error"
    openai_type = "permission_error"


class NotFound(TierlineError):
    status = 404
    type = "not_found_error"
    openai_type = "invalid_request_error"


class MethodNotAllowed(TierlineError):
    status = 405
    type = "invalid_request_error"
    openai_type = "invalid_request_error"


class RequestTooLarge(TierlineError):
    status = 413
    type = "request_too_large"
    openai_type = "invalid_request_error"


class RateLimited(TierlineError):
    status = 429
    type = "rate_limit_error"
    openai_type = "rate_limit_error"
    retryable = True


class InternalError(TierlineError):
    status = 500
    type = "api_error"
    openai_type = "server_error"


class UpstreamFailed(TierlineError):
    """Every candidate failed (or the deadline passed): a gateway error."""

    status = 502
    type = "api_error"
    openai_type = "server_error"


class Overloaded(TierlineError):
    status = 529
    type = "overloaded_error"
    openai_type = "server_error"
    retryable = True


class Unavailable(TierlineError):
    status = 503
    type = "overloaded_error"
    openai_type = "server_error"
    retryable = True


def error_body(protocol: ClientProtocol, err: TierlineError) -> dict[str, Any]:
    """The JSON error body ``err`` becomes for a client speaking ``protocol``."""
    if protocol == "anthropic":
        return {"type": "error", "error": {"type": err.type, "message": err.message}}
    return {
        "error": {
            "message": err.message,
            "type": err.openai_type,
            "param": err.param,
            "code": err.code,
        }
    }


def error_for_status(status: int, message: str) -> TierlineError:
    """The taxonomy class for an HTTP status (used for upstream errors shown to clients)."""
    cls: type[TierlineError] = {
        400: InvalidRequest,
        401: AuthenticationFailed,
        403: PermissionDenied,
        404: NotFound,
        413: RequestTooLarge,
        429: RateLimited,
        503: Unavailable,
        529: Overloaded,
    }.get(status, UpstreamFailed)
    return cls(message)


def stream_error_event(protocol: ClientProtocol, err: TierlineError, sequence: int = 0) -> bytes:
    """The SSE bytes that end a stream already under way with ``err``.

    Anthropic: ``event: error`` with the error body; OpenAI: a ``data:`` chunk
    holding ``{"error": {...}}`` (what OpenAI's SDKs raise on); Responses:
    ``response.failed`` numbered ``sequence`` (the stream's next sequence number).
    """
    data = orjson.dumps(error_body(protocol, err))
    if protocol == "anthropic":
        return b"event: error\ndata: " + data + b"\n\n"
    if protocol == "responses":  # Responses streams end with response.failed (Codex reads it)
        failed = {
            "type": "response.failed",
            "sequence_number": sequence,
            "response": {"object": "response", "status": "failed", "output": [],
                         "error": {"code": err.openai_type, "message": err.message}},
        }  # fmt: skip
        return b"event: response.failed\ndata: " + orjson.dumps(failed) + b"\n\n"
    return b"data: " + data + b"\n\n"
