"""The aiohttp side of telemetry: wiring into an app, lifecycle, SERVER spans.

``install`` (called by ``build_app``) gives the app its own Prometheus
registry (what ``/metrics`` serves, also on the admin listener), its tracer
and the SERVER-span middleware, and registers a cleanup context that builds
the providers and the recorder at startup and flushes and shuts them down at
cleanup, in a worker thread so the loop never blocks on a slow collector.
``server_span_middleware`` opens one SERVER span per inbound request,
continuing a W3C ``traceparent`` the client sent; the CLIENT span per
upstream attempt (dispatch) becomes its child.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from opentelemetry import trace
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from prometheus_client import CollectorRegistry

from sidecar.config import Config, ModelConfig
from sidecar.ledger.baseline import choose_baseline
from sidecar.ledger.pricing import Pricer
from sidecar.telemetry import names
from sidecar.telemetry.record import TelemetryRecorder
from sidecar.telemetry.settings import resolve_settings
from sidecar.telemetry.setup import Telemetry, build_telemetry
from sidecar.telemetry.summary import format_summary

_log = logging.getLogger("tierline.telemetry")
_UNTRACED = frozenset({"/metrics", "/healthz", "/readyz"})
_SHUTDOWN_TIMEOUT_S = 15.0

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


async def shutdown(telemetry: Telemetry) -> None:
    """Flush and stop exporters off the event loop, bounded in time."""
    try:
        await asyncio.wait_for(asyncio.to_thread(telemetry.shutdown), _SHUTDOWN_TIMEOUT_S)
    except TimeoutError:
        pass  # the exporter threads are daemons; what is left is dropped


@web.middleware
async def server_span_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """One SERVER span per request (when traces are exported); never fails the request."""
    state = request.app.get(TELEMETRY_STATE)
    telemetry = state.telemetry if state is not None else None
    if telemetry is None or telemetry.traces is None or request.path in _UNTRACED:
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


class DeferredTracer(trace.Tracer):
    """The app's tracer: a no-op until startup installs the app's TracerProvider.

    ``app[TRACER]`` must exist when the app is built (it is frozen at startup),
    while providers are built in the cleanup context; this indirection bridges
    the two without touching the global TracerProvider.
    """

    def __init__(self) -> None:
        self.inner = trace.NoOpTracer()

    @property
    def inner(self) -> trace.Tracer:
        return self._inner

    @inner.setter
    def inner(self, tracer: trace.Tracer) -> None:
        """Install ``tracer``; its own bound methods answer from now on (no forwarding
        call per span)."""
        self._inner = tracer
        self.start_span = tracer.start_span  # type: ignore[method-assign]
        self.start_as_current_span = tracer.start_as_current_span  # type: ignore[method-assign]

    def start_span(self, *args: Any, **kwargs: Any) -> trace.Span:
        return self._inner.start_span(*args, **kwargs)

    def start_as_current_span(self, *args: Any, **kwargs: Any) -> Any:
        return self._inner.start_as_current_span(*args, **kwargs)


@dataclass
class TelemetryState:
    """What one app's telemetry is; filled at startup, emptied at cleanup."""

    registry: CollectorRegistry | None
    tracer: DeferredTracer = field(default_factory=DeferredTracer)
    telemetry: Telemetry | None = None
    recorder: TelemetryRecorder | None = None


TELEMETRY_STATE = web.AppKey("tierline.telemetry_state", TelemetryState)


def baseline_for(config: Config, pricer: Pricer) -> ModelConfig | None:
    """routing.baseline_model, else the catalog's top reasoning model, else the dearest."""
    top: ModelConfig | None = None
    if not config.routing.baseline_model:
        try:
            from sidecar.catalog import default_catalog
            from sidecar.routing.catalog import TierBuilder

            table = TierBuilder(config, default_catalog()).build()
            ranked = table.candidates.get(table.order[0], ()) if table.order else ()
            top = next((m for m in ranked if pricer.knows(m)), None)
        except Exception:  # noqa: BLE001 - no catalog: fall back to the dearest model
            _log.exception("catalog unavailable for the baseline model")
    return choose_baseline(config, pricer, top)


def install(app: web.Application, config: Config, env: Mapping[str, str]) -> TelemetryState:
    """Wire telemetry into an app being built (before it is frozen).

    Sets ``app[METRICS_REGISTRY]`` (an app-owned registry) and ``app[TRACER]``,
    puts the SERVER-span middleware in front when traces go out (the settings are
    pure: resolved here as at startup), and registers the cleanup
    context that builds the providers and the recorder (appended to
    ``app[OBSERVERS]``) at startup and flushes them at cleanup.
    """
    from sidecar.ingress.keys import METRICS_REGISTRY, OBSERVERS, TRACER

    registry = CollectorRegistry(auto_describe=True) if config.server.metrics else None
    state = TelemetryState(registry)
    app[TELEMETRY_STATE] = state
    if registry is not None:
        app[METRICS_REGISTRY] = registry
    app[TRACER] = state.tracer
    settings = resolve_settings(config.telemetry, env)
    if settings.traces is not None:
        app.middlewares.insert(0, server_span_middleware)
    observers = app[OBSERVERS]

    async def ctx(app: web.Application) -> AsyncIterator[None]:
        telemetry = build_telemetry(settings, registry=registry)
        recorder = TelemetryRecorder(
            config, telemetry, baseline_for(config, Pricer(config.providers))
        )
        state.telemetry, state.recorder = telemetry, recorder
        state.tracer.inner = telemetry.tracer
        observers.append(recorder)
        listen = _session_drops(app, telemetry)
        try:
            yield
        finally:
            if listen is not None:
                listen(None)
            observers.remove(recorder)
            state.tracer.inner = trace.NoOpTracer()
            await shutdown(telemetry)

    app.cleanup_ctx.append(ctx)
    return state


def _session_drops(app: web.Application, telemetry: Telemetry) -> Callable[[Any], None] | None:
    """Count the shared session store's dropped writes (a Redis store has ``on_dropped``)
    in ``tierline.telemetry.dropped{signal="session_state"}``; returns the setter."""
    from sidecar.ingress.keys import ROUTER

    found = getattr(getattr(app.get(ROUTER), "store", None), "on_dropped", None)
    if not callable(found):
        return None
    listen: Callable[[Any], None] = found
    counter = telemetry.meter.create_counter(  # the same instrument build_telemetry made
        names.TELEMETRY_DROPPED, unit="{record}", description="Telemetry records dropped"
    )
    listen(lambda n: counter.add(n, {names.A_SIGNAL: "session_state"}))
    return listen


def summary_sections(app: web.Application) -> list[str]:
    """``tierline demo``'s closing summary from the app's recorder (empty if none ran)."""
    state = app.get(TELEMETRY_STATE)
    if state is None or state.recorder is None:
        return []
    recorder = state.recorder
    baseline = recorder.baseline.model.name if recorder.baseline.model else None
    return ["", format_summary(recorder.tally, baseline)]
