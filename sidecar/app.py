"""The one composition root: ``build_app(config)`` wires every part; ``serve`` runs it.

Seams (see ``sidecar.ingress.keys`` for every key):

- router: ``app[ROUTER]`` (``route`` / ``observe``); the static router until the
  routing engine replaces the one line marked ``router``;
- observers: ``app[OBSERVERS]`` list, access log first; telemetry appends its
  recorder below the line marked ``observers`` (before the app starts);
- tracing: ``app[TRACER]``; dispatch opens one CLIENT span per attempt with it;
  the SERVER-span middleware goes in front of ``middlewares`` below;
- metrics: ``app[METRICS_REGISTRY]`` (optional) is what ``/metrics`` serves;
- translation: ``app[TRANSLATORS]`` maps (client protocol, provider kind) to a
  ``TranslatorPair``; a missing pair makes dispatch skip the candidate
  ("protocol_mismatch").

Resources: exactly one ``aiohttp.ClientSession`` (CA bundle from
``server.ca_bundle`` or ``SSL_CERT_FILE``; ``HTTPS_PROXY``/``NO_PROXY`` resolved
once per provider at startup rather than aiohttp's per-request ``trust_env``
lookups) is created and closed by the cleanup context, which also
builds the ``Dispatcher`` and flips readiness. Nothing happens at import time.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import ssl
from collections.abc import AsyncIterator

from aiohttp import ClientSession, TCPConnector, web
from opentelemetry import trace

from sidecar import heap
from sidecar.access_log import AccessLog, Observer
from sidecar.config import Config
from sidecar.ingress.info import add_health_routes, add_routes
from sidecar.ingress.keys import (
    CONFIG,
    HEALTH,
    MAIN_APP,
    METRICS_REGISTRY,
    OBSERVERS,
    ROUTER,
    RUNTIME,
    TRACER,
    TRANSLATORS,
    Router,
    Runtime,
)
from sidecar.ingress.middleware import make_middleware
from sidecar.routing.engine import build_router
from sidecar.telemetry.http import install as install_telemetry
from sidecar.upstream.dispatch import Dispatcher
from sidecar.upstream.health import Health
from sidecar.upstream.providers import proxy_for
from sidecar.upstream.side_call import http_ask
from sidecar.upstream.translators import default_translators

__all__ = [
    "CONFIG",
    "HEALTH",
    "MAIN_APP",
    "METRICS_REGISTRY",
    "OBSERVERS",
    "ROUTER",
    "RUNTIME",
    "TRACER",
    "TRANSLATORS",
    "Router",
    "Runtime",
    "build_admin_app",
    "build_app",
    "run_server",
    "serve",
]

_log = logging.getLogger("tierline.server")


def build_app(config: Config) -> web.Application:
    """The proxy application for ``config`` (not started; no I/O happens here)."""
    server = config.server
    app = web.Application(
        middlewares=[make_middleware(server.max_body_bytes)],
        client_max_size=server.max_body_bytes,
    )
    app[CONFIG] = config
    health = Health(
        cooldown_seconds=server.cooldown_seconds,
        key_cooldown_seconds=server.key_cooldown_seconds,
    )
    proxies = {name: proxy_for(p.base_url, os.environ) for name, p in config.providers.items()}
    ask = http_ask(lambda: app[RUNTIME].session, config.providers, health, proxies)
    router = build_router(config, ask=ask)  # router: its LLM classifier shares keys and proxies
    app[ROUTER] = router
    app.cleanup_ctx.append(router.lifespan)  # session store: connection + write-behind task
    access_log = AccessLog()
    observers: list[Observer] = [access_log]  # observers
    app[OBSERVERS] = observers
    app.on_cleanup.append(lambda _: _flushed(access_log))  # the last tick's lines
    app[TRACER] = trace.get_tracer("tierline")
    app[HEALTH] = health
    app[TRANSLATORS] = default_translators()
    app[RUNTIME] = Runtime()
    install_telemetry(app, config, os.environ)  # telemetry: registry, tracer, recorder, spans
    app.cleanup_ctx.append(_upstream_session)
    app.cleanup_ctx.append(_afterwards)  # last in: exits first, before telemetry and store
    add_routes(app)
    return app


async def _afterwards(app: web.Application) -> AsyncIterator[None]:
    """At cleanup, run what the last requests left for after their responses."""
    yield
    app[RUNTIME].afterwards.flush()


async def _flushed(access_log: AccessLog) -> None:
    """Write the access-log lines still waiting for the end of the loop tick."""
    access_log.flush()


def build_admin_app(main: web.Application) -> web.Application:
    """The admin listener's app: /healthz, /readyz, /metrics about ``main``."""
    admin = web.Application(middlewares=[make_middleware(64 * 1024)])
    admin[MAIN_APP] = main
    add_health_routes(admin)
    return admin


def ssl_context(config: Config) -> ssl.SSLContext | None:
    """Outbound TLS context: ``server.ca_bundle``, else ``SSL_CERT_FILE``, else None (system)."""
    cafile = config.server.ca_bundle or os.environ.get("SSL_CERT_FILE")
    if not cafile:
        return None
    return ssl.create_default_context(cafile=cafile)


async def _upstream_session(app: web.Application) -> AsyncIterator[None]:
    """Own the one ClientSession for the app's lifetime; build the dispatcher on it."""
    config = app[CONFIG]
    connector = TCPConnector(limit=0, ssl=ssl_context(config) or True, ttl_dns_cache=300)
    session = ClientSession(connector=connector)
    runtime = app[RUNTIME]
    runtime.session = session
    proxies = {name: proxy_for(p.base_url, os.environ) for name, p in config.providers.items()}
    runtime.dispatcher = Dispatcher(
        config, session, app[HEALTH], app[TRACER], app[TRANSLATORS], proxies
    )
    runtime.ready = True
    try:
        yield
    finally:
        runtime.ready = False
        runtime.dispatcher = None
        runtime.session = None
        await session.close()


def make_runner(app: web.Application) -> web.AppRunner:
    """A runner that cancels a handler when its client disconnects (so is the upstream call)."""
    return web.AppRunner(app, handler_cancellation=True, access_log=None, shutdown_timeout=30.0)


async def run_server(
    config: Config,
    stop: asyncio.Event | None = None,
    listening: asyncio.Event | None = None,
    settle_heap: bool = False,
) -> None:
    """Serve until ``stop`` is set (default: SIGINT/SIGTERM), then shut down gracefully.

    ``listening`` is set once both listeners accept connections; ``settle_heap``
    (the ``tierline serve`` process) then calls ``sidecar.heap.settle``. On stop,
    readiness turns false first, in-flight requests get up to 30 s, then the
    admin listener closes last so probes see the drain.
    """
    server = config.server
    app = build_app(config)
    runner = make_runner(app)
    await runner.setup()
    admin_runner: web.AppRunner | None = None
    try:
        await web.TCPSite(runner, server.host, server.port).start()
        _log.info({"event": "listening", "url": f"http://{server.host}:{server.port}"})
        if server.admin_port is not None:
            admin_runner = web.AppRunner(build_admin_app(app), access_log=None)
            await admin_runner.setup()
            admin_host = server.admin_host or server.host
            await web.TCPSite(admin_runner, admin_host, server.admin_port).start()
            _log.info(
                {"event": "admin_listening", "url": f"http://{admin_host}:{server.admin_port}"}
            )
        stop = stop or _signal_event()
        if settle_heap:
            heap.settle()
        if listening is not None:
            listening.set()
        await stop.wait()
        _log.info({"event": "shutting_down"})
    finally:
        app[RUNTIME].ready = False
        await runner.cleanup()
        if admin_runner is not None:
            await admin_runner.cleanup()


def _signal_event() -> asyncio.Event:
    event = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, event.set)
        except (NotImplementedError, RuntimeError):  # not the main thread / platform
            pass
    return event


def serve(config: Config) -> None:
    """``tierline serve``: run until SIGINT/SIGTERM."""
    asyncio.run(run_server(config, settle_heap=True))
