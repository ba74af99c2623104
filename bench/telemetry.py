"""The cost of telemetry: the same load through tierline with telemetry off and on.

- off:    ``[telemetry] enabled = false``, ``server.metrics = false`` (no export, no /metrics);
- on:     OTLP/HTTP logs and metrics to a local receiver (tests/fakes/otlp.py, decoding
          every request), ``compat = ["claude_code"]``, metrics pushed every second, and
          /metrics scraped every second while the load runs;
- traces: "on" plus traces (a SERVER and a CLIENT span per request) to the receiver;
- sampled: "traces" with ``OTEL_TRACES_SAMPLER=parentbased_traceidratio``,
  ``OTEL_TRACES_SAMPLER_ARG=0.1`` (one request in ten traced).

Each server (fake provider, OTLP receiver, one tierline per configuration) runs in its own
subprocess; the load generator (closed loop, aiohttp) is this process. Phases alternate
off, on, traces for ``--rounds`` rounds so drift hits all alike; the reported figures are
the median throughput per configuration with its loss against "off" (target < 15% at
concurrency 64), and the median CPU ms per request of the tierline process (/proc), which
is the steadier figure on a shared machine.

    python bench/telemetry.py                  # about 2 min here (6 rounds x 3 configs)
    python bench/telemetry.py --requests 300 --rounds 3 --stream
    python bench/telemetry.py --spans          # where the CPU of two spans goes (seconds)
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from aiohttp import ClientSession, TCPConnector, web

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TARGET_LOSS = 0.15
CONFIGS = ("off", "on", "traces", "sampled")
SAMPLED_ENV = {"OTEL_TRACES_SAMPLER": "parentbased_traceidratio", "OTEL_TRACES_SAMPLER_ARG": "0.1"}
TICK = os.sysconf("SC_CLK_TCK")
MESSAGES = [
    {"role": "system", "content": "You are a helpful coding assistant."},
    {"role": "user", "content": "Write a haiku about proxies."},
]


def _tierline_app(upstream: str, kind: str, otlp: str) -> web.Application:
    from sidecar.app import build_app
    from sidecar.config import parse_config

    telemetry_on = kind != "off"
    data: dict[str, Any] = {
        "server": {"host": "127.0.0.1", "port": 0, "metrics": telemetry_on},
        "providers": {"fake": {"kind": "openai", "base_url": upstream + "/v1"}},
        "models": {
            name: {"provider": "fake", "upstream": name, "prices": {"input": 1.0, "output": 2.0}}
            for name in ("fake-model", "fake-chunks-20")
        },
        "routing": {"default_model": "fake-model"},
        "telemetry": {"enabled": False},
    }
    if telemetry_on:
        data["telemetry"] = {
            "enabled": True,
            "logs_endpoint": otlp + "/v1/logs",
            "metrics_endpoint": otlp + "/v1/metrics",
            "export_interval_ms": 1000,
            "compat": ["claude_code"],
        }
        if kind in ("traces", "sampled"):
            data["telemetry"]["traces_endpoint"] = otlp + "/v1/traces"
    return build_app(parse_config(data, {}))


async def _serve(kind: str, upstream: str, otlp: str) -> None:
    if kind == "fake":
        from sidecar.demo.fake_provider import build_fake_app

        app = build_fake_app()
    elif kind == "otlp":
        sys.path.insert(0, ROOT)  # run as a script: the repository root is not on the path
        from tests.fakes.otlp import build_otlp_app

        app = build_otlp_app()
    else:
        app = _tierline_app(upstream, kind, otlp)
    runner = web.AppRunner(app, handler_cancellation=True, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    print(f"PORT {runner.addresses[0][1]}", flush=True)
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    await stop.wait()
    await runner.cleanup()


@dataclass
class Server:
    name: str
    process: subprocess.Popen[bytes]
    url: str

    def cpu_seconds(self) -> float:
        with open(f"/proc/{self.process.pid}/stat") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / TICK

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def _start(kind: str, upstream: str = "", otlp: str = "") -> Server:
    argv = [sys.executable, os.path.abspath(__file__), "--serve", kind,
            "--upstream", upstream, "--otlp", otlp]  # fmt: skip
    env = {**os.environ, **SAMPLED_ENV} if kind == "sampled" else None
    process = subprocess.Popen(
        argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env
    )
    assert process.stdout is not None
    line = process.stdout.readline().decode()
    if not line.startswith("PORT "):
        process.kill()
        raise SystemExit(f"{kind} server did not start: {line!r}")
    return Server(kind, process, f"http://127.0.0.1:{int(line.split()[1])}")


def _body(stream: bool) -> bytes:
    if not stream:
        return orjson.dumps({"model": "fake-model", "messages": MESSAGES})
    return orjson.dumps({"model": "fake-chunks-20", "messages": MESSAGES, "stream": True,
                         "stream_options": {"include_usage": True}})  # fmt: skip


async def _load(url: str, body: bytes, requests: int, concurrency: int) -> tuple[float, int]:
    """Closed loop; returns (seconds, errors)."""
    errors = 0
    tickets = iter(range(requests))
    headers = {"content-type": "application/json", "authorization": "Bearer bench"}
    async with ClientSession(connector=TCPConnector(limit=concurrency)) as http:

        async def worker() -> None:
            nonlocal errors
            for _ in tickets:
                async with http.post(url, data=body, headers=headers) as response:
                    await response.read()
                    errors += response.status != 200

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return time.perf_counter() - started, errors


async def _scrape(url: str, stop: asyncio.Event) -> int:
    """GET /metrics every second until ``stop``; returns the number of scrapes."""
    scrapes = 0
    async with ClientSession() as http:
        while not stop.is_set():
            async with http.get(url + "/metrics") as response:
                await response.read()
                scrapes += response.status == 200
            try:
                await asyncio.wait_for(stop.wait(), 1.0)
            except TimeoutError:
                pass
    return scrapes


@dataclass(frozen=True)
class Phase:
    config: str
    rps: float
    cpu_ms: float
    errors: int


async def _phase(server: Server, stream: bool, requests: int, concurrency: int) -> Phase:
    stop = asyncio.Event()
    scraping = server.name != "off"
    scraper = asyncio.create_task(_scrape(server.url, stop)) if scraping else None
    before = server.cpu_seconds()
    seconds, errors = await _load(
        server.url + "/v1/chat/completions", _body(stream), requests, concurrency
    )
    cpu = (server.cpu_seconds() - before) * 1000 / requests
    stop.set()
    if scraper is not None:
        await scraper
    return Phase(server.name, requests / seconds, cpu, errors)


async def _run(args: argparse.Namespace) -> list[Phase]:
    fake = _start("fake")
    otlp = _start("otlp")
    servers = {name: _start(name, fake.url, otlp.url) for name in CONFIGS}
    try:
        for server in servers.values():
            await _load(server.url + "/v1/chat/completions", _body(args.stream), 200, 16)
        phases = []
        for _ in range(args.rounds):
            for name in CONFIGS:
                phase = await _phase(servers[name], args.stream, args.requests, args.concurrency)
                phases.append(phase)
                print(f"  {phase.config:<7} {phase.rps:8.0f} req/s  {phase.cpu_ms:6.3f} "
                      f"tierline CPU ms/req  errors {phase.errors}", flush=True)  # fmt: skip
        return phases
    finally:
        for server in (*servers.values(), otlp, fake):
            server.stop()


def summary(phases: Sequence[Phase], concurrency: int) -> list[str]:
    def median(config: str, key: str) -> float:
        return statistics.median(getattr(p, key) for p in phases if p.config == config)

    off, cpu_off = median("off", "rps"), median("off", "cpu_ms")
    lines = [f"c={concurrency}: off {off:.0f} req/s, tierline CPU {cpu_off:.3f} ms/req"]
    for config in CONFIGS[1:]:
        rps, cpu = median(config, "rps"), median(config, "cpu_ms")
        loss = 1 - rps / off
        verdict = "PASS" if loss < TARGET_LOSS else "MISS"
        lines.append(
            f"c={concurrency}: {config:<6} {rps:.0f} req/s, throughput loss {loss * 100:.1f}% "
            f"(target < {TARGET_LOSS * 100:.0f}%) {verdict}; tierline CPU {cpu:.3f} ms/req "
            f"(+{cpu - cpu_off:.3f})"
        )
    return lines


def span_costs(n: int = 20_000) -> list[str]:
    """Where the CPU of traces goes, per request, in this process (no server): the two spans
    a request makes (SERVER + CLIENT with tierline's attributes) on a no-op tracer, on the SDK
    without processors, the SDK's attribute validation alone, and the OTLP encoding (ours and
    the SDK's) that the exporter thread does per span."""
    from opentelemetry import trace
    from opentelemetry.attributes import BoundedAttributes
    from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans as sdk_encode
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
    from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased

    from sidecar.config import ModelConfig, ProviderConfig
    from sidecar.exchange import Usage
    from sidecar.routing.plan import RoutePlan
    from sidecar.telemetry.otlp_spans import _Cache, encode_spans
    from sidecar.telemetry.spans import client_span_attributes, finish_client_span

    model = ModelConfig("m", "p", "up")
    provider = ProviderConfig("p", "openai", "http://127.0.0.1:9/v1")
    plan = RoutePlan("auto", (model,), tier="coding", profile="coder", method="heuristic",
                     confidence=0.8, tags=("auth",), session_id="s1")  # fmt: skip
    url = "http://127.0.0.1:9/v1/chat/completions"
    server_attrs = {"http.request.method": "POST", "http.route": "/v1/chat/completions",
                    "url.path": "/v1/chat/completions"}  # fmt: skip

    class Call:
        usage = Usage(10, 20, 3, 4)
        finish_reason = "stop"

    Call.model = model  # type: ignore[attr-defined]

    def request(tracer: Any) -> None:
        with tracer.start_as_current_span("POST /v1/chat/completions", kind=trace.SpanKind.SERVER,
                                          attributes=server_attrs) as server:  # fmt: skip
            attributes = client_span_attributes(plan, model, provider, url, "r")
            span = tracer.start_span("chat m", kind=trace.SpanKind.CLIENT, attributes=attributes)
            span.set_attribute("gen_ai.response.model", "up")
            finish_client_span(span, Call, model)
            span.end()
            server.set_attribute("http.response.status_code", 200)

    def timed(fn: Any, count: int) -> float:
        for _ in range(count // 10):
            fn()
        started = time.process_time()
        for _ in range(count):
            fn()
        return (time.process_time() - started) / count * 1e6

    noop = trace.NoOpTracer()
    sdk = TracerProvider(resource=Resource({"service.name": "bench"}), shutdown_on_exit=False)
    memory = InMemorySpanExporter()
    sdk.add_span_processor(SimpleSpanProcessor(memory))
    tracer = sdk.get_tracer("tierline")
    attrs = client_span_attributes(plan, model, provider, url, "r")
    def validate() -> None:
        BoundedAttributes(128, attrs, False)
        BoundedAttributes(128, server_attrs, False)

    def build() -> None:
        client_span_attributes(plan, model, provider, url, "r")

    def recorded() -> None:
        request(tracer)
        memory.clear()

    unsampled_provider = TracerProvider(
        sampler=ParentBased(TraceIdRatioBased(0.0)), shutdown_on_exit=False
    )
    unsampled_provider.add_span_processor(SimpleSpanProcessor(memory))
    unsampled = unsampled_provider.get_tracer("tierline")

    lines = [
        f"no-op tracer (attribute dicts built, nothing recorded): "
        f"{timed(lambda: request(noop), n):.1f} µs/request",
        f"SDK, 2 spans (creation, attributes, context, end; no export): "
        f"{timed(recorded, n):.1f} µs/request",
        f"SDK, sampled out (parentbased_traceidratio, ratio 0): "
        f"{timed(lambda: request(unsampled), n):.1f} µs/request",
        f"  of which the SDK's attribute validation: {timed(validate, n):.1f} µs",
        f"  of which building tierline's CLIENT attributes: {timed(build, n):.1f} µs",
    ]
    for _ in range(256):
        request(tracer)
    spans = memory.get_finished_spans()
    cache = _Cache()  # as the exporter thread keeps one (repeated keys and resources)
    ours = timed(lambda: encode_spans(spans, cache), 40) / len(spans)
    theirs = timed(lambda: sdk_encode(spans).SerializeToString(), 10) / len(spans)
    lines.append(f"OTLP encoding per span (exporter thread): {ours:.1f} µs tierline's encoder, "
                 f"{theirs:.1f} µs the SDK's")  # fmt: skip
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--requests", type=int, default=600, help="requests per phase")
    parser.add_argument("--rounds", type=int, default=6, help="rounds of every config")
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--stream", action="store_true", help="20-chunk streaming responses")
    parser.add_argument("--spans", action="store_true",
                        help="only the in-process breakdown of what traces cost")  # fmt: skip
    parser.add_argument("--serve", choices=("fake", "otlp", *CONFIGS), help=argparse.SUPPRESS)
    parser.add_argument("--upstream", default="", help=argparse.SUPPRESS)
    parser.add_argument("--otlp", default="", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        asyncio.run(_serve(args.serve, args.upstream, args.otlp))
        return 0
    if args.spans:
        for line in span_costs():
            print(line)
        return 0
    mode = "stream" if args.stream else "json"
    print(f"telemetry off vs on, {mode}, c={args.concurrency}, {args.requests} req/phase")
    phases = asyncio.run(_run(args))
    for line in summary(phases, args.concurrency):
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
