"""Every dashboard panel and alert rule, run by a real Prometheus against real tierline.

tierline (the demo config, every provider the fake provider) serves /metrics on its
admin listener; a real Prometheus (Debian package, 1 s scrape interval, loading the
alert rules file) scrapes it. A scripted session provokes every series a panel or
alert reads: the demo's Claude Code and OpenCode session (edits accepted and
rejected, commits, a pull request, an outage that falls back), a request per tier
forced by header (overrides) with tags, plans where every candidate fails (exhausted)
until models cool down, and telemetry exports that fail (drops). Once Prometheus has
scraped all that, a second burst of failures makes the alerting counters *increase*
inside the alert windows.

Then every panel query, with template variables expanded ("All" = ``.*``), and every
alert expression is run through Prometheus' HTTP API; each must succeed and return
samples (polled until they appear, bounded). No ``or vector(0)`` padding anywhere.
"""

from __future__ import annotations

import asyncio
import dataclasses
import importlib.util
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import orjson
import pytest
import yaml
from aiohttp import ClientSession, web

from sidecar.app import build_admin_app, build_app
from sidecar.config import TelemetryConfig
from sidecar.demo.fake_provider import build_fake_app
from sidecar.demo.run import DEMO_KEY, demo_config, play
from sidecar.demo.story import SESSION
from tests.ci import in_ci

ROOT = Path(__file__).resolve().parents[2]
BUILDER = ROOT / "grafana" / "build.py"


def _load_builder() -> ModuleType:
    """grafana/build.py (a script, not a package) under a name that cannot clash."""
    spec = importlib.util.spec_from_file_location("tierline_grafana_build", BUILDER)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


build = _load_builder()

PROMETHEUS = shutil.which("prometheus") or "/usr/bin/prometheus"
RULES = ROOT / "grafana" / "alerts" / "tierline-alerts.yaml"
BOARDS = sorted((ROOT / "grafana" / "dashboards").glob("*.json"))
# Grafana's built-in variables, as Grafana would expand them for a short range.
BUILTINS = {"$__rate_interval": "1m", "$__range": "1h", "$__interval": "15s"}
UPSTREAMS = ("claude-sonnet-4-5", "claude-sonnet-4-5@20250929", "claude-opus-4-5",
             "claude-haiku-4-5", "moonshotai/kimi-k2.5", "openai/gpt-5-mini")  # fmt: skip
DEADLINE = 25.0  # seconds any one wait on Prometheus may take


def expand(expr: str) -> str:
    """Template variables -> their "All" value; Grafana built-ins -> fixed windows."""
    for name, value in BUILTINS.items():
        expr = expr.replace(name, value)
    for var in build.VARIABLES:
        expr = expr.replace(f"${var}", ".*")
    assert "$" not in expr, expr
    return expr


def panel_queries() -> list[tuple[str, str]]:
    out = []
    for path in BOARDS:
        board = json.loads(path.read_text())
        title = board["title"]
        out += [(f"{title} / {panel}", expand(e)) for panel, e in build.panel_queries(board)]
    return out


def alert_exprs() -> list[tuple[str, str]]:
    rules = yaml.safe_load(RULES.read_text())
    return [(r["alert"], r["expr"]) for g in rules["groups"] for r in g["rules"]]


# ---- processes and servers ---------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def prometheus_bin() -> str:
    if not os.path.exists(PROMETHEUS):
        if in_ci():
            pytest.fail("prometheus is not installed (apt-get install prometheus)")
        pytest.skip("prometheus is not installed")
    return PROMETHEUS


@pytest.fixture
def start_prometheus(prometheus_bin: str, tmp_path: Path) -> Iterator[Any]:
    procs: list[subprocess.Popen[bytes]] = []

    def start(target: str) -> str:
        port = _free_port()
        config = tmp_path / "prometheus.yml"
        config.write_text(yaml.safe_dump({
            "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
            "rule_files": [str(RULES)],
            "scrape_configs": [{"job_name": "tierline", "metrics_path": "/metrics",
                                "static_configs": [{"targets": [target]}]}],
        }))  # fmt: skip
        with (tmp_path / "prometheus.log").open("wb") as log:
            procs.append(subprocess.Popen(
                [prometheus_bin, f"--config.file={config}",
                 f"--storage.tsdb.path={tmp_path / 'tsdb'}",
                 f"--web.listen-address=127.0.0.1:{port}"],
                stdout=log, stderr=subprocess.STDOUT,
            ))  # fmt: skip
        return f"http://127.0.0.1:{port}"

    yield start
    for proc in procs:
        proc.terminate()
        proc.wait(timeout=10)


async def _reject(request: web.Request) -> web.Response:
    """An OTLP endpoint that refuses every export (400: not retried), so records drop."""
    await request.read()
    return web.Response(status=400, text="refused")


@dataclasses.dataclass
class Stack:
    fake: str
    tierline: str
    admin: str


@pytest.fixture
async def stack(aiohttp_server: Any) -> AsyncIterator[Stack]:
    fake = await aiohttp_server(build_fake_app())
    sink = web.Application()
    sink.router.add_post("/v1/{signal}", _reject)
    otlp = await aiohttp_server(sink)
    fake_url = str(fake.make_url("")).rstrip("/")
    telemetry = TelemetryConfig(
        endpoint=str(otlp.make_url("")).rstrip("/"), export_interval_ms=250, queue_size=4
    )
    app = build_app(dataclasses.replace(demo_config(fake_url), telemetry=telemetry))
    tierline = await aiohttp_server(app)
    admin = await aiohttp_server(build_admin_app(app))
    yield Stack(fake_url, str(tierline.make_url("")).rstrip("/"), f"127.0.0.1:{admin.port}")


# ---- the scripted session ---------------------------------------------------------------


async def _send(http: ClientSession, stack: Stack, headers: dict[str, str], stream: bool) -> int:
    body = {"model": "auto", "max_tokens": 64, "stream": stream,
            "messages": [{"role": "user", "content": "Summarise the change in one line."}]}
    base = {"x-api-key": DEMO_KEY, "anthropic-version": "2023-06-01"}
    async with http.post(f"{stack.tierline}/v1/messages", json=body,
                         headers={**base, **headers}) as resp:  # fmt: skip
        await resp.read()
        return resp.status


async def _fail_everything(http: ClientSession, stack: Stack, on: bool) -> None:
    """Script (or clear) 503s for every upstream model the demo config knows."""
    async with http.delete(f"{stack.fake}/_fake/script") as resp:
        resp.raise_for_status()
    if not on:
        return
    for upstream in UPSTREAMS:
        script = {"model": upstream, "replies": [{"behavior": "error503"}] * 12}
        async with http.post(f"{stack.fake}/_fake/script", data=orjson.dumps(script)) as resp:
            resp.raise_for_status()


async def play_session(stack: Stack) -> int:
    """Everything once; returns how many requests tierline answered.

    Order matters: the failures come last, because models that failed three times in
    a row rest for ``server.cooldown_seconds`` (30 s in the demo config), and the last
    request is the one that finds them resting (cooldown skips).
    """
    async with ClientSession() as http:
        rows = await play(http, stack.fake, stack.tierline, SESSION)  # edits, commits, PR, outage
        sent = len(rows)
        for tier in ("reasoning", "coding", "quick"):  # every tier; header overrides; tags
            headers = {"x-tierline-tier": tier, "x-tierline-tags": "auth,migration"}
            assert await _send(http, stack, headers, stream=True) == 200
            sent += 1
        sent += await fail_burst(stack, ("quick", "coding", "coding"))
        # Every coding candidate is resting now: this request records cooldown skips.
        assert await _send(http, stack, {"x-tierline-tier": "coding"}, stream=False) == 502
        return sent + 1


async def fail_burst(stack: Stack, tiers: tuple[str, ...]) -> int:
    """Requests whose every candidate fails (upstream errors, fallbacks, exhausted plans).

    Opus is in no candidate list of the first pass's failures, so a "reasoning" burst
    always reaches a provider and fails there, whatever is still cooling down.
    """
    async with ClientSession() as http:
        await _fail_everything(http, stack, on=True)
        statuses = [await _send(http, stack, {"x-tierline-tier": t}, stream=False) for t in tiers]
        await _fail_everything(http, stack, on=False)
    assert set(statuses) == {502}, statuses
    return len(statuses)


# ---- Prometheus HTTP API ----------------------------------------------------------------


async def query(http: ClientSession, base: str, promql: str) -> tuple[str, list[Any]]:
    """(status, result); status is "success" or Prometheus' error message."""
    try:
        async with http.get(f"{base}/api/v1/query", params={"query": promql}) as resp:
            data = await resp.json(content_type=None)
    except OSError:
        return "unreachable", []
    if data.get("status") != "success":
        return f"{data.get('errorType')}: {data.get('error')}", []
    return "success", data["data"]["result"]


async def wait_for_total(http: ClientSession, base: str, total: int) -> None:
    """Poll until Prometheus has scraped ``total`` requests (bounded)."""
    deadline = time.monotonic() + DEADLINE
    seen: Any = None
    while time.monotonic() < deadline:
        status, result = await query(http, base, "sum(tierline_requests_total)")
        seen = result[0]["value"][1] if result else status
        if result and float(result[0]["value"][1]) >= total:
            return
        await asyncio.sleep(0.25)  # poll interval of a bounded wait
    pytest.fail(f"Prometheus never saw {total} requests (last: {seen})")


async def run_all(http: ClientSession, base: str, exprs: list[tuple[str, str]]) -> list[str]:
    """Run each expression until it returns samples; the ones that never do, with why."""
    pending = dict(exprs)
    errors: dict[str, str] = {}
    deadline = time.monotonic() + DEADLINE
    while pending and time.monotonic() < deadline:
        for name, expr in list(pending.items()):
            status, result = await query(http, base, expr)
            if status != "success" and status != "unreachable":
                errors[name] = f"{status}  <- {expr}"
                del pending[name]
            elif result:
                del pending[name]
        if pending:
            await asyncio.sleep(0.5)  # poll interval of a bounded wait
    errors.update({name: f"empty result  <- {pending[name]}" for name in pending})
    return [f"{name}: {why}" for name, why in sorted(errors.items())]


# ---- the test -----------------------------------------------------------------------------


async def test_every_panel_and_alert_returns_data(stack: Stack, start_prometheus: Any) -> None:
    base = start_prometheus(stack.admin)
    async with ClientSession() as http:
        first = await play_session(stack)
        await wait_for_total(http, base, first)  # every series exists in Prometheus ...
        second = await fail_burst(stack, ("reasoning", "reasoning", "quick"))
        await wait_for_total(http, base, first + second)  # ... and the alerting ones grew

        failures = await run_all(http, base, panel_queries() + alert_exprs())
        assert not failures, "\n".join(failures)

        # Template variable queries: the labels they list have values.
        for label in ("model", "tier", "provider"):
            async with http.get(f"{base}/api/v1/label/{label}/values",
                                params={"match[]": "tierline_requests_total"}) as resp:  # fmt: skip
                values = (await resp.json())["data"]
            assert len(values) > 1, (label, values)

        # Prometheus loaded the same rules and evaluates them without error; all fire.
        async with http.get(f"{base}/api/v1/rules") as resp:
            groups = (await resp.json())["data"]["groups"]
        rules = {r["name"]: r for g in groups for r in g["rules"]}
        assert set(rules) == {name for name, _ in alert_exprs()}
        assert all(r["health"] in ("ok", "unknown") for r in rules.values()), rules


def test_queries_expand_without_leftover_variables() -> None:
    queries = panel_queries()
    assert len(queries) >= 40
    for name, expr in queries + alert_exprs():
        assert "vector(" not in expr, name
        assert " or " not in expr, name
