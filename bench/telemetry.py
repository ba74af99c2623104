"""The cost of telemetry: the same load through tierline with telemetry off and on.

- off:    ``[telemetry] enabled = false``, ``server.metrics = false`` (no export, no /metrics);
- on:     OTLP/HTTP logs and metrics to a local receiver, ``compat = ["claude_code"]``,
          metrics pushed every second, and /metrics scraped every second while the load runs;
- traces: "on" plus traces (a SERVER and a CLIENT span per request) to the receiver;
- sampled: "traces" with ``OTEL_TRACES_SAMPLER=parentbased_traceidratio``,
  ``OTEL_TRACES_SAMPLER_ARG=0.1`` (one request in ten traced).

Each server (fake provider, OTLP receiver, one tierline per configuration) runs in its own
subprocess; the load generator (closed loop, aiohttp) is this process. Phases alternate
over the modes (JSON answers, 20-chunk SSE streams) and the configurations (their order
rotated every round) for ``--rounds`` rounds so drift hits all alike; the reported figures
are per mode the median throughput per configuration with its loss against "off" (target
< 15% at concurrency 64), and the median CPU ms per request of the tierline process
(/proc), the steadier figure on a shared machine.

The receiver stands in for a collector that, deployed, runs on another machine: during a
phase it only accepts each OTLP/HTTP request and keeps its body (protobuf); after the phase
it decodes them all (``opentelemetry-proto``) and the bench checks that every log record
(one per request) and, with traces, every span (two per request) arrived. The phase's CPU
is read once they have, so it includes tierline's export of the phase's last batch.

    python bench/telemetry.py                  # json and stream, 10 rounds: 4-5 min here
    python bench/telemetry.py --mode stream --requests 300 --rounds 3
    python bench/telemetry.py --spans          # where the CPU of two spans goes (seconds)
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
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
MODES = ("json", "stream")
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
        app = _receiver_app()
    else:
        app = _tierline_app(upstream, kind, otlp)
    runner = web.AppRunner(app, handler_cancellation=True, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    if kind in CONFIGS:  # a tierline process: as `tierline serve` does once it listens
        from sidecar import heap

        heap.settle()
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
    process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env)
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


def _receiver_app() -> web.Application:
    """The bench's OTLP/HTTP receiver: keeps raw bodies during a phase (a deployed collector
    runs elsewhere; decoding here would compete with tierline for the same cores);
    ``GET /bench/count`` decodes what came since the last call and returns the running
    totals of log records, spans and metric exports; ``POST /bench/reset`` zeroes them."""
    from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
        ExportTraceServiceRequest,
    )

    kept: list[tuple[str, bytes]] = []
    totals = {"logs": 0, "spans": 0, "metrics": 0, "bad_events": 0}

    def receive(kind: str) -> Any:
        async def handle(request: web.Request) -> web.Response:
            kept.append((kind, await request.read()))
            return web.Response(body=b"", content_type="application/x-protobuf")

        return handle

    async def count(request: web.Request) -> web.Response:
        for kind, data in kept:
            if data[:2] == b"\x1f\x8b":  # gzip (OTEL_EXPORTER_OTLP_COMPRESSION)
                data = gzip.decompress(data)
            if kind == "logs":
                for rl in ExportLogsServiceRequest.FromString(data).resource_logs:
                    for sl in rl.scope_logs:
                        totals["logs"] += len(sl.log_records)
                        totals["bad_events"] += sum(
                            r.event_name != "tierline.api_request" for r in sl.log_records
                        )
            elif kind == "traces":
                for rs in ExportTraceServiceRequest.FromString(data).resource_spans:
                    totals["spans"] += sum(len(ss.spans) for ss in rs.scope_spans)
            else:
                totals["metrics"] += 1
        kept.clear()
        return web.json_response(totals)

    async def reset(request: web.Request) -> web.Response:
        await count(request)
        totals.update(dict.fromkeys(totals, 0))
        return web.json_response(totals)

    app = web.Application(client_max_size=64 * 1024 * 1024)
    for kind in ("logs", "metrics", "traces"):
        app.router.add_post(f"/v1/{kind}", receive(kind))
    app.router.add_get("/bench/count", count)
    app.router.add_post("/bench/reset", reset)
    return app


@dataclass(frozen=True)
class Phase:
    config: str
    mode: str
    rps: float
    cpu_ms: float  # tierline's CPU per request, its export of the phase's records included
    #                (the wait for them minus the server's idle CPU rate over that wait)
    receiver_cpu_ms: float  # the receiver's, while the load ran (keeping bodies only)
    errors: int
    logs: int  # log records that arrived for this phase's requests
    spans: int


async def _idle_cpu(server: Server, seconds: float = 3.0) -> float:
    """CPU seconds per second the server spends with no load (metric export, timers)."""
    before = server.cpu_seconds()
    await asyncio.sleep(seconds)
    return (server.cpu_seconds() - before) / seconds


async def _arrived(receiver: str, config: str, requests: int) -> dict[str, int]:
    """Wait (bounded) until every record of the phase has reached the receiver."""
    want_spans = 2 * requests if config == "traces" else 0
    deadline = time.monotonic() + 15.0
    async with ClientSession() as http:
        while True:
            async with http.get(receiver + "/bench/count") as response:
                totals: dict[str, int] = await response.json()
            complete = totals["logs"] >= requests and totals["spans"] >= want_spans
            if complete or time.monotonic() > deadline:
                return totals
            await asyncio.sleep(0.1)


async def _phase(
    server: Server, receiver: Server, mode: str, requests: int, concurrency: int, idle_cpu: float
) -> Phase:
    async with ClientSession() as http:
        async with http.post(receiver.url + "/bench/reset") as response:
            await response.read()
    stop = asyncio.Event()
    scraping = server.name != "off"
    scraper = asyncio.create_task(_scrape(server.url, stop)) if scraping else None
    before, receiver_before = server.cpu_seconds(), receiver.cpu_seconds()
    url = server.url + "/v1/chat/completions"
    seconds, errors = await _load(url, _body(mode == "stream"), requests, concurrency)
    receiver_cpu = (receiver.cpu_seconds() - receiver_before) * 1000 / requests
    stop.set()
    if scraper is not None:
        await scraper
    totals = {"logs": 0, "spans": 0}
    waited = time.perf_counter()
    if server.name != "off":
        totals = await _arrived(receiver.url, server.name, requests)
    waited = time.perf_counter() - waited  # minus what the server burns idle meanwhile:
    cpu = (server.cpu_seconds() - before - idle_cpu * waited) * 1000 / requests
    phase = Phase(server.name, mode, requests / seconds, cpu, receiver_cpu, errors,
                  totals["logs"], totals["spans"])  # fmt: skip
    if server.name != "off" and (phase.logs != requests or totals.get("bad_events")):
        print(f"  !! {server.name}/{mode}: {phase.logs} log records for {requests} requests")
    if server.name == "traces" and phase.spans != 2 * requests:
        print(f"  !! traces/{mode}: {phase.spans} spans for {requests} requests")
    return phase


async def _run(args: argparse.Namespace) -> list[Phase]:
    fake = _start("fake")
    otlp = _start("otlp")
    servers = {name: _start(name, fake.url, otlp.url) for name in CONFIGS}
    modes = MODES if args.mode == "both" else (args.mode,)
    try:
        for server in servers.values():
            for mode in modes:
                await _load(server.url + "/v1/chat/completions", _body(mode == "stream"), 200, 16)
        await asyncio.sleep(2.0)  # the warm-up's records leave before the first reset
        idle = {name: await _idle_cpu(server) for name, server in servers.items()}
        phases = []
        for round_ in range(args.rounds):
            for mode in modes:
                shift = round_ % len(CONFIGS)  # each config takes each position in turn
                for name in (*CONFIGS[shift:], *CONFIGS[:shift]):
                    phase = await _phase(
                        servers[name], otlp, mode, args.requests, args.concurrency, idle[name]
                    )
                    phases.append(phase)
                    print(f"  {phase.mode:<6} {phase.config:<7} {phase.rps:6.0f} req/s  "
                          f"{phase.cpu_ms:6.3f} tierline CPU ms/req  receiver "
                          f"{phase.receiver_cpu_ms:5.3f}  logs {phase.logs} spans "
                          f"{phase.spans}  errors {phase.errors}", flush=True)  # fmt: skip
        return phases
    finally:
        for server in (*servers.values(), otlp, fake):
            server.stop()


def summary(phases: Sequence[Phase], concurrency: int, requests: int) -> list[str]:
    """Per mode: median req/s and loss against "off", median tierline CPU ms/request, and
    the loss that CPU alone would give a CPU-bound tierline (1 - CPU off / CPU on)."""
    modes = [m for m in MODES if any(p.mode == m for p in phases)]
    rounds = sum(1 for p in phases if p.config == "off" and p.mode == modes[0])
    lines = [
        f"c={concurrency}, {requests} req/phase, medians of {rounds} interleaved rounds",
        f"{'mode':<7}{'config':<9}{'req/s':>6}{'loss':>8}{'CPU ms/req':>12}{'+CPU':>8}"
        f"{'CPU loss':>10}{'receiver':>10}  verdict (throughput loss)",
    ]
    for mode in modes:

        def median(config: str, key: str, mode: str = mode) -> float:
            values = [getattr(p, key) for p in phases if p.config == config and p.mode == mode]
            return float(statistics.median(values))

        off, cpu_off = median("off", "rps"), median("off", "cpu_ms")
        lines.append(f"{mode:<7}{'off':<9}{off:>6.0f}{'-':>8}{cpu_off:>12.3f}")
        for config in CONFIGS[1:]:
            rps, cpu = median(config, "rps"), median(config, "cpu_ms")
            loss = 1 - rps / off
            verdict = "PASS" if loss < TARGET_LOSS else "MISS"
            lines.append(
                f"{mode:<7}{config:<9}{rps:>6.0f}{loss * 100:>7.1f}%{cpu:>12.3f}"
                f"{cpu - cpu_off:>+8.3f}{(1 - cpu_off / cpu) * 100:>9.1f}%"
                f"{median(config, 'receiver_cpu_ms'):>10.3f}  "
                f"{verdict} (< {TARGET_LOSS * 100:.0f}%)"
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

    from opentelemetry.sdk.util.instrumentation import InstrumentationScope

    from sidecar.telemetry.tracing import LightTracer, Sampling

    ended: list[Any] = []
    light = LightTracer(Sampling(1 << 64, True), Resource({"service.name": "bench"}),
                        InstrumentationScope("tierline"), ended.append)  # fmt: skip

    def light_recorded() -> None:
        request(light)
        ended.clear()

    lines = [
        f"tierline's LightTracer, 2 spans (as used; queued, no export): "
        f"{timed(light_recorded, n):.1f} µs/request",
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
    for _ in range(128):
        request(light)
    ours_light = timed(lambda: encode_spans(ended, cache), 40) / len(ended)
    ours = timed(lambda: encode_spans(spans, cache), 40) / len(spans)
    theirs = timed(lambda: sdk_encode(spans).SerializeToString(), 10) / len(spans)
    lines.append(f"OTLP encoding per span (exporter thread): {ours:.1f} µs tierline's encoder, "
                 f"{theirs:.1f} µs the SDK's; {ours_light:.1f} µs a LightSpan")  # fmt: skip
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--requests", type=int, default=600, help="requests per phase")
    parser.add_argument("--rounds", type=int, default=10, help="rounds of every config")
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--mode", choices=("both", *MODES), default="both",
                        help="JSON answers, 20-chunk SSE streams, or both interleaved")  # fmt: skip
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
    print(f"telemetry off vs on, {args.mode}, c={args.concurrency}, {args.requests} req/phase")
    phases = asyncio.run(_run(args))
    for line in summary(phases, args.concurrency, args.requests):
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
