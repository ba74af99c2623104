"""A scripted agent session through tierline and the fake provider, observed end to end.

tierline exports OTLP/HTTP to the fake receiver (tests/fakes/otlp.py) and
serves /metrics, which a real Prometheus (started here on loopback) scrapes;
the test queries Prometheus over its HTTP API. The session is the demo's
(Claude Code and OpenCode shaped requests, an outage that falls back, edits
accepted and rejected, commits, a pull request).
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import shutil
import socket
import subprocess
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import ClientSession
from aiohttp.test_utils import TestServer

from sidecar.app import build_app
from sidecar.config import TelemetryConfig
from sidecar.demo.fake_provider import build_fake_app
from sidecar.demo.run import demo_config, play
from sidecar.demo.story import SESSION
from sidecar.telemetry import names
from sidecar.telemetry.http import TELEMETRY_STATE
from tests.ci import in_ci
from tests.fakes.otlp import RECEIVER, Receiver, build_otlp_app

PROMETHEUS = shutil.which("prometheus") or "/usr/bin/prometheus"
HEADERS = {"x-api-key": "demo-key", "anthropic-version": "2023-06-01"}
REQUESTS = len(SESSION) + 1  # the session plus the outage request
TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


@dataclasses.dataclass
class Session:
    receiver: Receiver
    tierline: TestServer
    fake_url: str
    rows: list[Any]
    app: Any


@pytest.fixture
async def session(aiohttp_server: Any) -> AsyncIterator[Session]:
    otlp = build_otlp_app()
    otlp_server = await aiohttp_server(otlp)
    fake = await aiohttp_server(build_fake_app())
    fake_url = str(fake.make_url("")).rstrip("/")
    config = demo_config(fake_url)
    telemetry = TelemetryConfig(
        endpoint=str(otlp_server.make_url("")).rstrip("/"),
        compat=("claude_code",),
        export_interval_ms=300,
        headers={"authorization": "Bearer collector-token"},
    )
    app = build_app(dataclasses.replace(config, telemetry=telemetry))
    tierline = await aiohttp_server(app)
    url = str(tierline.make_url("")).rstrip("/")
    async with ClientSession() as http:
        rows = await play(http, fake_url, url, SESSION)
        # One more request during an outage of sonnet's provider: tierline falls back.
        outage = {"model": "claude-sonnet-4-5", "replies": [{"behavior": "overloaded529"}] * 8}
        async with http.post(fake_url + "/_fake/script", json=outage) as resp:
            resp.raise_for_status()
        body = {
            "model": "sonnet",
            "max_tokens": 64,
            "messages": [{"role": "user", "content": "hi"}],
        }
        async with http.post(url + "/v1/messages", json=body, headers=HEADERS) as resp:
            assert resp.status == 200
            assert resp.headers["x-tierline-model"] != "sonnet"
        async with http.delete(fake_url + "/_fake/script") as resp:
            resp.raise_for_status()
    yield Session(otlp[RECEIVER], tierline, fake_url, rows, app)


async def test_one_log_record_per_assistant_message(session: Session) -> None:
    rx = session.receiver
    await rx.wait_for(lambda: len(rx.log_records()) >= REQUESTS)
    records = rx.log_records()
    assert len(records) == REQUESTS == len(session.rows) + 1
    assert {r["event_name"] for r in records} == {"tierline.api_request"}
    assert all(h.get("authorization") == "Bearer collector-token" for h in rx.headers)
    by_request = {r["attributes"]["tierline.request.id"]: r["attributes"] for r in records}
    assert len(by_request) == REQUESTS
    for row in session.rows:
        attrs = next(
            a for a in by_request.values()
            if a["tierline.model"] == row.result.tierline["x-tierline-model"]
            and a["tierline.model.requested"] == row.asked
        )  # fmt: skip
        assert attrs["tierline.provider"] == row.result.tierline["x-tierline-provider"]
    harnesses = {a["tierline.harness"] for a in by_request.values()}
    assert harnesses <= {"claude_code", "opencode", "unknown", "sdk"}
    retried = [a for a in by_request.values() if a["tierline.attempts"] > 1]
    assert retried, "the outage request fell back"
    for attrs in retried:  # every failed try is listed with its reason
        assert len(attrs["tierline.fallback.reasons"]) == attrs["tierline.attempts"] - 1
        assert all(r.endswith(":server_error") for r in attrs["tierline.fallback.reasons"])
    for attrs in by_request.values():
        assert attrs["tierline.cost.status"] == "priced"
        assert attrs["tierline.cost.usd"] > 0
        assert attrs["tierline.baseline.model"] == "opus"  # demo.toml's baseline_model
        assert "tierline.prompt" not in attrs
        assert attrs["session.id"]
        assert attrs["tierline.duration_ms"] > 0
    cache_reads = sum(a["tierline.usage.cache_read_tokens"] for a in by_request.values())
    assert cache_reads >= sum(r.result.usage.get("cache_read", 0) for r in session.rows) > 0


async def test_metrics_match_the_session(session: Session) -> None:
    rx = session.receiver
    tally = session.app[TELEMETRY_STATE].recorder.tally

    def complete() -> bool:
        requests = sum(p.value for p in rx.latest(names.REQUESTS))
        prs = bool(rx.latest(names.PULL_REQUEST_COUNT))
        return requests == REQUESTS and prs and len(rx.log_records()) == REQUESTS

    await rx.wait_for(complete)
    assert tally.lines_added == 15 and tally.lines_removed == 2
    lines = {p.attributes["type"]: p.value for p in rx.latest(names.LINES_OF_CODE)
             if p.attributes["language"] == "python"}  # fmt: skip
    total = {}
    for p in rx.latest(names.LINES_OF_CODE):
        total[p.attributes["type"]] = total.get(p.attributes["type"], 0) + p.value
    assert total == {"added": 15, "removed": 2}
    assert lines["added"] > 0
    assert sum(p.value for p in rx.latest(names.COMMIT_COUNT)) == 2
    assert sum(p.value for p in rx.latest(names.PULL_REQUEST_COUNT)) == 1
    decisions = {}
    for p in rx.latest(names.EDIT_DECISION):
        key = p.attributes["decision"]
        decisions[key] = decisions.get(key, 0) + p.value
    assert decisions == {"accept": 2, "reject": 1}
    assert sum(p.value for p in rx.latest(names.CC_COMMIT_COUNT)) == 2
    cc_lines = {p.attributes["type"]: p.value for p in rx.latest(names.CC_LINES_OF_CODE)}
    assert cc_lines == {"added": 15, "removed": 2}
    cost = sum(p.value for p in rx.latest(names.COST_USAGE))
    assert cost == pytest.approx(tally.cost_usd)
    baseline = sum(p.value for p in rx.latest(names.COST_BASELINE))
    assert baseline == pytest.approx(tally.baseline_usd)
    switches = 0  # model changes between consecutive attempts, from the log records
    for record in rx.log_records():
        attrs = record["attributes"]
        tried = [r.split(":")[0] for r in attrs["tierline.fallback.reasons"]]
        tried.append(attrs["tierline.model"])
        switches += sum(a != b for a, b in zip(tried, tried[1:], strict=False))
    fallback = rx.latest(names.FALLBACK_COUNT)
    assert sum(p.value for p in fallback) == switches >= 1
    assert {p.attributes["reason"] for p in fallback} == {"server_error"}
    tokens = {}
    for p in rx.latest(names.TOKEN_USAGE):
        tokens[p.attributes["type"]] = tokens.get(p.attributes["type"], 0) + p.value
    logged = [r["attributes"] for r in rx.log_records()]
    assert tokens["cache_read"] == sum(a["tierline.usage.cache_read_tokens"] for a in logged)
    assert tokens["output"] == sum(a["tierline.usage.output_tokens"] for a in logged)
    assert tokens["input"] == sum(a["tierline.usage.input_tokens"] for a in logged)
    for point in rx.points():
        assert set(point.attributes) & {"session.id", "tierline.request.id", "url.path"} == set()


async def test_server_span_continues_traceparent_with_client_spans(session: Session) -> None:
    rx = session.receiver
    body = {"model": "sonnet", "max_tokens": 16, "messages": [{"role": "user", "content": "hi"}]}
    headers = {"traceparent": TRACEPARENT, "x-api-key": "demo-key"}
    async with ClientSession() as http:
        url = session.tierline.make_url("/v1/messages")
        async with http.post(url, json=body, headers=headers) as resp:
            assert resp.status == 200
    trace_id = TRACEPARENT.split("-")[1]

    def exported() -> bool:
        spans = sum(s["trace_id"] == trace_id for s in rx.spans())
        return spans >= 2 and any(r["trace_id"] == trace_id for r in rx.log_records())

    await rx.wait_for(exported)
    spans = [s for s in rx.spans() if s["trace_id"] == trace_id]
    server = next(s for s in spans if s["kind"] == 2)  # SERVER
    client = next(s for s in spans if s["kind"] == 3)  # CLIENT
    assert server["parent_span_id"] == TRACEPARENT.split("-")[2]
    assert server["name"] == "POST /v1/messages"
    assert client["parent_span_id"] == server["span_id"]
    assert client["name"].startswith("chat ")
    assert client["attributes"]["gen_ai.operation.name"] == "chat"
    assert client["attributes"]["gen_ai.provider.name"]
    assert client["attributes"]["server.address"] == "127.0.0.1"
    assert client["attributes"]["gen_ai.usage.output_tokens"] > 0
    assert client["attributes"]["tierline.route.method"]
    record = next(r for r in rx.log_records() if r["trace_id"] == trace_id)
    assert record["attributes"]["tierline.model.requested"] == "sonnet"
    received = await _fake_requests(session.fake_url)
    assert all("traceparent" not in {k.lower() for k in r["headers"]} for r in received)


async def _fake_requests(fake_url: str) -> list[dict[str, Any]]:
    async with ClientSession() as http:
        async with http.get(fake_url + "/_fake/requests") as resp:
            data = await resp.json()
    return list(data if isinstance(data, list) else data.get("requests", []))


# -- a real Prometheus scraping /metrics -----------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def prometheus(tmp_path: Path) -> Iterator[Any]:
    if not os.path.exists(PROMETHEUS):
        if in_ci():
            pytest.fail("prometheus is not installed (apt-get install prometheus)")
        pytest.skip("prometheus is not installed")
    started: list[subprocess.Popen[bytes]] = []

    def start(target: str) -> str:
        port = _free_port()
        config = tmp_path / "prometheus.yml"
        config.write_text(
            "global: {scrape_interval: 1s, evaluation_interval: 1s}\n"
            "scrape_configs:\n"
            f"  - job_name: tierline\n    static_configs: [{{targets: ['{target}']}}]\n"
        )
        proc = subprocess.Popen(
            [PROMETHEUS, f"--config.file={config}", f"--storage.tsdb.path={tmp_path / 'data'}",
             f"--web.listen-address=127.0.0.1:{port}"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        started.append(proc)
        return f"http://127.0.0.1:{port}"

    yield start
    for proc in started:
        proc.terminate()
        proc.wait(timeout=10)


async def _query(base: str, promql: str, timeout: float = 20.0) -> list[dict[str, Any]]:
    """Poll Prometheus's query API until the query returns samples (bounded)."""
    async with asyncio.timeout(timeout), ClientSession() as http:
        while True:
            try:
                async with http.get(base + "/api/v1/query", params={"query": promql}) as resp:
                    if resp.status == 200:  # 503 while the server starts
                        data = await resp.json()
                        if data["data"]["result"]:
                            return list(data["data"]["result"])
            except OSError:
                pass  # not listening yet
            await asyncio.sleep(0.2)  # poll interval of a bounded wait, not synchronisation


async def test_prometheus_scrapes_metrics(session: Session, prometheus: Any) -> None:
    target = f"127.0.0.1:{session.tierline.port}"
    base = prometheus(target)
    result = await _query(base, "sum(tierline_requests_total)")
    assert float(result[0]["value"][1]) == REQUESTS
    by_model = await _query(base, "sum by (model, tier) (tierline_requests_total)")
    used = {row.result.tierline["x-tierline-model"] for row in session.rows}
    assert {r["metric"]["model"] for r in by_model} >= used
    loc = await _query(base, "sum by (type) (tierline_lines_of_code_count_total)")
    assert {r["metric"]["type"]: float(r["value"][1]) for r in loc} == {
        "added": 15.0, "removed": 2.0
    }  # fmt: skip
    cc = await _query(base, "sum(claude_code_commit_count_total)")
    assert float(cc[0]["value"][1]) == 2.0
    buckets = await _query(base, "gen_ai_client_operation_duration_seconds_bucket")
    assert {r["metric"]["le"] for r in buckets} >= {"0.01", "81.92", "+Inf"}
    cost = await _query(base, "sum(tierline_cost_usage_USD_total)")
    assert float(cost[0]["value"][1]) > 0


async def test_traceparent_reaches_providers_only_when_configured(aiohttp_server: Any) -> None:
    otlp = build_otlp_app()
    otlp_server = await aiohttp_server(otlp)
    fake = await aiohttp_server(build_fake_app())
    fake_url = str(fake.make_url("")).rstrip("/")
    telemetry = TelemetryConfig(
        endpoint=str(otlp_server.make_url("")).rstrip("/"), propagate_trace=True
    )
    app = build_app(dataclasses.replace(demo_config(fake_url), telemetry=telemetry))
    tierline = await aiohttp_server(app)
    body = {"model": "sonnet", "max_tokens": 16, "messages": [{"role": "user", "content": "hi"}]}
    async with ClientSession() as http:
        url = tierline.make_url("/v1/messages")
        headers = {**HEADERS, "traceparent": TRACEPARENT}
        async with http.post(url, json=body, headers=headers) as resp:
            assert resp.status == 200
    received = await _fake_requests(fake_url)
    sent = [{k.lower(): v for k, v in r["headers"].items()} for r in received]
    trace_id = TRACEPARENT.split("-")[1]
    assert sent and all(h["traceparent"].split("-")[1] == trace_id for h in sent)


async def test_shutdown_flushes_what_is_queued(aiohttp_server: Any) -> None:
    otlp = build_otlp_app()
    otlp_server = await aiohttp_server(otlp)
    rx = otlp[RECEIVER]
    fake = await aiohttp_server(build_fake_app())
    fake_url = str(fake.make_url("")).rstrip("/")
    telemetry = TelemetryConfig(  # nothing would be pushed for an hour but for the flush
        endpoint=str(otlp_server.make_url("")).rstrip("/"), export_interval_ms=3_600_000
    )
    app = build_app(dataclasses.replace(demo_config(fake_url), telemetry=telemetry))
    tierline = TestServer(app)
    await tierline.start_server()
    body = {"model": "sonnet", "max_tokens": 16, "messages": [{"role": "user", "content": "hi"}]}
    async with ClientSession() as http:
        async with http.post(tierline.make_url("/v1/messages"), json=body, headers=HEADERS) as r:
            assert r.status == 200
    await tierline.close()  # cleanup: flush and shut the providers down
    assert len(rx.log_records()) == 1
    assert sum(p.value for p in rx.latest(names.REQUESTS)) == 1
