"""Where tierline's CPU per request goes: the same load with one part taken out at a time.

``bench/overhead.py --breakdown`` calls ``breakdown``. One process serves several apps
on loopback: the floor, tierline as the overhead bench runs it, and tierline without
one part (the JSON access log, the telemetry recorder, the routing engine, or all
three); a fake provider and the load generator run in their own processes. Rounds
alternate over the apps (the same closed-loop load, concurrency 16) and the CPU
time of this process per request is taken per phase; medians over the rounds are
reported. Parts measured this way cost what they cost in place (cold caches, the
garbage collector, the event loop), typically 2-3x what a hot loop timing them alone
says. "Without the routing engine" is a router that returns the plan the engine made
for the same body on its first call (no session, no classifier, no scan).

The relay's own stream work (decode up to the first content, the plain run of text
deltas forwarded whole, the finish/usage/[DONE] events decoded, tapped and re-encoded)
cannot be taken out of the relay; it is timed alone on a recorded 20-chunk response
arriving in one read, as it does here (a lower bound).

Bench-only: parts are removed by editing the app's observer list and router before
start; product code has no switches for this.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from aiohttp import web

VARIANTS = ("floor", "tierline", "-access log", "-recorder", "-router", "-all three")
LOAD = (
    "import sys, asyncio; sys.path.insert(0, sys.argv[4]); import overhead as o; "
    "asyncio.run(o._load(sys.argv[1], o._body(sys.argv[2]), int(sys.argv[3]), 16))"
)


@dataclass(frozen=True)
class Breakdown:
    cpu_us: dict[tuple[str, str], float]  # (mode, variant) -> median CPU µs per request
    stream_events_us: float  # the relay's work for one 20-chunk response, timed alone
    rounds: int
    requests: int


class _FixedRouter:
    """The engine's plan for the first body of each model, then that plan every time."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner
        self._plans: dict[str, Any] = {}
        self.loads = False

    async def load(self, *args: Any, **kwargs: Any) -> None:
        return None

    def route(self, protocol: str, body: Mapping[str, Any], headers: Any, **kw: Any) -> Any:
        key = str(body.get("model"))
        if key not in self._plans:
            self._plans[key] = self._inner.route(protocol, body, headers, **kw)
        return self._plans[key]

    def observe(self, plan: Any, exchange: Any) -> None:
        return None


def _app(variant: str, upstream: str) -> web.Application:
    import overhead

    from sidecar.ingress.keys import OBSERVERS, ROUTER

    if variant == "floor":
        return overhead._floor_app(upstream)
    app = overhead._tierline_app(upstream)
    if variant in ("-access log", "-all three"):
        app[OBSERVERS][:] = [o for o in app[OBSERVERS] if type(o).__name__ != "AccessLog"]
    if variant in ("-router", "-all three"):
        app[ROUTER] = _FixedRouter(app[ROUTER])
    return app


def _drop_recorder(app: web.Application) -> Callable[[], None]:
    """Take the telemetry recorder out after startup; returns how to put it back."""
    from sidecar.ingress.keys import OBSERVERS

    observers = app[OBSERVERS]
    taken = [o for o in observers if type(o).__name__ == "TelemetryRecorder"]
    for observer in taken:
        observers.remove(observer)
    return lambda: observers.extend(taken)


async def _phase(url: str, mode: str, requests: int) -> float:
    """This process's CPU µs per request while a load process sends ``requests``."""
    here = os.path.dirname(os.path.abspath(__file__))
    started = time.process_time()
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", LOAD, url, mode, str(requests), here
    )
    await proc.wait()
    return (time.process_time() - started) / requests * 1e6


async def _measure(upstream: str, rounds: int, requests: int) -> dict[tuple[str, str], float]:
    from sidecar.app import make_runner

    runners: dict[str, web.AppRunner] = {}
    restore: list[Callable[[], None]] = []
    try:
        for variant in VARIANTS:
            runner = runners[variant] = make_runner(_app(variant, upstream))
            await runner.setup()
            await web.TCPSite(runner, "127.0.0.1", 0).start()
            if variant in ("-recorder", "-all three"):
                restore.append(_drop_recorder(runner.app))
        urls = {
            v: f"http://127.0.0.1:{r.addresses[0][1]}/v1/chat/completions"
            for v, r in runners.items()
        }
        samples: dict[tuple[str, str], list[float]] = {}
        for mode in ("json", "stream"):
            for variant in VARIANTS:
                await _phase(urls[variant], mode, 100)  # warm up
            for _ in range(rounds):
                for variant in VARIANTS:
                    cpu = await _phase(urls[variant], mode, requests)
                    samples.setdefault((mode, variant), []).append(cpu)
        return {key: statistics.median(values) for key, values in samples.items()}
    finally:
        for put_back in restore:
            put_back()
        for runner in runners.values():
            await runner.cleanup()


def _stream_events_us(upstream_raw: bytes) -> float:
    """The relay's work for one recorded stream read in one piece, alone (what
    ``relay.prime`` and ``relay.pump`` do between reads)."""
    from sidecar.config import ModelConfig
    from sidecar.protocols.sse import SSEDecoder
    from sidecar.protocols.tap import make_tap
    from sidecar.upstream import relay
    from sidecar.upstream.translators import AttemptInfo, default_translators

    pair = default_translators()[("openai", "openai")]
    model = ModelConfig("fake-chunks-20", "fake", "fake-chunks-20")
    info = AttemptInfo(model, "fake", True, "req_x", 0)

    def run() -> None:
        decoder, tap, encoder = SSEDecoder(), make_tap("openai"), pair.stream(info, True)
        pending: list[bytes] = []
        decoder.push(upstream_raw)
        while (event := decoder.next_event()) is not None:
            if relay._step(event, tap, encoder, pending):
                pending.append(relay._forward(decoder.rest(), decoder, tap, encoder))
                break
        pending.append(relay._encode(decoder.flush(), tap, encoder) + encoder.finish(tap))
        _ = tap.usage, tap.tool_calls

    best = float("inf")
    for _ in range(3):
        started = time.thread_time()
        for _ in range(300):
            run()
        best = min(best, (time.thread_time() - started) / 300 * 1e6)
    return best


async def _recorded_stream(upstream: str) -> bytes:
    import overhead
    from aiohttp import ClientSession

    async with ClientSession() as http:
        url = upstream + "/v1/chat/completions"
        async with http.post(url, data=overhead._body("stream")) as resp:
            return await resp.read()


def breakdown(upstream: str, rounds: int = 5, requests: int = 600) -> Breakdown:
    """Run the ablation against the fake provider at ``upstream``."""
    from sidecar.logs import configure_logging

    configure_logging("info", "json", open(os.devnull, "w"))  # noqa: SIM115 - process-long
    cpu = asyncio.run(_measure(upstream, rounds, requests))
    raw = asyncio.run(_recorded_stream(upstream))
    return Breakdown(cpu, _stream_events_us(raw), rounds, requests)


def report(result: Breakdown) -> list[str]:
    """The table: per mode, each variant's CPU per request, its ratio to the floor, and
    what the removed part cost in place."""
    lines = [
        f"CPU per request of the serving process, median of {result.rounds} interleaved rounds "
        f"of {result.requests} requests, c=16 (one process serves all variants)",
        f"{'mode':<7}{'variant':<14}{'CPU us/req':>11}{'x floor':>9}{'part costs':>12}",
    ]
    for mode in ("json", "stream"):
        floor = result.cpu_us[(mode, "floor")]
        full = result.cpu_us[(mode, "tierline")]
        for variant in VARIANTS:
            cpu = result.cpu_us[(mode, variant)]
            part = f"{full - cpu:>+12.0f}" if variant.startswith("-") else f"{'':>12}"
            lines.append(f"{mode:<7}{variant:<14}{cpu:>11.0f}{cpu / floor:>9.2f}{part}")
    lines.append(
        f"stream relay work alone (20-chunk response in one read: decode to the first "
        f"content, plain run whole, last 3 events parsed): {result.stream_events_us:.0f} us"
    )
    return lines


def main(argv: Sequence[str] | None = None) -> None:  # pragma: no cover - manual runs
    import overhead

    fake = overhead._start("fake")
    try:
        for line in report(breakdown(fake.url)):
            print(line)
    finally:
        fake.stop()


BEGIN, END = "<!-- overhead:run begin -->", "<!-- overhead:run end -->"


def record(argv: Sequence[str], table: list[str], judged: list[str], parts: list[str]) -> str:
    """Replace the generated block of bench/RESULTS.md's overhead section with this run
    (date, commit, command, table, verdict, breakdown); the prose around it stays."""
    import datetime
    import subprocess

    here = os.path.dirname(os.path.abspath(__file__))
    path = os.path.join(here, "RESULTS.md")
    commit = subprocess.run(
        ["git", "-C", here, "describe", "--always", "--dirty"],
        capture_output=True, text=True, check=False,
    ).stdout.strip()  # fmt: skip
    now = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    shown = [a for a in argv if a != "--record"]
    block = [
        BEGIN,
        f"- Date: {now}, commit {commit or 'unknown'} (written by `--record`).",
        f"- Command: `python bench/overhead.py {' '.join([*shown, '--record'])}`",
        "",
        "```", *table, "```", "",
        "Verdict:", "", "```", *judged, "```",
    ]  # fmt: skip
    if parts:
        block += ["", "Breakdown (`--breakdown`):", "", "```", *parts, "```"]
    block.append(END)
    with open(path) as fh:
        text = fh.read()
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        text = head + "\n".join(block) + rest.split(END, 1)[1]
    else:  # first time: at the end of the overhead section
        start = text.index("## overhead")
        nxt = text.find("\n## ", start + 1)
        nxt = len(text) if nxt < 0 else nxt + 1
        text = text[:nxt].rstrip("\n") + "\n\n" + "\n".join(block) + "\n\n" + text[nxt:]
    with open(path, "w") as fh:
        fh.write(text)
    return path
