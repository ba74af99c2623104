"""Route every labelled case in tests/routing/cases/ and compare with its label.

    python tests/routing/evaluate.py [--misses]

Prints agreement per tier, a confusion matrix (rows: label, columns: routed
tier) and, with --misses, every disagreement with the router's reason. Each
case is routed as a fresh session under tests/routing/eval.toml. Exit status 1
when agreement is under 90% or a reasoning-labelled case went to quick.
tests/unit/test_routing_eval.py runs the same check under pytest.
"""

from __future__ import annotations

import gzip
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from sidecar.config import load_config
from sidecar.routing.engine import Router
from sidecar.sessions.state import MemoryStore

HERE = Path(__file__).parent
TIERS = ("reasoning", "coding", "quick")
TARGET = 0.90
BATCHES = (
    ("holdout", "written after tuning on the tuning set; later used for tuning"),
    ("holdout2", "written before batch 1 was used for tuning; later used for tuning"),
    ("holdout3", "written after all tuning, never used: the honest estimate"),
)


@dataclass(frozen=True)
class Outcome:
    case: dict[str, Any]
    tier: str
    reason: str
    route: str

    @property
    def ok(self) -> bool:
        return self.tier == self.case["label"]


def load_cases() -> list[dict[str, Any]]:
    cases: list[dict[str, Any]] = []
    for path in sorted((HERE / "cases").iterdir()):
        if path.name.endswith(".jsonl.gz"):
            text = gzip.decompress(path.read_bytes()).decode()
        elif path.name.endswith(".jsonl"):
            text = path.read_text(encoding="utf-8")
        else:
            continue
        cases += [orjson.loads(line) for line in text.splitlines() if line.strip()]
    return cases


def evaluate() -> list[Outcome]:
    config = load_config(str(HERE / "eval.toml"), {"EVAL_KEY": "placeholder"})
    out = []
    for case in load_cases():
        router = Router(config, store=MemoryStore(max_sessions=8))
        plan = router.route(case["protocol"], case["body"], case["headers"])
        out.append(Outcome(case, plan.tier or "-", plan.reason, plan.route_header))
    return out


def report(outcomes: list[Outcome], misses: bool = False) -> tuple[str, float, int]:
    """(text, overall agreement, reasoning cases routed to quick)."""
    lines = [
        f"{len(outcomes)} labelled cases (tests/routing/cases/, config tests/routing/eval.toml)"
    ]
    lines.append("")
    lines.append(f"{'label':<10} {'cases':>5} {'agree':>6}")
    for tier in TIERS:
        mine = [o for o in outcomes if o.case["label"] == tier]
        agree = sum(o.ok for o in mine)
        share = f"{100 * agree / len(mine):5.1f}%" if mine else "    -"
        lines.append(f"{tier:<10} {len(mine):>5} {share:>6}")
    overall = sum(o.ok for o in outcomes) / max(1, len(outcomes))
    lines.append(f"{'overall':<10} {len(outcomes):>5} {100 * overall:5.1f}%")
    lines.append("")
    lines.append("confusion (rows: label, columns: routed)")
    lines.append(" " * 11 + "".join(f"{t:>10}" for t in TIERS))
    for label in TIERS:
        row = [sum(1 for o in outcomes if o.case["label"] == label and o.tier == t) for t in TIERS]
        lines.append(f"{label:<11}" + "".join(f"{n:>10}" for n in row))
    held = [o for o in outcomes if o.case["id"].startswith("holdout")]
    if held:
        tuned = [o for o in outcomes if not o.case["id"].startswith("holdout")]
        lines.append(
            f"tuning set (the classifier was tuned on it): {sum(o.ok for o in tuned)}/{len(tuned)}"
        )
        for batch, what in BATCHES:
            mine = [o for o in held if o.case["id"].startswith(batch + "-")]
            lines.append(f"{batch} ({what}): {sum(o.ok for o in mine)}/{len(mine)}")
    r_to_q = sum(1 for o in outcomes if o.case["label"] == "reasoning" and o.tier == "quick")
    lines.append(f"reasoning-labelled cases routed to quick: {r_to_q}")
    by_harness: dict[str, list[Outcome]] = {}
    for o in outcomes:
        by_harness.setdefault(o.case["harness"], []).append(o)
    lines.append("")
    lines.append("by harness: " + ", ".join(
        f"{h} {sum(o.ok for o in os_)}/{len(os_)}" for h, os_ in sorted(by_harness.items())
    ))  # fmt: skip
    if misses:
        lines.append("")
        for o in outcomes:
            if not o.ok:
                lines.append(
                    f"MISS {o.case['id']} label={o.case['label']} routed={o.tier}: {o.reason}"
                )
    return "\n".join(lines), overall, r_to_q


def main(argv: list[str]) -> int:
    text, overall, r_to_q = report(evaluate(), misses="--misses" in argv)
    print(text)
    return 0 if overall >= TARGET and r_to_q == 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
