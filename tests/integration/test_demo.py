"""`tierline demo` end to end: the fake provider and tierline on loopback, in-process."""

from __future__ import annotations

import io

import pytest

from sidecar.cli import main
from sidecar.demo.run import play_demo
from sidecar.demo.story import SESSION


async def test_demo_plays_every_turn_and_falls_back() -> None:
    out = io.StringIO()
    demo = await play_demo(out)
    rows = demo.rows
    assert len(rows) == len(SESSION)
    assert all(row.result.status == 200 and not row.result.error for row in rows), demo.output
    assert [row.asked for row in rows] == [turn.asked for turn in SESSION]
    assert {row.harness for row in rows} == {"claude-code", "opencode"}
    for row in rows:
        assert row.used != "-" and row.provider != "-"
        assert row.result.usage["output"] > 0
        assert int(row.attempts) >= 1
    outage = next(i for i, turn in enumerate(SESSION) if turn.outage)
    fallen = rows[outage]  # pinned to sonnet, whose provider is down: always a fallback
    assert fallen.asked == "sonnet" and fallen.used != "sonnet"
    assert int(fallen.attempts) >= 2 and fallen.provider != "anthropic"
    outage_exchange, _ = demo.exchanges[outage]
    assert [(a.model, a.status) for a in outage_exchange.attempts[:2]] == [("sonnet", 529)] * 2
    assert "Fallbacks and retries:" in demo.output and "529" in demo.output
    # Claude Code's cached prefix is read back from the second main-loop request on.
    claude_main = [r for r, t in zip(rows, SESSION, strict=True) if t.harness == "claude-code"]
    assert any(r.result.usage["cache_read"] > 0 for r in claude_main)
    # Tool calls flow back as tool results: the story's tool replies came through.
    assert sum(1 for row in rows if row.result.tool_calls) == sum(
        1 for turn in SESSION if "tool_calls" in turn.reply
    )
    assert len(demo.exchanges) == len(rows)
    header = out.getvalue().splitlines()[2]
    for column in ("asked", "used", "attempts", "tier", "route", "ms", "in", "out"):
        assert f" {column} " in f" {header} "


def test_tierline_demo_command(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo"]) == 0
    printed = capsys.readouterr().out
    assert "run tests (provider outage)" in printed
    assert f"{len(SESSION)} requests, 0 failed" in printed
