"""Running totals the recorder keeps for ``tierline demo``'s closing summary.

``Tally`` lives in the recorder (one per app); keys are bounded label values,
so it stays small. ``format_summary`` renders it as plain text.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field


@dataclass
class Tally:
    requests: Counter[tuple[str, str]] = field(default_factory=Counter)  # (tier, model)
    failed: int = 0
    cost_usd: float = 0.0
    baseline_usd: float = 0.0
    unpriced: int = 0
    estimated: int = 0
    lines_added: int = 0
    lines_removed: int = 0
    commits: int = 0
    pull_requests: int = 0
    edits_accepted: int = 0
    edits_rejected: int = 0

    @property
    def savings_usd(self) -> float:
        return self.baseline_usd - self.cost_usd

    @property
    def savings_pct(self) -> float | None:
        if self.baseline_usd <= 0:
            return None
        return 100.0 * self.savings_usd / self.baseline_usd


def format_summary(tally: Tally, baseline_model: str | None) -> str:
    """Plain-text summary: requests per tier and model, cost vs baseline, signals."""
    lines = ["Requests per tier and model:"]
    for (tier, model), count in sorted(tally.requests.items()):
        lines.append(f"  {tier:<12} {model:<28} {count:>5}")
    if tally.failed:
        lines.append(f"  failed: {tally.failed}")
    pct = tally.savings_pct
    pct_text = f" ({pct:.1f}%)" if pct is not None else ""
    lines.append(
        f"Cost: ${tally.cost_usd:.4f}  baseline ({baseline_model or 'none'}): "
        f"${tally.baseline_usd:.4f}  savings: ${tally.savings_usd:.4f}{pct_text}"
    )
    if tally.unpriced or tally.estimated:
        lines.append(f"  unpriced requests: {tally.unpriced}  estimated: {tally.estimated}")
    lines.append(f"Lines: +{tally.lines_added} -{tally.lines_removed}")
    lines.append(f"Commits: {tally.commits}  Pull requests: {tally.pull_requests}")
    lines.append(f"Edits: {tally.edits_accepted} accepted, {tally.edits_rejected} rejected")
    return "\n".join(lines)
