"""`tierline demo` end to end: the fake provider and tierline on loopback, in-process."""

from __future__ import annotations

import io

import pytest

from sidecar.cli import main
from sidecar.demo.run import play_demo
from sidecar.demo.story import SESSION

# (model that answered, tier, x-tierline-route) per turn of the story: the diagnosis
# and the review go to the frontier model, the routine loop to the cheap coder, the
# titles to the quick tier; the test run's provider is down, so sonnet answers it.
ROUTED = [
    ("haiku", "quick", "alias - 1.00"),
    ("opus", "reasoning", "heuristic debugger 0.87"),
    ("opus", "reasoning", "heuristic debugger 0.87"),
    ("kimi-k2.5", "coding", "heuristic coder 0.95"),
    ("kimi-k2.5", "coding", "heuristic coder 0.95"),
    ("sonnet", "coding", "heuristic coder 0.95"),
    ("kimi-k2.5", "coding", "heuristic coder 0.95"),
    ("kimi-k2.5", "coding", "heuristic coder 0.95"),
    ("haiku", "quick", "agent assistant 0.90"),
    ("kimi-k2.5", "coding", "heuristic coder 0.92"),
    ("kimi-k2.5", "coding", "heuristic coder 0.92"),
    ("kimi-k2.5", "coding", "heuristic coder 0.92"),
    ("kimi-k2.5", "coding", "heuristic coder 0.92"),
    ("opus", "reasoning", "heuristic reviewer 0.89"),
]
# demo.toml's prices on the fake provider's token counts (deterministic).
SUMMARY = "Cost: $0.0195  baseline (opus): $0.0417  savings: $0.0222 (53.2%)"


async def test_demo_plays_every_turn_and_falls_back() -> None:
    out = io.StringIO()
    demo = await play_demo(out)
    rows = demo.rows
    assert len(rows) == len(SESSION) == len(ROUTED)
    assert all(row.result.status == 200 and not row.result.error for row in rows), demo.output
    assert [row.asked for row in rows] == [turn.asked for turn in SESSION]
    assert {row.harness for row in rows} == {"claude-code", "opencode"}
    routed = [
        (row.used, row.result.tierline["x-tierline-tier"], row.result.tierline["x-tierline-route"])
        for row in rows
    ]
    assert routed == ROUTED, demo.output
    for row in rows:
        assert row.provider != "-"
        assert row.result.usage["output"] > 0
    outage = next(i for i, turn in enumerate(SESSION) if turn.outage)
    assert [row.attempts for row in rows] == ["3" if i == outage else "1" for i in range(len(rows))]
    fallen = rows[outage]  # the router chose kimi-k2.5, whose provider is down
    assert fallen.provider == "anthropic"
    outage_exchange, plan = demo.exchanges[outage]
    assert plan is not None and plan.candidates[0].name == "kimi-k2.5"
    assert [(a.model, a.provider, a.status) for a in outage_exchange.attempts] == [
        ("kimi-k2.5", "openrouter", 529),
        ("kimi-k2.5", "openrouter", 529),
        ("sonnet", "anthropic", 200),
    ]
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


async def test_demo_explains_each_decision_and_its_cost() -> None:
    demo = await play_demo()
    lines = demo.output.splitlines()
    start = lines.index(
        "Why each model, and its cost against opus (the baseline) for the same tokens:"
    )
    body = lines[start + 3 : start + 3 + len(SESSION)]
    expected = [[str(i), model] for i, (model, _, _) in enumerate(ROUTED, 1)]
    assert [line.split()[:2] for line in body] == expected
    assert "client asked for quick (alias claude-haiku-*)" in body[0]
    assert body[1].endswith("heuristic: debugger (0.87)")
    assert body[5].endswith("heuristic: coder (0.95); kimi-k2.5 failed 2x, sonnet answered")
    assert body[8].endswith("background request (title) -> quick")
    assert body[13].endswith("heuristic: reviewer (0.89)")
    costs = [float(line.split()[2].lstrip("$")) for line in body]
    baselines = [float(line.split()[3].lstrip("$")) for line in body]
    for line, cost, base in zip(body, costs, baselines, strict=True):
        # opus answers at the baseline's price; every other model costs less
        assert (cost == base) if " opus " in line else (cost < base), line
    # The per-request figures add up to the summary's totals (rounded to 4 places each).
    assert SUMMARY in lines
    assert sum(costs) == pytest.approx(0.0195, abs=len(body) * 0.00005)
    assert sum(baselines) == pytest.approx(0.0417, abs=len(body) * 0.00005)


def test_tierline_demo_command(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo"]) == 0
    printed = capsys.readouterr().out
    assert "run tests (provider outage)" in printed
    assert f"{len(SESSION)} requests, 0 failed" in printed
    assert SUMMARY in printed.splitlines()
