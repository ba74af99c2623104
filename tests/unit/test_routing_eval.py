"""The labelled routing cases (tests/routing/cases/) under pytest.

Issue 3's targets on the overall set (>= 90% tier agreement, no reasoning-labelled case
routed to quick, at least 150 cases), no reasoning->quick on the tune and holdout splits
either, and the holdout (frozen by a hash of the case id) above HOLDOUT_FLOOR, so that a
classifier change that loses held-out cases fails. The figures are printed (pytest -s)."""

from __future__ import annotations

import functools
import hashlib
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[1] / "routing"))

import evaluate  # noqa: E402


@functools.cache
def _report() -> tuple[str, dict[str, evaluate.Score]]:
    return evaluate.report(evaluate.evaluate(), misses=True)


def test_no_reasoning_case_goes_to_quick() -> None:
    text, by = _report()
    print(text)
    assert len(by["overall"].outcomes) >= 150, text
    for name, score in by.items():
        assert score.reasoning_to_quick == 0, (name, text)


def test_holdout_stays_above_its_floor() -> None:
    text, by = _report()
    holdout, v2 = by["holdout"], by["holdout-v2"]
    print(
        f"holdout agreement {100 * holdout.agreement:.1f}% ({len(holdout.outcomes)} cases), "
        f"of which batch v2 {100 * v2.agreement:.1f}% ({len(v2.outcomes)} cases); "
        f"floor {100 * evaluate.HOLDOUT_FLOOR:.0f}%"
    )
    assert holdout.agreement >= evaluate.HOLDOUT_FLOOR, text


def test_overall_agreement_meets_the_issue_target() -> None:
    text, by = _report()
    assert by["overall"].agreement >= evaluate.TARGET, text


def test_every_tier_and_harness_is_represented() -> None:
    cases = evaluate.load_cases()
    assert {c["label"] for c in cases} == {"reasoning", "coding", "quick"}
    harnesses = {c["harness"] for c in cases}
    assert {"claude_code", "opencode", "codex", "aider", "sdk"} <= harnesses
    assert len({c["id"] for c in cases}) == len(cases)


def test_splits_are_frozen_by_the_case_id() -> None:
    """A case cannot move between tune and holdout: the split is a hash of its id."""
    cases = evaluate.load_cases()
    for c in cases:
        want = "holdout" if hashlib.sha256(c["id"].encode()).digest()[0] < 77 else "tune"
        assert c["split"] == want, c["id"]
    share = sum(c["split"] == "holdout" for c in cases) / len(cases)
    assert 0.25 <= share <= 0.35
    assert sum(c["split"] == "holdout" and c["batch"] == "v2" for c in cases) >= 30
