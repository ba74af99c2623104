"""tierline's overhead against a direct call and against the floor of any aiohttp proxy.

One run, one machine, the same closed-loop load (concurrency 1, 16, 64; non-streaming
and 20-chunk streaming OpenAI Chat Completions) sent to:

- direct:   the fake provider (sidecar.demo.fake_provider);
- floor:    a bare aiohttp pass-through proxy (read body, forward, relay bytes; no parsing);
- tierline: sidecar.app.build_app with a one-provider config pointing at the fake.

Each server runs in its own subprocess; CPU per process is read from /proc/PID/stat
(utime + stime) before and after every phase; the load generator (aiohttp client) is
this process. Phases run per (mode, concurrency); at concurrency 16 and 64 the three targets
take turns in four rounds, and at concurrency 1 request by request, so drift in machine load
hits all three alike (at concurrency 1 the fake's CPU is shared: shown per request of any
target). Printed:
throughput, p50/p99 latency, p50 added against direct, each process's
CPU ms per request, and the verdict against the targets (tierline CPU/request <= 1.5x
the floor's; p50 added latency at c=1 <= the floor's + 0.5 ms).

    python bench/overhead.py                 # about a minute on an idle 2-core machine
    python bench/overhead.py --scale 0.3     # quicker, noisier
    python bench/overhead.py --profile out.prof   # also cProfile the tierline process
    python bench/overhead.py --breakdown     # also: the CPU of each part, taken out in turn
    python bench/overhead.py --record        # also: write the run into bench/RESULTS.md
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

CONCURRENCY = (1, 16, 64)
REQUESTS = {1: 300, 16: 640, 64: 960}  # per phase, times --scale
WARMUP = 100
ROUNDS = 4  # at concurrency 16 and 64, the targets take turns in this many rounds
MODES = ("json", "stream")
TARGETS = ("direct", "floor", "tierline")
CPU_RATIO_TARGET = 1.5
ADDED_P50_TARGET_MS = 0.5
TICK = os.sysconf("SC_CLK_TCK")
MESSAGES = [
    {"role": "system", "content": "You are a helpful coding assistant."},
    {"role": "user", "content": "Write a haiku about proxies."},
]


# --- servers (run in subprocesses) ---------------------------------------------------------


def _floor_app(upstream: str) -> web.Application:
    """The floor: forward the body and relay the response bytes, nothing else."""
    app = web.Application()
    session_key = web.AppKey("session", ClientSession)

    async def session_ctx(app: web.Application) -> Any:
        app[session_key] = ClientSession(connector=TCPConnector(limit=0))
        yield
        await app[session_key].close()

    async def forward(request: web.Request) -> web.StreamResponse:
        body = await request.read()
        headers = {"content-type": request.headers.get("content-type", "application/json")}
        url = upstream + request.path_qs
        async with app[session_key].post(url, data=body, headers=headers) as upstream_response:
            response = web.StreamResponse(status=upstream_response.status)
            response.content_type = upstream_response.content_type
            await response.prepare(request)
            async for chunk in upstream_response.content.iter_any():
                await response.write(chunk)
            await response.write_eof()
            return response

    app.cleanup_ctx.append(session_ctx)
    app.router.add_post("/{tail:.*}", forward)
    return app


def _tierline_app(upstream: str) -> web.Application:
    from sidecar.app import build_app
    from sidecar.config import parse_config

    data = {
        "server": {"host": "127.0.0.1", "port": 0},
        "providers": {"fake": {"kind": "openai", "base_url": upstream + "/v1"}},
        "models": {
            name: {"provider": "fake", "upstream": name}
            for name in ("fake-model", "fake-chunks-20")
        },
        "routing": {"default_model": "fake-model"},
        "telemetry": {"enabled": False},
    }
    return build_app(parse_config(data, {}))


async def _serve(kind: str, upstream: str, profile: str | None, variant: str = "") -> None:
    from sidecar.app import make_runner

    if kind == "fake":
        from sidecar.demo.fake_provider import build_fake_app

        app = build_fake_app()
    elif kind == "floor":
        app = _floor_app(upstream)
    else:
        from sidecar.logs import configure_logging

        configure_logging("info", "json")  # as `tierline serve` runs: one JSON line per request
        app = _tierline_app(upstream)
        if variant:  # bench/instructions.py: a part taken out, as overhead_parts does
            import overhead_parts

            app = overhead_parts._app(variant, upstream)
    runner = make_runner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    if kind == "tierline":  # as `tierline serve` does once it listens
        from sidecar import heap

        if variant in ("-recorder", "-all three"):
            import overhead_parts

            overhead_parts._drop_recorder(app)
        heap.settle()
    print(f"PORT {runner.addresses[0][1]}", flush=True)
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    profiler = None
    if profile:
        import cProfile

        profiler = cProfile.Profile(time.thread_time)  # CPU time: robust on a busy machine
        profiler.enable()
    await stop.wait()
    if profiler is not None and profile:
        profiler.disable()
        profiler.dump_stats(profile)
    await runner.cleanup()


@dataclass
class Server:
    name: str
    process: subprocess.Popen[bytes]
    url: str

    def cpu_seconds(self) -> float:
        with open(f"/proc/{self.process.pid}/stat") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / TICK  # utime, stime

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def _start(kind: str, upstream: str = "", profile: str | None = None) -> Server:
    argv = [sys.executable, os.path.abspath(__file__), "--serve", kind, "--upstream", upstream]
    if profile:
        argv += ["--profile", profile]
    process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    assert process.stdout is not None
    line = process.stdout.readline().decode()
    if not line.startswith("PORT "):
        process.kill()
        raise SystemExit(f"{kind} server did not start: {line!r}")
    return Server(kind, process, f"http://127.0.0.1:{int(line.split()[1])}")


# --- load -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Phase:
    mode: str
    concurrency: int
    target: str
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    errors: int
    cpu_ms: dict[str, float]  # process name -> CPU ms per request

    @property
    def rps(self) -> float:
        return self.requests / self.seconds


def _body(mode: str) -> bytes:
    if mode == "json":
        return orjson.dumps({"model": "fake-model", "messages": MESSAGES})
    return orjson.dumps(
        {
            "model": "fake-chunks-20",
            "messages": MESSAGES,
            "stream": True,
            "stream_options": {"include_usage": True},
        }
    )


async def _load(url: str, body: bytes, requests: int, concurrency: int) -> tuple[list[float], int]:
    """Closed loop: ``concurrency`` workers send ``requests`` in total; returns latencies."""
    latencies: list[float] = []
    errors = 0
    tickets = iter(range(requests))
    headers = {"content-type": "application/json", "authorization": "Bearer bench"}
    async with ClientSession(connector=TCPConnector(limit=concurrency)) as http:

        async def worker() -> None:
            nonlocal errors
            for _ in tickets:
                started = time.perf_counter()
                async with http.post(url, data=body, headers=headers) as response:
                    await response.read()
                    errors += response.status != 200
                latencies.append(time.perf_counter() - started)

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return latencies, errors


def _make_phase(
    mode: str,
    concurrency: int,
    target: str,
    latencies: list[float],
    seconds: float,
    errors: int,
    cpu: dict[str, float],
) -> Phase:
    latencies = sorted(latencies)
    return Phase(
        mode,
        concurrency,
        target,
        len(latencies),
        seconds,
        statistics.median(latencies) * 1000,
        latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000,
        errors,
        cpu,
    )


async def _rounds(
    servers: dict[str, Server], mode: str, concurrency: int, requests: int
) -> list[Phase]:
    """One phase per target, run as ``ROUNDS`` rounds that take turns between the targets
    (each round a closed loop of ``requests // ROUNDS``): drift in machine load over the
    phase hits the three alike, as at concurrency 1."""
    per_round = max(1, requests // ROUNDS)
    latencies: dict[str, list[float]] = {target: [] for target in TARGETS}
    seconds = dict.fromkeys(TARGETS, 0.0)
    errors = dict.fromkeys(TARGETS, 0)
    cpu: dict[str, dict[str, float]] = {target: {} for target in TARGETS}
    for _ in range(ROUNDS):
        for target in TARGETS:
            url = servers[target].url + "/v1/chat/completions"
            watched = [s for name, s in servers.items() if name in ("fake", target)]
            before = {s.name: s.cpu_seconds() for s in watched}
            started = time.perf_counter()
            done, failed = await _load(url, _body(mode), per_round, concurrency)
            seconds[target] += time.perf_counter() - started
            latencies[target] += done
            errors[target] += failed
            for s in watched:
                used = (s.cpu_seconds() - before[s.name]) * 1000
                cpu[target][s.name] = cpu[target].get(s.name, 0.0) + used
    total = per_round * ROUNDS
    return [
        _make_phase(
            mode, concurrency, target, latencies[target], seconds[target], errors[target],
            {name: ms / total for name, ms in cpu[target].items()},
        )
        for target in TARGETS
    ]  # fmt: skip


async def _interleaved(servers: dict[str, Server], mode: str, requests: int) -> list[Phase]:
    """Concurrency 1, one request to each target in turn: drift in machine load hits all three
    alike, so the added-latency comparison holds on a busy machine too."""
    body = _body(mode)
    latencies: dict[str, list[float]] = {target: [] for target in TARGETS}
    errors = dict.fromkeys(TARGETS, 0)
    processes = {name: servers[name] for name in ("fake", "floor", "tierline")}
    before = {name: server.cpu_seconds() for name, server in processes.items()}
    headers = {"content-type": "application/json", "authorization": "Bearer bench"}
    async with ClientSession(connector=TCPConnector(limit=len(TARGETS))) as http:
        for _ in range(requests):
            for target in TARGETS:
                started = time.perf_counter()
                url = servers[target].url + "/v1/chat/completions"
                async with http.post(url, data=body, headers=headers) as response:
                    await response.read()
                    errors[target] += response.status != 200
                latencies[target].append(time.perf_counter() - started)
    used = {name: (s.cpu_seconds() - before[name]) * 1000 for name, s in processes.items()}
    phases = []
    for target in TARGETS:
        cpu = {"fake": used["fake"] / (requests * len(TARGETS))}  # shared by the three
        if target != "direct":
            cpu[target] = used[target] / requests
        seconds = sum(latencies[target])
        phases.append(_make_phase(mode, 1, target, latencies[target], seconds, errors[target], cpu))
    return phases


async def _run(scale: float, profile: str | None) -> list[Phase]:
    fake = _start("fake")
    servers = {"fake": fake, "direct": fake}
    servers["floor"] = _start("floor", fake.url)
    servers["tierline"] = _start("tierline", fake.url, profile)
    try:
        for target in TARGETS:
            for mode in MODES:
                await _load(servers[target].url + "/v1/chat/completions", _body(mode), WARMUP, 8)
        phases = []
        for mode in MODES:
            for concurrency in CONCURRENCY:
                requests = max(50, int(REQUESTS[concurrency] * scale))
                if concurrency == 1:
                    done = await _interleaved(servers, mode, requests)
                else:
                    done = await _rounds(servers, mode, concurrency, requests)
                for phase in done:
                    phases.append(phase)
                    print(_line(phase, phases), flush=True)
        return phases
    finally:
        for name in ("tierline", "floor", "fake"):
            servers[name].stop()


# --- report ---------------------------------------------------------------------------------

HEADER = (
    f"{'mode':<7}{'c':>4}  {'target':<9}{'req/s':>8}{'p50 ms':>9}{'p99 ms':>9}"
    f"{'+p50 ms':>9}{'proxy CPU ms/req':>18}{'fake CPU ms/req':>17}{'errors':>8}"
)


def _line(phase: Phase, phases: Sequence[Phase]) -> str:
    direct = _find(phases, phase.mode, phase.concurrency, "direct")
    added = phase.p50_ms - direct.p50_ms if direct and phase.target != "direct" else None
    proxy = phase.cpu_ms.get(phase.target) if phase.target != "direct" else None
    return (
        f"{phase.mode:<7}{phase.concurrency:>4}  {phase.target:<9}{phase.rps:>8.0f}"
        f"{phase.p50_ms:>9.2f}{phase.p99_ms:>9.2f}"
        f"{(f'{added:+.2f}' if added is not None else '-'):>9}"
        f"{(f'{proxy:.3f}' if proxy is not None else '-'):>18}"
        f"{phase.cpu_ms.get('fake', 0.0):>17.3f}{phase.errors:>8}"
    )


def _find(phases: Sequence[Phase], mode: str, concurrency: int, target: str) -> Phase | None:
    for phase in phases:
        if (phase.mode, phase.concurrency, phase.target) == (mode, concurrency, target):
            return phase
    return None


def verdict(phases: Sequence[Phase]) -> list[str]:
    """The two targets, per mode, from this run's phases."""
    lines = []
    for mode in MODES:
        proxy_cpu = {}
        for target in ("floor", "tierline"):
            mine = [p for p in phases if p.mode == mode and p.target == target]
            total_ms = sum(p.cpu_ms[target] * p.requests for p in mine)
            proxy_cpu[target] = total_ms / sum(p.requests for p in mine)
        ratio = proxy_cpu["tierline"] / proxy_cpu["floor"]
        ok = "PASS" if ratio <= CPU_RATIO_TARGET else "MISS"
        lines.append(
            f"{mode}: CPU/request tierline {proxy_cpu['tierline']:.3f} ms vs floor "
            f"{proxy_cpu['floor']:.3f} ms = {ratio:.2f}x (target <= {CPU_RATIO_TARGET}x) {ok}"
        )
        direct, floor, tier = (_find(phases, mode, 1, t) for t in TARGETS)
        assert direct and floor and tier
        floor_added, tier_added = floor.p50_ms - direct.p50_ms, tier.p50_ms - direct.p50_ms
        ok = "PASS" if tier_added <= floor_added + ADDED_P50_TARGET_MS else "MISS"
        lines.append(
            f"{mode}: p50 added at c=1 tierline {tier_added:+.2f} ms vs floor {floor_added:+.2f} ms"
            f" (target <= floor + {ADDED_P50_TARGET_MS} ms) {ok}"
        )
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--scale", type=float, default=1.0, help="multiply request counts")
    parser.add_argument("--profile", metavar="FILE", help="cProfile the tierline process")
    parser.add_argument(
        "--breakdown", action="store_true", help="also measure each part's CPU (overhead_parts)"
    )
    parser.add_argument(
        "--record", action="store_true", help="write this run into bench/RESULTS.md (overhead)"
    )
    parser.add_argument("--serve", choices=("fake", "floor", "tierline"), help=argparse.SUPPRESS)
    parser.add_argument("--upstream", default="", help=argparse.SUPPRESS)
    parser.add_argument("--variant", default="", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        asyncio.run(_serve(args.serve, args.upstream, args.profile, args.variant))
        return 0
    load = "/".join(f"{x:.1f}" for x in os.getloadavg())
    machine = (
        f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load {load}, "
        f"CPU from /proc/PID/stat (1/{TICK} s ticks)"
    )
    print(machine)
    print(HEADER, flush=True)
    phases = asyncio.run(_run(args.scale, args.profile))
    after = f"load average after: {'/'.join(f'{x:.1f}' for x in os.getloadavg())}"
    print(f"\n{after}")
    judged = verdict(phases)
    for line in judged:
        print(line)
    parts: list[str] = []
    if args.breakdown:
        import overhead_parts

        fake = _start("fake")
        try:
            parts = overhead_parts.report(overhead_parts.breakdown(fake.url))
        finally:
            fake.stop()
        print("\n" + "\n".join(parts))
    if args.record:
        import overhead_parts

        table = [machine, HEADER, *(_line(p, phases) for p in phases), after]
        path = overhead_parts.record(sys.argv[1:], table, judged, parts)
        print(f"\nrecorded in {path}")
    if args.profile:
        import pstats

        print(f"\ntierline profile ({args.profile}), top 25 by own time:")
        pstats.Stats(args.profile).sort_stats("tottime").print_stats(25)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
