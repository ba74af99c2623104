"""The fake provider's recording and control endpoints and its per-app state.

``/_fake/requests`` (GET lists, DELETE clears), ``/_fake/script`` (POST queues
scripted replies, DELETE drops them), ``/_fake/reset`` and ``/v1/models``; the
contract is in ``sidecar.demo.fake_provider``'s docstring. State lives in the
app (``FAKE_STATE``), never in the module.
"""

from __future__ import annotations

import itertools
from collections import OrderedDict, deque
from dataclasses import dataclass, field
from typing import Any

import orjson
from aiohttp import web

from sidecar.demo import fake_wire as wire


@dataclass
class FakeState:
    """Mutable per-app state of the fake (owned by the app, reset by POST /_fake/reset)."""

    models: tuple[str, ...]
    requests: deque[dict[str, Any]]
    fail_counts: dict[str, int] = field(default_factory=dict)
    scripts: dict[str, deque[dict[str, Any]]] = field(default_factory=dict)
    cache_seen: OrderedDict[bytes, None] = field(default_factory=OrderedDict)
    ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))


FAKE_STATE = web.AppKey("fake_state", FakeState)


def add_control_routes(app: web.Application) -> None:
    app.router.add_get("/v1/models", _models)
    app.router.add_get("/_fake/requests", _list_requests)
    app.router.add_delete("/_fake/requests", _clear_requests)
    app.router.add_post("/_fake/script", _script)
    app.router.add_delete("/_fake/script", _clear_script)
    app.router.add_post("/_fake/reset", _reset)


async def record(request: web.Request, behavior: str = "") -> tuple[dict[str, Any] | None, str]:
    """Parse and record the body; returns (body or None, error message)."""
    raw = await request.read()
    body: Any = None
    error = ""
    if raw:
        try:
            body = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            error = f"invalid JSON body: {exc}"
    if body is not None and not isinstance(body, dict):
        error, body = "request body must be a JSON object", None
    request.app[FAKE_STATE].requests.append(
        {
            "method": request.method,
            "path": request.path,
            "query": dict(request.query),
            "headers": {k.lower(): v for k, v in request.headers.items()},
            "body": body,
            "behavior": behavior,
        }
    )
    return body, error


async def _list_requests(request: web.Request) -> web.Response:
    return web.json_response(list(request.app[FAKE_STATE].requests), dumps=dumps)


async def _clear_requests(request: web.Request) -> web.Response:
    request.app[FAKE_STATE].requests.clear()
    return web.json_response({"cleared": True})


async def _reset(request: web.Request) -> web.Response:
    state = request.app[FAKE_STATE]
    state.requests.clear()
    state.fail_counts.clear()
    state.scripts.clear()
    state.cache_seen.clear()
    return web.json_response({"reset": True})


async def _script(request: web.Request) -> web.Response:
    try:
        data = orjson.loads(await request.read())
    except orjson.JSONDecodeError as exc:
        return web.json_response({"error": f"invalid JSON: {exc}"}, status=400)
    model = "*"
    if isinstance(data, dict):
        model, data = str(data.get("model") or "*"), data.get("replies")
    if not isinstance(data, list) or not all(isinstance(item, dict) for item in data):
        return web.json_response({"error": "expected a list of reply objects"}, status=400)
    queue = request.app[FAKE_STATE].scripts.setdefault(model, deque())
    queue.extend(data)
    return web.json_response({"queued": len(data), "model": model, "pending": len(queue)})


async def _clear_script(request: web.Request) -> web.Response:
    request.app[FAKE_STATE].scripts.clear()
    return web.json_response({"cleared": True})


def dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


async def _models(request: web.Request) -> web.Response:
    models = request.app[FAKE_STATE].models
    if "anthropic-version" in request.headers:
        data = [
            {"type": "model", "id": m, "display_name": m, "created_at": "2025-01-01T00:00:00Z"}
            for m in models
        ]
        first, last = (models[0], models[-1]) if models else (None, None)
        return web.json_response(
            {"data": data, "has_more": False, "first_id": first, "last_id": last}
        )
    listing: list[dict[str, Any]] = [
        {"id": m, "object": "model", "created": wire.CREATED, "owned_by": "fake"} for m in models
    ]
    return web.json_response({"object": "list", "data": listing})
