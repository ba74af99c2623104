"""Route every labelled case in tests/routing/cases/ and compare with its label.

    python tests/routing/evaluate.py [--misses] [--holdout-misses]

For the tune split, the holdout split (frozen in the case files: a stable hash
of the case id, see cases/README.md), the holdout cases of batch v2 (written
after the audit, never seen while tuning: the honest estimate) and overall, it
prints agreement per tier, a confusion matrix (rows: label, columns: routed
tier) and how many reasoning-labelled cases went to quick. ``--misses`` lists
the tune split's disagreements with the router's reason (tune on those only);
``--holdout-misses`` lists the holdout's, for reporting. Each case is routed as
a fresh session under tests/routing/eval.toml. Exit status 1 when overall
agreement is under 90%, a reasoning-labelled case went to quick, or the
holdout is under HOLDOUT_FLOOR. tests/unit/test_routing_eval.py runs the same
checks under pytest.
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
TARGET = 0.90  # issue 3, point 11: overall tier agreement
# When the split was frozen (2026-11-21 ~23:05 UTC) the holdout scored 101/111 (91.0%; its v2
# part, never seen while tuning, 33/41); after tuning on the tune split's misses (~23:20 UTC)
# 105/111 (94.6%; v2 36/41). The floor lets three held-out cases go before a classifier
# change fails (routing is deterministic: no flapping); raise it as the holdout improves,
# never lower it to make a change pass.
HOLDOUT_FLOOR = 0.91


@dataclass(frozen=True)
class Outcome:
    case: dict[str, Any]
    tier: str
    reason: str
    route: str

    @property
    def ok(self) -> bool:
        return bool(self.tier == self.case["label"])


@dataclass(frozen=True)
class Score:
    """Agreement of one set of outcomes."""

    name: str
    outcomes: tuple[Outcome, ...]

    @property
    def agreement(self) -> float:
        return sum(o.ok for o in self.outcomes) / max(1, len(self.outcomes))

    @property
    def reasoning_to_quick(self) -> int:
        return sum(1 for o in self.outcomes if o.case["label"] == "reasoning" and o.tier == "quick")

    def lines(self) -> list[str]:
        n, ok = len(self.outcomes), sum(o.ok for o in self.outcomes)
        out = [f"== {self.name}: {ok}/{n} = {100 * self.agreement:.1f}%", ""]
        out.append(f"{'label':<10} {'cases':>5} {'agree':>6}")
        for tier in TIERS:
            mine = [o for o in self.outcomes if o.case["label"] == tier]
            share = f"{100 * sum(o.ok for o in mine) / len(mine):5.1f}%" if mine else "    -"
            out.append(f"{tier:<10} {len(mine):>5} {share:>6}")
        out.append("confusion (rows: label, columns: routed)")
        out.append(" " * 11 + "".join(f"{t:>10}" for t in TIERS))
        for label in TIERS:
            row = [
                sum(1 for o in self.outcomes if o.case["label"] == label and o.tier == t)
                for t in TIERS
            ]
            out.append(f"{label:<11}" + "".join(f"{n:>10}" for n in row))
        out.append(f"reasoning-labelled cases routed to quick: {self.reasoning_to_quick}")
        return out


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


def scores(outcomes: list[Outcome]) -> dict[str, Score]:
    """tune, holdout, holdout-v2 (never seen while tuning) and overall."""

    def pick(name: str, keep: Any) -> Score:
        return Score(name, tuple(o for o in outcomes if keep(o.case)))

    return {
        "tune": pick("tune", lambda c: c["split"] == "tune"),
        "holdout": pick("holdout", lambda c: c["split"] == "holdout"),
        "holdout-v2": pick(
            "holdout, batch v2 only (never seen while tuning)",
            lambda c: c["split"] == "holdout" and c["batch"] == "v2",
        ),
        "overall": pick("overall", lambda c: True),
    }


def report(
    outcomes: list[Outcome], misses: bool = False, holdout_misses: bool = False
) -> tuple[str, dict[str, Score]]:
    """(text, scores by name)."""
    by = scores(outcomes)
    lines = [
        f"{len(outcomes)} labelled cases (tests/routing/cases/, config tests/routing/eval.toml)",
        "",
    ]
    for score in by.values():
        lines += score.lines() + [""]
    by_harness: dict[str, list[Outcome]] = {}
    for o in outcomes:
        by_harness.setdefault(o.case["harness"], []).append(o)
    lines.append("by harness: " + ", ".join(
        f"{h} {sum(o.ok for o in os_)}/{len(os_)}" for h, os_ in sorted(by_harness.items())
    ))  # fmt: skip
    for split, wanted in (("tune", misses), ("holdout", holdout_misses)):
        if wanted:
            lines.append("")
            for o in by[split].outcomes:
                if not o.ok:
                    lines.append(
                        f"MISS [{split}] {o.case['id']} label={o.case['label']} "
                        f"routed={o.tier}: {o.reason}"
                    )
    return "\n".join(lines), by


def main(argv: list[str]) -> int:
    text, by = report(
        evaluate(), misses="--misses" in argv, holdout_misses="--holdout-misses" in argv
    )
    print(text)
    ok = (
        by["overall"].agreement >= TARGET
        and all(s.reasoning_to_quick == 0 for s in by.values())
        and by["holdout"].agreement >= HOLDOUT_FLOOR
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
