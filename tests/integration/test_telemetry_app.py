"""Telemetry through the whole app: shadow-mode projected cost, the default baseline,
and exporter threads only when an endpoint is set (stopped at shutdown).

tierline runs over loopback in front of the fake provider and exports OTLP/HTTP
to the fake receiver; records and data points are read off the receiver after
the app's cleanup flushed them.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import ClientSession
from aiohttp.test_utils import TestServer

from sidecar.app import build_app
from sidecar.config import Config
from sidecar.exchange import Usage
from sidecar.ledger.pricing import Pricer
from sidecar.telemetry import names
from tests.conftest import make_config
from tests.fakes.otlp import RECEIVER, Receiver, build_otlp_app

CC_SYSTEM = "You are Claude Code, Anthropic's official CLI for Claude."
CC_HEADERS = {
    "user-agent": "claude-cli/2.0.14 (external, cli)",
    "x-claude-code-session-id": "s1",
    "anthropic-version": "2023-06-01",
    "x-api-key": "client-key",
}
# Catalog models at the fake (genai-prices knows their prices), and one dear model in no
# tier: "the most expensive configured model" would pick it, the catalog rule must not.
MODELS = {
    "claude-opus-4-7": {"provider": "an", "upstream": "claude-opus-4-7"},
    "claude-sonnet-4-5": {"provider": "an", "upstream": "claude-sonnet-4-5"},
    "claude-haiku-4-5": {"provider": "an", "upstream": "claude-haiku-4-5"},
    "dear": {"provider": "oa", "upstream": "fake-dear", "prices": {"input": 900, "output": 900}},
}
TIERS = {
    "reasoning": ["claude-opus-4-7"],
    "coding": ["claude-sonnet-4-5"],
    "quick": ["claude-haiku-4-5"],
}


@pytest.fixture
async def otlp(aiohttp_server: Any) -> AsyncIterator[tuple[Receiver, str]]:
    app = build_otlp_app()
    server = await aiohttp_server(app)
    yield app[RECEIVER], str(server.make_url("")).rstrip("/")


def _config(fake: TestServer, otlp_url: str | None, **routing: Any) -> Config:
    routing = {"default_model": "claude-sonnet-4-5", "tiers": TIERS, **routing}
    config = make_config(fake, models=MODELS, routing=routing)
    telemetry = dataclasses.replace(
        config.telemetry, endpoint=otlp_url, export_interval_ms=3_600_000
    )
    return dataclasses.replace(config, telemetry=telemetry)


async def _plan_request(server: TestServer) -> dict[str, str]:
    body = {
        "model": "claude-sonnet-4-5",
        "max_tokens": 64,
        "system": CC_SYSTEM,
        "messages": [{"role": "user", "content": "/plan the rollout of the new billing system"}],
    }
    async with ClientSession() as http:
        async with http.post(server.make_url("/v1/messages"), json=body, headers=CC_HEADERS) as r:
            assert r.status == 200, await r.text()
            await r.read()
            return dict(r.headers)


def _usage(attrs: dict[str, Any]) -> Usage:
    return Usage(
        input_tokens=attrs["tierline.usage.input_tokens"],
        output_tokens=attrs["tierline.usage.output_tokens"],
        cache_read_tokens=attrs["tierline.usage.cache_read_tokens"],
        cache_write_tokens=attrs["tierline.usage.cache_write_tokens"],
        cache_write_1h_tokens=attrs["tierline.usage.cache_write_1h_tokens"],
    )


async def test_shadow_mode_records_what_the_routers_choice_would_have_cost(
    fake: TestServer, otlp: Any
) -> None:
    rx, url = otlp
    config = _config(fake, url, mode="shadow")
    server = TestServer(build_app(config))
    await server.start_server()
    try:
        headers = await _plan_request(server)
    finally:
        await server.close()  # cleanup flushes records and metrics
    assert headers["x-tierline-model"] == "claude-sonnet-4-5"  # sent as asked
    assert "shadow=claude-opus-4-7" in headers["x-tierline-route"]
    (record,) = rx.log_records()
    a = record["attributes"]
    assert a["tierline.shadow.model"] == "claude-opus-4-7"
    pricer = Pricer(config.providers)
    usage = _usage(a)
    shadow = pricer.price(config.models["claude-opus-4-7"], usage).usd
    cost = pricer.price(config.models["claude-sonnet-4-5"], usage).usd
    assert shadow is not None and cost is not None and shadow > cost > 0
    assert a["tierline.cost.shadow_usd"] == pytest.approx(shadow)
    assert a["tierline.cost.usd"] == pytest.approx(cost)
    assert a["tierline.cost.shadow_savings_usd"] == pytest.approx(cost - shadow)
    (point,) = rx.latest(names.COST_SHADOW)
    assert point.attributes == {
        "model": "claude-sonnet-4-5",
        "provider": "an",
        "tier": a["tierline.tier"],
    }
    assert point.value == pytest.approx(shadow)


async def test_route_mode_records_no_shadow_cost(fake: TestServer, otlp: Any) -> None:
    rx, url = otlp
    server = TestServer(build_app(_config(fake, url)))
    await server.start_server()
    try:
        await _plan_request(server)
    finally:
        await server.close()
    (record,) = rx.log_records()
    assert "tierline.shadow.model" not in record["attributes"]
    assert rx.latest(names.COST_SHADOW) == []


async def test_default_baseline_is_the_catalogs_top_reasoning_model(
    fake: TestServer, otlp: Any
) -> None:
    rx, url = otlp
    config = _config(fake, url)
    assert not config.routing.baseline_model
    server = TestServer(build_app(config))
    await server.start_server()
    try:
        await _plan_request(server)
    finally:
        await server.close()
    (record,) = rx.log_records()
    a = record["attributes"]
    assert a["tierline.baseline.model"] == "claude-opus-4-7"  # not "dear", the priciest
    opus = Pricer(config.providers).price(config.models["claude-opus-4-7"], _usage(a)).usd
    assert a["tierline.cost.baseline_usd"] == pytest.approx(opus)


def _otel_threads() -> set[threading.Thread]:
    """The exporter threads: the SDK's (OtelBatchSpanRecordProcessor,
    OtelPeriodicExportingMetricReader) and tierline's (tierline-logs)."""
    return {t for t in threading.enumerate() if t.name.startswith(("Otel", "tierline-"))}


async def test_no_exporter_threads_without_an_endpoint(fake: TestServer, otlp: Any) -> None:
    before = set(threading.enumerate())
    server = TestServer(build_app(_config(fake, None)))
    await server.start_server()
    try:
        await _plan_request(server)  # recorded (metrics for /metrics), nothing exported
        started = set(threading.enumerate()) - before
        assert not _otel_threads() & started, started
    finally:
        await server.close()


async def test_exporter_threads_with_an_endpoint_stop_at_shutdown(
    fake: TestServer, otlp: Any
) -> None:
    _, url = otlp
    before = set(threading.enumerate())
    server = TestServer(build_app(_config(fake, url)))
    await server.start_server()
    try:
        await _plan_request(server)
        started = _otel_threads() & (set(threading.enumerate()) - before)
        assert len(started) == 3, started  # logs and spans batch workers, metric reader
    finally:
        await server.close()
    assert not any(t.is_alive() for t in started), started


async def test_plan_exhausted_counts_only_plans_that_ran_out(fake: TestServer, otlp: Any) -> None:
    """A malformed request and a provider's plain 400 passed back are the client's own
    errors: not ``tierline.plan.exhausted``; all candidates failing is."""
    rx, url = otlp
    models = {
        **MODELS,
        "bad": {"provider": "an", "upstream": "fake-badrequest"},
        "down": {"provider": "an", "upstream": "fake-error500"},
    }
    config = make_config(fake, models=models, routing={"default_model": "claude-sonnet-4-5"})
    telemetry = dataclasses.replace(config.telemetry, endpoint=url, export_interval_ms=3_600_000)
    server = TestServer(build_app(dataclasses.replace(config, telemetry=telemetry)))
    await server.start_server()
    message = [{"role": "user", "content": "hi"}]
    bodies = [
        (
            {"model": "claude-sonnet-4-5", "max_tokens": 8, "messages": message, "stream": "yes"},
            400,
        ),
        ({"model": "bad", "max_tokens": 8, "messages": message}, 400),
        ({"model": "down", "max_tokens": 8, "messages": message}, None),
    ]
    headers = {"anthropic-version": "2023-06-01", "x-api-key": "client-key"}
    try:
        async with ClientSession() as http:
            for body, status in bodies:
                async with http.post(
                    server.make_url("/v1/messages"), json=body, headers=headers
                ) as r:
                    await r.read()
                    assert r.status == status if status else r.status >= 500, body
    finally:
        await server.close()
    assert len(rx.log_records()) == 3
    points = rx.latest(names.PLAN_EXHAUSTED)
    assert sum(p.value for p in points) == 1.0
    assert all(p.attributes["tier"] != "none" for p in points)


async def test_configured_prices_win_over_genai_prices_in_the_record(
    fake: TestServer, otlp: Any
) -> None:
    rx, url = otlp
    free = {"input": 0, "output": 0, "cache_read": 0, "cache_write": 0}  # e.g. self-hosted
    models = {name: {**table, "prices": free} for name, table in MODELS.items()}
    config = make_config(fake, models=models, routing={"default_model": "claude-sonnet-4-5"})
    telemetry = dataclasses.replace(config.telemetry, endpoint=url, export_interval_ms=3_600_000)
    server = TestServer(build_app(dataclasses.replace(config, telemetry=telemetry)))
    await server.start_server()
    try:
        await _plan_request(server)
    finally:
        await server.close()
    (record,) = rx.log_records()
    a = record["attributes"]
    assert a["tierline.model"].startswith("claude-")  # a model genai-prices knows
    assert a["tierline.usage.output_tokens"] > 0
    assert a["tierline.cost.usd"] == 0.0
    assert a["tierline.cost.source"] == "config"
