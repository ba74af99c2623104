"""The demo's per-request table and the sections after it (pure: rows in, text out).

Columns grow with the headers tierline sends: ``x-tierline-tier`` and
``x-tierline-route`` get their own columns as soon as any response carries
them (the router adds them), so this module needs no change when it does.
``decisions`` lists, per request, the router's reason and the cost next to
what the baseline model would have cost for the same tokens.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sidecar.demo.client import Result
from sidecar.exchange import Exchange
from sidecar.routing.plan import RoutePlan


@dataclass(frozen=True)
class Row:
    """One played request: which agent, what it did, and what came back."""

    step: int
    harness: str
    label: str
    asked: str
    result: Result

    @property
    def used(self) -> str:
        return self.result.tierline.get("x-tierline-model") or self.result.model or "-"

    @property
    def provider(self) -> str:
        return self.result.tierline.get("x-tierline-provider", "-")

    @property
    def attempts(self) -> str:
        return self.result.tierline.get("x-tierline-attempts", "-")


def _tokens(usage: Mapping[str, int]) -> tuple[str, str, str]:
    if not usage:
        return "-", "-", "-"
    cache = f"{usage.get('cache_read', 0)}/{usage.get('cache_write', 0)}"
    return str(usage.get("input", 0)), str(usage.get("output", 0)), cache


def _optional(rows: Sequence[Row]) -> list[tuple[str, str]]:
    """(header, column title) for the x-tierline-* headers any row carries."""
    present = {key for row in rows for key in row.result.tierline}
    wanted = (("x-tierline-tier", "tier"), ("x-tierline-route", "route"))
    return [(key, title) for key, title in wanted if key in present]


def table(rows: Sequence[Row]) -> str:
    """A fixed-width table, one line per request, then one line per failed request."""
    extra = _optional(rows)
    head = ["#", "agent", "step", "asked", "used", "provider", "attempts"]
    head += [title for _, title in extra] + ["ms", "in", "out", "cache r/w", "status"]
    body = []
    for row in rows:
        r = row.result
        cells = [str(row.step), row.harness, row.label, row.asked, row.used, row.provider]
        cells.append(row.attempts)
        cells += [r.tierline.get(key, "-") for key, _ in extra]
        cells += [f"{r.latency_ms:.0f}", *_tokens(r.usage), str(r.status)]
        body.append(cells)
    numeric = {0, len(head) - 5, len(head) - 4, len(head) - 3, len(head) - 1}
    lines = _columns(head, body, numeric)
    for row in rows:
        if row.result.error:
            lines.append(f"  #{row.step}: {row.result.error}")
    return "\n".join(lines)


def _columns(head: list[str], body: list[list[str]], numeric: set[int]) -> list[str]:
    """Fixed-width lines: the head, a rule, the body (``numeric`` columns right-aligned)."""
    widths = [max(len(line[i]) for line in [head, *body]) for i in range(len(head))]

    def fmt(cells: list[str]) -> str:
        parts = [
            c.rjust(w) if i in numeric else c.ljust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        ]
        return "  ".join(parts).rstrip()

    return [fmt(head), fmt(["-" * w for w in widths])] + [fmt(cells) for cells in body]


@dataclass(frozen=True)
class Priced:
    """USD of one request, and of the same usage on the baseline model (None: unpriced)."""

    cost: float | None
    baseline: float | None


def _usd(value: float | None) -> str:
    return "-" if value is None else f"${value:.4f}"


def decisions(
    exchanges: Sequence[tuple[Exchange, RoutePlan | None]],
    priced: Sequence[Priced],
    baseline_model: str | None,
) -> list[str]:
    """One line per request: the model that answered, its cost, the baseline's, and why.

    ``priced[i]`` belongs to ``exchanges[i]``. A request that the plan's first choice
    did not answer says which model did and after how many failed attempts.
    """
    base = baseline_model or "baseline"
    head = ["#", "used", "cost", f"on {base}", "why"]
    body = []
    for index, ((exchange, plan), p) in enumerate(zip(exchanges, priced, strict=True), 1):
        why = plan.reason if plan is not None else "-"
        first = plan.candidates[0].name if plan is not None and plan.candidates else None
        if exchange.model and first and exchange.model != first:
            failed = len(exchange.attempts) - 1
            why += f"; {first} failed {failed}x, {exchange.model} answered"
        used = exchange.model or "-"
        body.append([str(index), used, _usd(p.cost), _usd(p.baseline), why])
    title = f"Why each model, and its cost against {base} (the baseline) for the same tokens:"
    return ["", title, *_columns(head, body, {0, 2, 3})]


def totals(rows: Sequence[Row]) -> str:
    """One line: requests, fallbacks, tokens."""
    fallbacks = sum(1 for row in rows if _attempt_count(row.attempts) > 1)
    used = {
        key: sum(row.result.usage.get(key, 0) for row in rows)
        for key in ("input", "output", "cache_read", "cache_write")
    }
    failed = sum(1 for row in rows if row.result.status >= 400 or row.result.error)
    return (
        f"{len(rows)} requests, {failed} failed, {fallbacks} needed more than one attempt; tokens: "
        f"{used['input']} in, {used['output']} out, {used['cache_read']} cache read, "
        f"{used['cache_write']} cache write"
    )


def _attempt_count(value: str) -> int:
    head = value.strip().split(" ", 1)[0].split(",", 1)[0]
    if head.isdigit():
        return int(head)
    return value.count(",") + 1 if value not in ("", "-") else 0


def attempt_trail(exchanges: Sequence[tuple[Exchange, RoutePlan | None]]) -> list[str]:
    """For each request that needed more than one attempt: what each attempt met."""
    lines = []
    for index, (exchange, _plan) in enumerate(exchanges, 1):
        if len(exchange.attempts) < 2:
            continue
        steps = [
            f"{a.model}@{a.provider} {a.status if a.status is not None else '-'}"
            + (f" {a.reason}" if a.reason else "")
            for a in exchange.attempts
        ]
        lines.append(f"  request {index} ({exchange.requested_model}): " + " -> ".join(steps))
    return ["", "Fallbacks and retries:", *lines] if lines else []
