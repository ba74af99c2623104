"""Run one real coding agent against tierline and the fake provider; print a JSON result.

Usage: ``python3 driver.py AGENT WORKDIR [--timeout S] [--bin DIR] [--netns]``

Contract (the end-to-end tests rely on it):
- with ``--netns`` the process is expected to run in a fresh network namespace
  (``unshare -n``); it brings ``lo`` up first, so everything below is loopback only;
- starts the fake provider (``sidecar.demo.fake_provider``) and tierline
  (``sidecar.app.build_app``) on free 127.0.0.1 ports in this process, with the
  config from ``e2e_agents.tierline_config`` (one OpenAI-kind provider: every agent
  request is translated or re-encoded on its way to the fake);
- queues the agent's scripted replies (``POST /_fake/script``), prepares WORKDIR
  (a git repository) and a private HOME under it, runs the agent CLI there with a
  timeout (killed when it expires), then reads tierline's ``/metrics`` and the
  fake's ``/_fake/requests``;
- prints one JSON object on stdout: ``agent``, ``netns``, ``returncode``,
  ``timed_out``, ``seconds``, ``stdout``/``stderr`` (tails), ``metrics`` (the
  ``tierline_*`` sample lines), ``requests`` (what the fake received: path, model,
  tool names, message roles), ``inbound`` ("METHOD /path?query" of what the agent
  sent tierline, in order), ``scripts_left`` (scripted replies not consumed).
``--dump FILE`` also writes the full inbound and upstream requests there (debugging).
Exit status 0 whenever the JSON was printed (the test judges the result).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import e2e_agents
from aiohttp import ClientSession, web

from sidecar.app import build_app
from sidecar.demo.fake_provider import FAKE_STATE, build_fake_app

TAIL = 6000


@asynccontextmanager
async def serving(app: web.Application) -> AsyncIterator[str]:
    """Run ``app`` on a free loopback port; yields its base URL."""
    runner = web.AppRunner(app, handler_cancellation=True, access_log=None)
    await runner.setup()
    try:
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        host, port = runner.addresses[0][:2]
        yield f"http://{host}:{port}"
    finally:
        await runner.cleanup()


async def run_agent(
    argv: list[str], env: dict[str, str], cwd: Path, timeout: float
) -> dict[str, Any]:
    """Run the agent to completion or until ``timeout`` (then kill its process group)."""
    started = time.monotonic()
    proc = await asyncio.create_subprocess_exec(
        *argv,
        cwd=cwd,
        env=env,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        start_new_session=True,
    )
    timed_out = False
    try:
        out, err = await asyncio.wait_for(proc.communicate(), timeout)
    except TimeoutError:
        timed_out = True
        kill_group(proc.pid)
        out, err = await proc.communicate()
    kill_group(proc.pid)  # whatever the agent left running in its session
    return {
        "returncode": proc.returncode,
        "timed_out": timed_out,
        "seconds": round(time.monotonic() - started, 2),
        "stdout": out.decode(errors="replace")[-TAIL:],
        "stderr": err.decode(errors="replace")[-TAIL:],
    }


def recording(into: list[dict[str, Any]]) -> Any:
    """A middleware keeping what the agent sent tierline (bodies only go to ``--dump``)."""

    @web.middleware
    async def record(request: web.Request, handler: Any) -> web.StreamResponse:
        body = await request.read()
        text = body.decode(errors="replace")
        into.append({"method": request.method, "path": request.path_qs, "body": text})
        return await handler(request)

    return record


def kill_group(pgid: int) -> None:
    """SIGKILL the agent's process group (its own session); gone already is fine."""
    try:
        os.killpg(pgid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def summarize(request: dict[str, Any]) -> dict[str, Any]:
    """The parts of a recorded fake request the tests look at."""
    body = request.get("body") or {}
    tools = [
        (t.get("function") or {}).get("name") or t.get("name")
        for t in body.get("tools") or []
        if isinstance(t, dict)
    ]
    messages = body.get("messages") or []
    return {
        "path": request.get("path"),
        "model": body.get("model"),
        "stream": bool(body.get("stream")),
        "stream_options": body.get("stream_options"),
        "tools": tools,
        "roles": [m.get("role") for m in messages if isinstance(m, dict)],
        "user_agent": (request.get("headers") or {}).get("user-agent", ""),
    }


async def drive(
    agent: str, workdir: Path, bin_dir: Path, timeout: float, dump: Path | None
) -> dict[str, Any]:
    scenario = e2e_agents.SCENARIOS[agent]
    fake_app = build_fake_app(models=e2e_agents.FAKE_MODELS)
    async with serving(fake_app) as fake_url:
        app = build_app(e2e_agents.tierline_config(fake_url))
        inbound: list[dict[str, Any]] = []
        app.middlewares.append(recording(inbound))
        async with serving(app) as tierline_url, ClientSession() as http:
            script = {"model": e2e_agents.FAKE_MODEL, "replies": scenario.replies(workdir)}
            async with http.post(f"{fake_url}/_fake/script", json=script) as r:
                r.raise_for_status()
            argv, env = scenario.command(workdir, bin_dir, tierline_url)
            result = await run_agent(argv, env, workdir, timeout)
            async with http.get(f"{tierline_url}/metrics") as r:
                metrics = await r.text()
            async with http.get(f"{fake_url}/_fake/requests") as r:
                requests = await r.json()
            left = sum(len(q) for q in fake_app[FAKE_STATE].scripts.values())
    result["metrics"] = [line for line in metrics.splitlines() if line.startswith("tierline_")]
    result["requests"] = [summarize(req) for req in requests]
    result["scripts_left"] = left
    result["inbound"] = [f"{r['method']} {r['path']}" for r in inbound]
    if dump is not None:
        dump.write_text(json.dumps({"inbound": inbound, "upstream": requests}, indent=1))
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("agent", choices=sorted(e2e_agents.SCENARIOS))
    parser.add_argument("workdir", type=Path)
    parser.add_argument("--bin", type=Path, default=Path(__file__).parent / "node_modules" / ".bin")
    parser.add_argument("--timeout", type=float, default=90.0)
    parser.add_argument("--dump", type=Path, help="write the fake's received requests here")
    parser.add_argument("--netns", action="store_true", help="bring lo up (inside unshare -n)")
    args = parser.parse_args()
    if args.netns:
        subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    e2e_agents.prepare_repo(args.workdir)
    result = asyncio.run(drive(args.agent, args.workdir, args.bin, args.timeout, args.dump))
    result.update(agent=args.agent, netns=args.netns)
    json.dump(result, sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
