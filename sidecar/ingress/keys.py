"""Application keys: the typed slots of the one composition root (``sidecar.app``).

Defined here so ingress handlers can read them without importing ``app``;
``sidecar.app`` re-exports every key. What each slot holds, and who fills it:

- ``CONFIG``: the frozen ``Config`` (build_app).
- ``ROUTER``: an object with ``route`` / ``observe`` (build_app: the static
  router; the router helper swaps in its engine there).
- ``OBSERVERS``: the list of observers (access log first; telemetry appends its
  recorder in build_app, before the app starts).
- ``TRACER``: an OpenTelemetry ``Tracer`` (default: the API's proxy tracer, a
  no-op until a TracerProvider is installed).
- ``HEALTH``: key rotation and cooldowns (``upstream.health.Health``).
- ``TRANSLATORS``: (client protocol, provider kind) -> ``TranslatorPair``.
- ``RUNTIME``: what exists only while the app runs (the one ``ClientSession``,
  the ``Dispatcher``, readiness), filled by the cleanup context; and the queue of
  work requests leave for after their responses (``afterwards``).
- ``METRICS_REGISTRY``: optional ``prometheus_client`` registry for /metrics
  (telemetry sets it; absent: the process-wide default registry).
- ``MAIN_APP``: on the admin app only, the main app it reports on.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from aiohttp import ClientSession, web
from opentelemetry.trace import Tracer
from prometheus_client import CollectorRegistry

from sidecar.access_log import Observer
from sidecar.config import Config
from sidecar.exchange import Exchange
from sidecar.ingress.afterwards import Afterwards
from sidecar.routing.plan import RoutePlan
from sidecar.upstream.dispatch import Dispatcher
from sidecar.upstream.health import Health
from sidecar.upstream.translators import TranslatorPair


class Router(Protocol):
    loads: bool  # whether ``load`` has anything to do (generate skips it otherwise)

    # Before route (bounded, never raises): fetch shared session state; also the LLM
    # classifier's answer for an unsure turn, unless peek (count_tokens).
    async def load(
        self,
        protocol: str,
        body: Mapping[str, Any],
        headers: Mapping[str, str],
        *,
        peek: bool = False,
    ) -> None: ...

    def route(
        self,
        protocol: str,
        body: Mapping[str, Any],
        headers: Mapping[str, str],
        *,
        peek: bool = False,
    ) -> RoutePlan: ...  # peek: decide without touching session state (count_tokens)

    def observe(self, plan: RoutePlan, exchange: Exchange) -> None: ...


@dataclass
class Runtime:
    """Mutable per-run state (the app itself is frozen once started)."""

    session: ClientSession | None = None
    dispatcher: Dispatcher | None = None
    ready: bool = False
    started: float = field(default_factory=time.time)
    afterwards: Afterwards = field(default_factory=Afterwards)  # flushed before it is read


CONFIG = web.AppKey("tierline.config", Config)
ROUTER: web.AppKey[Router] = web.AppKey("tierline.router")
OBSERVERS: web.AppKey[list[Observer]] = web.AppKey("tierline.observers")
TRACER = web.AppKey("tierline.tracer", Tracer)
HEALTH = web.AppKey("tierline.health", Health)
TRANSLATORS: web.AppKey[Mapping[tuple[str, str], TranslatorPair]] = web.AppKey(
    "tierline.translators"
)
RUNTIME = web.AppKey("tierline.runtime", Runtime)
METRICS_REGISTRY = web.AppKey("tierline.metrics_registry", CollectorRegistry)
MAIN_APP = web.AppKey("tierline.main_app", web.Application)
