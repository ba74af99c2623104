"""``tierline demo``: a scripted coding-agent session through tierline and a fake provider.

Starts the fake provider and tierline (``sidecar.app.build_app`` with the
built-in ``demo.toml``) on free loopback ports, plays ``story.SESSION`` with
requests shaped as Claude Code and OpenCode send them (``shapes``), and prints
one table row per request (model asked, model used, provider, attempts,
latency, tokens; tier and route once the router sends them), then why each
request went where it did with its cost against the baseline model, the
fallbacks, and the closing sections. Nothing leaves the machine; nothing but
aiohttp is needed.

Hooks for later sections: every ``x-tierline-*`` response header is kept on
each row (``report.table`` shows tier/route when present), and
``closing_sections(app)`` is where the cost/savings and productivity summary
from telemetry is rendered.
"""

from __future__ import annotations

import asyncio
import importlib.resources
import logging
import sys
import tomllib
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, TextIO

import orjson
from aiohttp import ClientSession, web

from sidecar.config import Config, parse_config
from sidecar.demo import shapes
from sidecar.demo.client import Result, send
from sidecar.demo.fake_provider import build_fake_app
from sidecar.demo.report import Priced, Row, attempt_trail, decisions, table, totals
from sidecar.demo.story import SESSION, Turn
from sidecar.exchange import Exchange
from sidecar.ledger.baseline import Baseline
from sidecar.ledger.pricing import Pricer
from sidecar.routing.plan import RoutePlan

DEMO_KEY = "demo-key"
OUTAGE_FAILURES = 8  # more 529s than tierline's attempts on one candidate; leftovers are dropped


@dataclass(frozen=True)
class Demo:
    """What ``play_demo`` did: the rows and the rendered output."""

    rows: tuple[Row, ...]
    output: str
    exchanges: tuple[tuple[Exchange, RoutePlan | None], ...] = ()


def demo_config(fake_url: str) -> Config:
    """The built-in config with every provider pointed at the fake at ``fake_url``."""
    text = importlib.resources.files("sidecar.demo").joinpath("demo.toml").read_text()
    data = tomllib.loads(text)
    for provider in data["providers"].values():
        provider["base_url"] = fake_url + ("/v1" if provider["kind"] == "openai" else "")
    return parse_config(data, {"TIERLINE_DEMO_KEY": DEMO_KEY}, source=None)


@asynccontextmanager
async def _serving(app: web.Application) -> AsyncIterator[str]:
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


async def play_demo(out: TextIO | None = None) -> Demo:
    """Run the whole demo in this event loop; print to ``out``."""
    from sidecar.app import OBSERVERS, build_app

    collector = ExchangeCollector()
    async with _serving(build_fake_app()) as fake_url:
        config = demo_config(fake_url)
        app = build_app(config)
        app[OBSERVERS].append(collector)
        async with _serving(app) as tierline_url, ClientSession() as http:
            _emit(out, f"fake provider {fake_url}   tierline {tierline_url}\n\n")
            rows = await play(http, fake_url, tierline_url, SESSION)
        # The runner has drained: every exchange has been observed.
        sections = [table(rows), "", totals(rows)]
        sections += decisions(collector.exchanges, *priced(config, collector.exchanges))
        sections += attempt_trail(collector.exchanges)
        sections += closing_sections(app)
    text = "\n".join(sections) + "\n"
    _emit(out, text)
    return Demo(rows=tuple(rows), output=text, exchanges=tuple(collector.exchanges))


class ExchangeCollector:
    """An observer keeping every (Exchange, RoutePlan) in completion order."""

    def __init__(self) -> None:
        self.exchanges: list[tuple[Exchange, RoutePlan | None]] = []

    def on_request(
        self, protocol: str, body: Mapping[str, Any], headers: Mapping[str, str], plan: RoutePlan
    ) -> None:
        """Nothing to do before dispatch."""

    def on_exchange(self, exchange: Exchange, plan: RoutePlan | None) -> None:
        self.exchanges.append((exchange, plan))


def priced(
    config: Config, exchanges: Sequence[tuple[Exchange, RoutePlan | None]]
) -> tuple[list[Priced], str | None]:
    """Each exchange's cost and baseline cost, priced as telemetry prices them (the same
    ``Pricer`` and baseline choice), and the baseline model's name."""
    from sidecar.telemetry.http import baseline_for

    pricer = Pricer(config.providers)
    baseline = Baseline(baseline_for(config, pricer), pricer)
    out = []
    for exchange, _plan in exchanges:
        model = config.models.get(exchange.model or "")
        if model is None:
            out.append(Priced(None, None))
            continue
        savings = baseline.savings(pricer.price(model, exchange.usage), exchange.usage)
        out.append(Priced(savings.cost.usd, savings.baseline.usd))
    return out, baseline.model.name if baseline.model else None


def closing_sections(app: web.Application) -> list[str]:
    """Summary sections after the table (cost vs baseline, productivity counts).

    Rendered by telemetry from the recorder's tally (``summary_sections``).
    """
    from sidecar.telemetry.http import summary_sections

    return summary_sections(app)


def _emit(out: TextIO | None, text: str) -> None:
    if out is not None:
        out.write(text)
        out.flush()


async def play(
    http: ClientSession, fake_url: str, tierline_url: str, turns: Sequence[Turn]
) -> list[Row]:
    """Send ``turns`` through tierline at ``tierline_url`` (scripting the fake provider at
    ``fake_url`` first), one row per turn; also used by the telemetry and dashboard tests."""
    histories: dict[str, list[dict[str, Any]]] = {"claude-code": [], "opencode": []}
    rows = []
    for step, turn in enumerate(turns, 1):
        history = histories[turn.harness]
        if turn.user and turn.kind == "main":
            history.append(_user(turn))
        await _script(http, fake_url, turn)
        url, headers, body = _request(tierline_url, turn, history)
        result = await send(http, url, headers, body)
        rows.append(Row(step, turn.harness, turn.label, turn.asked, result))
        if turn.kind == "main":
            history.extend(_follow_up(turn, result))
    return rows


async def _script(http: ClientSession, fake_url: str, turn: Turn) -> None:
    """Queue this turn's scripted reply (and its outage) on the fake, dropping leftovers."""
    async with http.delete(f"{fake_url}/_fake/script") as response:
        response.raise_for_status()
    scripts: list[Any] = [[dict(turn.reply)]]
    if turn.outage:
        failures = [{"behavior": "overloaded529"}] * OUTAGE_FAILURES
        scripts.append({"model": turn.outage, "replies": failures})
    for script in scripts:
        async with http.post(f"{fake_url}/_fake/script", data=orjson.dumps(script)) as response:
            response.raise_for_status()


def _user(turn: Turn) -> dict[str, Any]:
    text = turn.user or ""
    if turn.harness == "claude-code":
        return shapes.claude_user(text)
    return {"role": "user", "content": text}


def _request(
    base: str, turn: Turn, history: list[dict[str, Any]]
) -> tuple[str, dict[str, str], dict[str, Any]]:
    if turn.harness == "claude-code":
        messages = [_user(turn)] if turn.kind == "background" else history
        body = shapes.claude_code_body(turn.asked, messages, background=turn.kind == "background")
        return f"{base}/v1/messages?beta=true", shapes.claude_code_headers(DEMO_KEY), body
    messages = [_user(turn)] if turn.kind == "title" else history
    body = shapes.opencode_body(turn.asked, messages, title=turn.kind == "title")
    return f"{base}/v1/chat/completions", shapes.opencode_headers(DEMO_KEY), body


def _follow_up(turn: Turn, result: Result) -> list[dict[str, Any]]:
    """The assistant message as the agent records it, plus its tool result."""
    if turn.harness == "claude-code":
        content: list[dict[str, Any]] = (
            [{"type": "text", "text": result.text}] if result.text else []
        )
        content += [
            {"type": "tool_use", "id": cid, "name": name, "input": orjson.loads(args or "{}")}
            for cid, name, args in result.tool_calls
        ]
        messages = [{"role": "assistant", "content": content or [{"type": "text", "text": ""}]}]
        if turn.tool_result is not None and result.tool_calls:
            messages.append(
                shapes.claude_tool_result(
                    result.tool_calls[0][0], turn.tool_result, is_error=turn.rejected
                )
            )
        return messages
    calls = [
        {"id": cid, "type": "function", "function": {"name": name, "arguments": args}}
        for cid, name, args in result.tool_calls
    ]
    assistant: dict[str, Any] = {"role": "assistant", "content": result.text}
    if calls:
        assistant["tool_calls"] = calls
    messages = [assistant]
    if turn.tool_result is not None and result.tool_calls:
        messages.append(shapes.opencode_tool_result(result.tool_calls[0][0], turn.tool_result))
    return messages


def run_demo(out: TextIO | None = None, *, quiet: bool = True) -> int:
    """Entry point for ``tierline demo``: 0 when every request succeeded.

    ``quiet`` raises the access log to WARNING for the run (the table says it all).
    """
    if quiet:
        logging.getLogger("tierline.access").setLevel(logging.WARNING)
    demo = asyncio.run(play_demo(out or sys.stdout))
    failed = [row for row in demo.rows if row.result.status >= 400 or row.result.error]
    return 1 if failed else 0
