"""Generation endpoints: decode, validate, route, dispatch, record. Thin on purpose.

``POST /v1/chat/completions`` (OpenAI) and ``POST /v1/messages`` (Anthropic,
``?beta=true`` too) share one flow. Observers hear ``on_request`` before
dispatch and ``on_exchange`` exactly once afterwards, whatever happened
(success, error, client gone); the router's ``observe`` likewise. Those two run
shortly after the response has gone out (``Runtime.afterwards``: the client reads
it first), and before the next request is routed. Observer errors are logged and
swallowed: they never break a request.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from functools import partial
from typing import Any

import orjson
from aiohttp import web

from sidecar.errors import InternalError, InvalidRequest, TierlineError
from sidecar.exchange import Protocol
from sidecar.ingress.keys import OBSERVERS, ROUTER, RUNTIME
from sidecar.ingress.shapes import check_shape
from sidecar.routing.plan import RoutePlan
from sidecar.upstream.call import Call
from sidecar.upstream.outcome import REQUEST_ID
from sidecar.upstream.target import send_whole

_log = logging.getLogger("tierline.ingress")


def json_object(raw: bytes) -> dict[str, Any]:
    """A request body (``await request.read()``) as a JSON object, or InvalidRequest
    saying what is wrong."""
    if not raw:
        raise InvalidRequest("the request body is empty; send a JSON object")
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise InvalidRequest(f"the request body is not valid JSON: {exc}") from None
    if not isinstance(body, dict):
        raise InvalidRequest("the request body must be a JSON object")
    return body


def validate(protocol: Protocol, body: Mapping[str, Any], *, count_only: bool = False) -> None:
    """Check the fields tierline relies on (and the types every reader dereferences,
    ``shapes.check_shape``, which also names a message that is not an object); the
    provider checks the rest."""
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise InvalidRequest("`model`: required, a non-empty string", param="model")
    if protocol == "responses":  # OpenAI Responses API: ``input`` instead of ``messages``
        items = body.get("input")
        if not items or not isinstance(items, str | list):
            raise InvalidRequest("`input`: required, a string or a non-empty array", param="input")
        for key in ("previous_response_id", "conversation"):  # tierline keeps no response state
            if body.get(key):
                raise InvalidRequest(
                    f"`{key}` is not supported: tierline stores no responses; send the whole "
                    "conversation in `input` (and `store: false`)",
                    param=key,
                )
        check_shape(protocol, body)
        return
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise InvalidRequest("`messages`: required, a non-empty array", param="messages")
    if "stream" in body and not isinstance(body["stream"], bool):
        raise InvalidRequest("`stream`: must be true or false", param="stream")
    if protocol == "anthropic" and not count_only:
        tokens = body.get("max_tokens")
        if not isinstance(tokens, int) or isinstance(tokens, bool) or tokens < 1:
            raise InvalidRequest("`max_tokens`: required, a positive integer", param="max_tokens")
    check_shape(protocol, body)


def notify_request(
    request: web.Request, protocol: Protocol, body: Mapping[str, Any], plan: RoutePlan
) -> None:
    for observer in request.app[OBSERVERS]:
        try:
            observer.on_request(protocol, body, request.headers, plan)
        except Exception:
            _log.exception("observer on_request failed", extra={"observer": repr(observer)})


def finish(request: web.Request, call: Call, plan: RoutePlan | None) -> None:
    """Freeze the call and hand it to the router and every observer, exactly once
    (queued on ``Runtime.afterwards`` when the response has gone out)."""
    exchange = call.exchange(plan)
    app = request.app
    if plan is not None:
        try:
            app[ROUTER].observe(plan, exchange)
        except Exception:
            _log.exception("router observe failed")
    for observer in app[OBSERVERS]:
        try:
            observer.on_exchange(exchange, plan)
        except Exception:
            _log.exception("observer on_exchange failed", extra={"observer": repr(observer)})


async def generate(protocol: Protocol, request: web.Request) -> web.StreamResponse:
    """The shared flow; ``chat_completions``, ``messages`` and ``responses`` are it with the
    protocol bound (``partial``: one coroutine frame less per request)."""
    body = json_object(await request.read())
    call = Call(request[REQUEST_ID], protocol, body.get("stream") is True, str(body.get("model")))
    plan: RoutePlan | None = None
    app = request.app  # a property chain: looked up once
    runtime = app[RUNTIME]
    runtime.afterwards.flush()  # earlier requests' observe: the session state routing reads
    try:
        validate(protocol, body)
        router = app[ROUTER]
        if router.loads:  # (a coroutine less per request when there is nothing to load)
            await router.load(protocol, body, request.headers)
        plan = router.route(protocol, body, request.headers)
        notify_request(request, protocol, body, plan)
        dispatcher = runtime.dispatcher
        if dispatcher is None:
            raise InternalError("tierline is not started (no upstream session)")
        response = await dispatcher.run(request, call, plan, plan.body if plan.body else body)
        if not response.prepared:  # a provider's 400 passed through (answers go out in dispatch)
            await send_whole(request, response, call)
        return response
    except TierlineError as err:
        call.fail(err.status, err.type)
        raise
    except asyncio.CancelledError:
        call.fail(499, "client_disconnected")
        raise
    except Exception:
        call.fail(500, "api_error")
        raise
    finally:
        call.stop()
        runtime.afterwards.add(finish, request, call, plan)


chat_completions = partial(generate, "openai")
messages = partial(generate, "anthropic")
responses = partial(generate, "responses")  # always translated: providers speak chat, messages
