"""Non-generation endpoints: count_tokens, models, root, health, readiness, metrics.

Health endpoints also run on the admin app, where ``MAIN_APP`` points at the
proxy app they report on (``_main``).
"""

from __future__ import annotations

import asyncio
import datetime

import orjson
from aiohttp import web
from prometheus_client import REGISTRY, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from sidecar import __version__
from sidecar.errors import InternalError, NotFound, error_body
from sidecar.ingress.handlers import json_object, validate
from sidecar.ingress.keys import CONFIG, HEALTH, MAIN_APP, METRICS_REGISTRY, ROUTER, RUNTIME
from sidecar.protocols.tokens import count_tokens_answer
from sidecar.upstream.count import forward_count_tokens


def _json(obj: object, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    out = {"Content-Type": "application/json"}
    if headers:
        out.update(headers)
    return web.Response(body=orjson.dumps(obj), status=status, headers=out)


def _main(request: web.Request) -> web.Application:
    return request.app.get(MAIN_APP) or request.app


async def count_tokens(request: web.Request) -> web.StreamResponse:
    """Forwarded to the chosen model's provider when it is Anthropic-kind, else estimated."""
    body = json_object(await request.read())
    validate("anthropic", body, count_only=True)
    app = request.app
    app[RUNTIME].afterwards.flush()  # earlier requests' observe: the session state
    await app[ROUTER].load("anthropic", body, request.headers, peek=True)  # shared state, no LLM
    plan = app[ROUTER].route("anthropic", body, request.headers, peek=True)  # not a turn
    model = plan.candidates[0]
    config = app[CONFIG]
    provider = config.providers.get(model.provider)
    headers = {"x-tierline-model": model.name}
    runtime = app[RUNTIME]
    session = runtime.session
    proxy = runtime.dispatcher.proxies.get(model.provider) if runtime.dispatcher else None
    if provider is not None and provider.kind == "anthropic" and session is not None:
        headers["x-tierline-provider"] = provider.name
        answer = await forward_count_tokens(
            session, app[HEALTH], provider, model, body, request.headers,
            config.server.connect_timeout, proxy,
        )  # fmt: skip
        if answer is not None:
            status, raw = answer
            headers["Content-Type"] = "application/json"
            return web.Response(status=status, body=raw, headers=headers)
    headers["x-tierline-estimate"] = "true"
    return _json(count_tokens_answer("anthropic", body), headers=headers)


def _model_names(app: web.Application) -> list[tuple[str, str]]:
    """(name, owner) for virtual models then configured ones."""
    config = app[CONFIG]
    virtual = ["auto", *config.routing.tier_order]
    virtual += [t for t in config.routing.tiers if t not in virtual]
    out = [(name, "tierline") for name in virtual if name not in config.models]
    out += [(name, m.provider) for name, m in config.models.items()]
    return out


def _stamp(started: int) -> str:
    return datetime.datetime.fromtimestamp(started, datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _openai_model(name: str, owner: str, started: int) -> dict[str, object]:
    return {"id": name, "object": "model", "created": started, "owned_by": owner}


def _anthropic_model(name: str, stamp: str) -> dict[str, object]:
    return {"type": "model", "id": name, "display_name": name, "created_at": stamp}


async def list_models(request: web.Request) -> web.StreamResponse:
    """OpenAI list shape; Anthropic's when the request carries ``anthropic-version``."""
    app = _main(request)
    started = int(app[RUNTIME].started)
    names = _model_names(app)
    if "anthropic-version" in request.headers:
        stamp = _stamp(started)
        data = [_anthropic_model(n, stamp) for n, _ in names]
        return _json({
            "data": data,
            "has_more": False,
            "first_id": data[0]["id"] if data else None,
            "last_id": data[-1]["id"] if data else None,
        })  # fmt: skip
    models = [_openai_model(n, o, started) for n, o in names]
    return _json({"object": "list", "data": models})


async def get_model(request: web.Request) -> web.StreamResponse:
    """One model of the list, in the same shapes; a 404 in the client's shape when unknown."""
    app = _main(request)
    started = int(app[RUNTIME].started)
    wanted = request.match_info["model_id"]
    anthropic = "anthropic-version" in request.headers
    for name, owner in _model_names(app):
        if name == wanted:
            if anthropic:
                return _json(_anthropic_model(name, _stamp(started)))
            return _json(_openai_model(name, owner, started))
    err = NotFound(f"model `{wanted}` not found", param="model", code="model_not_found")
    return _json(error_body("anthropic" if anthropic else "openai", err), status=err.status)


async def root(request: web.Request) -> web.StreamResponse:
    return _json({"name": "tierline", "version": __version__, "status": "ok"})


async def healthz(request: web.Request) -> web.StreamResponse:
    return _json({"status": "ok"})


async def readyz(request: web.Request) -> web.StreamResponse:
    runtime = _main(request)[RUNTIME]
    if runtime.ready:
        return _json({"status": "ready"})
    return _json({"status": "not ready"}, status=503)


async def metrics(request: web.Request) -> web.StreamResponse:
    """Prometheus text from the telemetry registry (or the default one); 404 when disabled."""
    app = _main(request)
    if not app[CONFIG].server.metrics:
        return web.Response(status=404, text="metrics are disabled (server.metrics = false)\n")
    registry = app.get(METRICS_REGISTRY) or REGISTRY
    app[RUNTIME].afterwards.flush()  # the requests whose responses have just gone out
    try:
        # Off the event loop: collection runs every instrument's callbacks.
        output = await asyncio.to_thread(generate_latest, registry)
    except Exception as exc:  # a broken collector must not take the endpoint down
        raise InternalError(f"metrics collection failed: {type(exc).__name__}") from exc
    return web.Response(body=output, headers={"Content-Type": CONTENT_TYPE_LATEST})


def add_routes(app: web.Application) -> None:
    """Every route of the proxy app."""
    from sidecar.ingress.handlers import chat_completions, messages, responses

    app.router.add_post("/v1/chat/completions", chat_completions)
    app.router.add_post("/v1/messages", messages)
    app.router.add_post("/v1/messages/count_tokens", count_tokens)
    app.router.add_post("/v1/responses", responses)
    app.router.add_get("/v1/models", list_models)
    app.router.add_get("/v1/models/{model_id:.+}", get_model)
    add_health_routes(app)
    app.router.add_get("/", root)


def add_health_routes(app: web.Application) -> None:
    """/healthz, /readyz, /metrics (proxy app and admin app)."""
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics)
