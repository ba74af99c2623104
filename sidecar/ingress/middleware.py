"""The ingress middleware: request id, body-size limit, errors in the client's protocol.

One middleware (one frame per request) does the three jobs:

- request id: the client's ``x-request-id`` when it is sane, else a fresh one (96
  random bits from ``random``, reseeded per process: an id, not a secret);
  stored in ``request[REQUEST_ID]`` and echoed on every non-streamed response
  (dispatch sets it itself on streams, whose headers leave before we return);
- a declared ``Content-Length`` over ``server.max_body_bytes`` is refused before
  the body is read (chunked bodies hit aiohttp's ``client_max_size``, same limit);
- every ``TierlineError``, aiohttp HTTP exception and unexpected exception
  becomes an error body in the client's protocol, chosen by path
  (``/v1/messages*``: Anthropic; anything else: OpenAI). Nothing escapes.
"""

from __future__ import annotations

import asyncio
import logging
from random import getrandbits

import orjson
from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from sidecar.errors import (
    ClientProtocol,
    InternalError,
    MethodNotAllowed,
    NotFound,
    RequestTooLarge,
    TierlineError,
    error_body,
    error_for_status,
)
from sidecar.upstream.outcome import REQUEST_ID

_log = logging.getLogger("tierline.ingress")


def protocol_for(path: str) -> ClientProtocol:
    """The error protocol a path's clients understand."""
    return "anthropic" if path.startswith("/v1/messages") else "openai"


def error_response(request: web.Request, err: TierlineError) -> web.Response:
    body = orjson.dumps(error_body(protocol_for(request.path), err))
    headers = {"Content-Type": "application/json", **err.headers}
    return web.Response(status=err.status, body=body, headers=headers)


def _too_large(limit: int) -> RequestTooLarge:
    return RequestTooLarge(
        f"request body exceeds the limit of {limit} bytes (server.max_body_bytes)",
        code="request_too_large",
    )


def _from_http(exc: web.HTTPException, request: web.Request, limit: int) -> TierlineError:
    if exc.status == 404:
        return NotFound(f"no such endpoint: {request.method} {request.path}")
    if exc.status == 405:
        return MethodNotAllowed(f"method {request.method} is not allowed on {request.path}")
    if exc.status == 413:
        return _too_large(limit)
    return error_for_status(exc.status, exc.reason or "HTTP error")


def make_middleware(max_body_bytes: int) -> Middleware:
    """The ingress middleware for a body limit of ``max_body_bytes``."""

    @web.middleware
    async def ingress(request: web.Request, handler: Handler) -> web.StreamResponse:
        rid = request.headers.get("x-request-id")
        if not rid or len(rid) > 128 or not rid.isprintable():
            rid = f"req_{getrandbits(96):024x}"  # not a secret: no getrandom() call
        request[REQUEST_ID] = rid
        try:
            length = request.content_length
            if length is not None and length > max_body_bytes:
                raise _too_large(max_body_bytes)
            response = await handler(request)
        except TierlineError as err:
            response = error_response(request, err)
        except web.HTTPException as exc:
            response = error_response(request, _from_http(exc, request, max_body_bytes))
        except asyncio.CancelledError:
            raise
        except Exception:
            _log.exception("unhandled error", extra={"request_id": rid})
            internal = InternalError(f"internal error in tierline (request id {rid}); see its logs")
            response = error_response(request, internal)
        if not response.prepared:
            response.headers.setdefault("x-request-id", rid)
            if request.path.startswith("/v1/messages"):
                response.headers.setdefault("request-id", rid)
        return response

    return ingress
