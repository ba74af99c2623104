"""``tierline explain`` and the tier ranking ``tierline models`` prints.

``explain(config, body, protocol, headers)`` routes one request body as a
fresh session would get it (in-memory store, no provider is called, the LLM
classifier is not consulted) and returns the decision as a dict with at least
``tier``, ``model``, ``profile``, ``method``, ``confidence``, ``tags``,
``reason``. ``guess_protocol`` infers the wire protocol from the body's shape.
``ranking`` lists, per tier, the catalog's ranked models with prices and
whether a configured provider makes them available.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping, Sequence
from typing import Any

from sidecar.catalog import default_catalog
from sidecar.config import Config
from sidecar.errors import TierlineError
from sidecar.routing.catalog import TierBuilder, blended_price, quick_key, rank_key
from sidecar.routing.engine import Router
from sidecar.sessions.state import MemoryStore

_ANTHROPIC_BLOCKS = frozenset({"tool_use", "tool_result", "thinking", "redacted_thinking"})


def guess_protocol(body: Mapping[str, Any]) -> str:
    """openai | anthropic | responses, from the shape of a request body."""
    if "input" in body and "messages" not in body:
        return "responses"
    if "system" in body or "thinking" in body or "anthropic_version" in body:
        return "anthropic"
    messages = body.get("messages")
    for msg in messages if isinstance(messages, list) else []:
        if not isinstance(msg, Mapping):
            continue
        if msg.get("role") in ("system", "developer", "tool") or "tool_calls" in msg:
            return "openai"
        content = msg.get("content")
        if isinstance(content, list) and any(
            isinstance(b, Mapping) and b.get("type") in _ANTHROPIC_BLOCKS for b in content
        ):
            return "anthropic"
    return "openai"


def explain(
    config: Config, body: Mapping[str, Any], protocol: str | None, headers: Mapping[str, str]
) -> dict[str, Any]:
    """The routing decision for ``body`` as a fresh session would get it."""
    router = Router(config, store=MemoryStore(max_sessions=4))
    proto = protocol or guess_protocol(body)
    plan = router.route(proto, body, headers)
    first = plan.candidates[0] if plan.candidates else None
    return {
        "protocol": proto,
        "tier": plan.tier,
        "model": first.name if first else None,
        "provider": first.provider if first else None,
        "upstream": first.upstream if first else None,
        "profile": plan.profile,
        "method": plan.method,
        "confidence": plan.confidence,
        "tags": list(plan.tags),
        "reason": plan.reason,
        "route": plan.route_header,
        "candidates": [m.name for m in plan.candidates],
        "session_id": plan.session_id,
        "harness": plan.harness,
        "subagent": plan.subagent,
        "shadow_model": plan.shadow_model,
        "body_rewritten": plan.body is not None,
    }


def render(decision: Mapping[str, Any]) -> str:
    keys = ["tier", "model", "provider", "profile", "method", "confidence", "tags", "reason"]
    keys += ["candidates", "harness", "session_id", "subagent", "protocol"]
    lines = []
    for key in keys:
        value = decision.get(key)
        if isinstance(value, list):
            value = ", ".join(value) or "-"
        lines.append(f"{key:<11} {value if value not in (None, '') else '-'}")
    if decision.get("shadow_model"):
        lines.append(f"{'shadow':<11} would send to {decision['shadow_model']}")
    return "\n".join(lines)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("request", metavar="REQUEST.json", help="request body ('-' for stdin)")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument("--protocol", choices=("openai", "anthropic", "responses"))
    p.add_argument(
        "--header", action="append", default=[], metavar="K:V", help="a request header (repeat)"
    )


def _headers(items: Sequence[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition(":")
        if not sep or not key.strip():
            raise ValueError(f"--header expects K:V, got {item!r}")
        out[key.strip()] = value.strip()
    return out


def run_explain(config: Config, args: argparse.Namespace) -> int:
    """CLI handler: exit 0 with the decision, 1 on an unreadable request or routing error."""
    try:
        if args.request == "-":
            raw = sys.stdin.read()
        else:
            with open(args.request, encoding="utf-8") as fh:
                raw = fh.read()
        body = json.loads(raw)
        if not isinstance(body, dict):
            raise ValueError("the request body must be a JSON object")
        decision = explain(config, body, args.protocol, _headers(args.header))
    except (OSError, ValueError) as exc:
        print(f"tierline explain: {exc}", file=sys.stderr)
        return 1
    except TierlineError as exc:
        print(f"tierline explain: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(decision, indent=2) if args.json else render(decision))
    return 0


def _money(value: float | None) -> str:
    return "-" if value is None else f"{value:g}"


def ranking_rows(config: Config) -> dict[str, list[dict[str, Any]]]:
    """Per tier: the catalog's ranked models (+ configured unknown ones), availability."""
    catalog = default_catalog()
    builder = TierBuilder(config, catalog)
    table = builder.build()
    out: dict[str, list[dict[str, Any]]] = {}
    for tier in table.order:
        chosen = {m.name: i + 1 for i, m in enumerate(table.candidates[tier])}
        key = rank_key(tier, table.order)
        ranked = sorted(
            ((e.ranks[key], e) for e in catalog.entries.values() if key in e.ranks),
            key=lambda ranked_entry: ranked_entry[0],
        )
        rows: list[dict[str, Any]] = []
        seen: set[str] = set()
        for rank, entry in ranked:
            served = builder.catalog_model(entry)
            name = next((n for n, e in table.entries.items() if e is entry), entry.name)
            seen.add(name)
            p = entry.prices
            rows.append({
                "rank": rank,
                "model": name,
                "candidate": chosen.get(name),
                "available": served.provider if served else None,
                "input": p.input,
                "output": p.output,
                "cache_read": p.cache_read,
                "blended": blended_price(p),
                "context_window": entry.context_window,
                "prices_from": entry.price_source,
            })  # fmt: skip
        for m in table.candidates[tier]:
            if m.name not in seen:
                rows.append({
                    "rank": None, "model": m.name, "candidate": chosen[m.name],
                    "available": m.provider, "input": m.prices.input, "output": m.prices.output,
                    "cache_read": m.prices.cache_read, "blended": blended_price(m),
                    "context_window": m.context_window,
                    "prices_from": "config",
                })  # fmt: skip
        if key == "quick":  # ranked by cost, as the tier's candidates are
            rows.sort(key=lambda r: quick_key(r["blended"], r["rank"]))
        out[tier] = rows
    return out


def ranking(config: Config, as_json: bool = False) -> str:
    """The ``tierline models`` tier ranking (text or JSON)."""
    rows = ranking_rows(config)
    if as_json:
        return json.dumps(rows, indent=2)
    lines = [
        "",
        "tier ranking (# = position among the tier's candidates, - = not one; quick is ranked "
        "by blended price = 3 input : 1 output $/M, the catalog rank breaks ties):",
    ]
    for tier, items in rows.items():
        lines.append(f"{tier}:")
        for r in items:
            pos = str(r["candidate"]) if r["candidate"] else "-"
            where = r["available"] or "unavailable"
            price = f"{_money(r['input'])}/{_money(r['output'])}/{_money(r['cache_read'])}"
            lines.append(
                f"  {pos:>2}  {r['model']:<28} {where:<12} in/out/cache $/M {price:<18} "
                f"blended {_money(r['blended'] and round(r['blended'], 3)):<6} "
                f"ctx {r['context_window'] // 1000}k  ({r['prices_from']})"
            )
    return "\n".join(lines)
