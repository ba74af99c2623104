"""The aiohttp side of telemetry: app keys, lifecycle, SERVER spans, /metrics.

``telemetry_ctx`` builds the app's providers at startup (cleanup_ctx) and
flushes and shuts them down at cleanup, in a worker thread so the loop never
blocks on a slow collector. ``server_span_middleware`` opens one SERVER span
per inbound request, continuing a W3C ``traceparent`` the client sent; the
CLIENT span per upstream attempt (dispatch) becomes its child. ``/metrics``
renders the app's own Prometheus registry in a worker thread.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, MutableMapping

from aiohttp import web
from opentelemetry import trace
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from sidecar.config import Config
from sidecar.telemetry import names
from sidecar.telemetry.settings import resolve_settings
from sidecar.telemetry.setup import Telemetry, build_telemetry

TELEMETRY = web.AppKey("tierline_telemetry", Telemetry)
_UNTRACED = frozenset({"/metrics", "/healthz", "/readyz"})
_SHUTDOWN_TIMEOUT_S = 15.0

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def build_for_app(config: Config, env: Mapping[str, str]) -> Telemetry:
    """Providers for one app from its config and the environment."""
    settings = resolve_settings(config.telemetry, env)
    return build_telemetry(settings, serve_metrics=config.server.metrics)


async def shutdown(telemetry: Telemetry) -> None:
    """Flush and stop exporters off the event loop, bounded in time."""
    try:
        await asyncio.wait_for(asyncio.to_thread(telemetry.shutdown), _SHUTDOWN_TIMEOUT_S)
    except TimeoutError:
        pass  # the exporter threads are daemons; what is left is dropped


@web.middleware
async def server_span_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """One SERVER span per request (when traces are exported); never fails the request."""
    telemetry = request.app.get(TELEMETRY)
    if telemetry is None or telemetry.tracer_provider is None or request.path in _UNTRACED:
        return await handler(request)
    parent = TraceContextTextMapPropagator().extract(request.headers)
    route = _route(request)
    attributes = {
        names.HTTP_METHOD: request.method,
        names.HTTP_ROUTE: route,
        names.URL_PATH: request.path,
    }
    with telemetry.tracer.start_as_current_span(
        f"{request.method} {route}",
        context=parent,
        kind=trace.SpanKind.SERVER,
        attributes=attributes,
        record_exception=False,
        set_status_on_exception=False,
    ) as span:
        try:
            response = await handler(request)
        except web.HTTPException as exc:
            span.set_attribute(names.HTTP_STATUS, exc.status)
            raise
        except BaseException as exc:
            span.set_attribute(names.ERROR_TYPE, type(exc).__name__)
            span.set_status(trace.Status(trace.StatusCode.ERROR))
            raise
        span.set_attribute(names.HTTP_STATUS, response.status)
        if response.status >= 500:
            span.set_status(trace.Status(trace.StatusCode.ERROR))
        return response


def _route(request: web.Request) -> str:
    info = request.match_info
    route = getattr(info, "route", None)
    resource = getattr(route, "resource", None)
    canonical = getattr(resource, "canonical", None)
    return canonical if isinstance(canonical, str) else request.path


def inject_trace(headers: MutableMapping[str, str]) -> None:
    """Add ``traceparent`` for the current span (only when propagate_trace is on)."""
    TraceContextTextMapPropagator().inject(headers)


def metrics_handler(registry: CollectorRegistry) -> Handler:
    """GET /metrics for one registry (the main app and the admin listener share it)."""

    async def handle(request: web.Request) -> web.StreamResponse:
        body = await asyncio.to_thread(generate_latest, registry)
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})

    return handle


def telemetry_ctx(
    config: Config, env: Mapping[str, str]
) -> Callable[[web.Application], AsyncIterator[None]]:
    """cleanup_ctx: build providers into ``app[TELEMETRY]``; flush and stop them at exit."""

    async def ctx(app: web.Application) -> AsyncIterator[None]:
        telemetry = build_for_app(config, env)
        app[TELEMETRY] = telemetry
        try:
            yield
        finally:
            await shutdown(telemetry)

    return ctx
