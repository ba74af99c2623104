"""The labelled routing cases (tests/routing/cases/) under pytest: >= 90% tier agreement,
no reasoning-labelled case routed to quick, at least 150 cases."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[1] / "routing"))

import evaluate  # noqa: E402


def test_labelled_cases_agree() -> None:
    outcomes = evaluate.evaluate()
    text, overall, r_to_q = evaluate.report(outcomes, misses=True)
    assert len(outcomes) >= 150, text
    assert r_to_q == 0, text
    assert overall >= evaluate.TARGET, text


def test_every_tier_and_harness_is_represented() -> None:
    cases = evaluate.load_cases()
    assert {c["label"] for c in cases} == {"reasoning", "coding", "quick"}
    harnesses = {c["harness"] for c in cases}
    assert {"claude_code", "opencode", "codex", "aider", "sdk"} <= harnesses
    assert len({c["id"] for c in cases}) == len(cases)
