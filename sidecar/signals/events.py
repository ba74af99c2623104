"""The typed events ``SignalTracker.settle`` returns (one per thing to count).

Every label value is bounded: ``language`` comes from a fixed table,
``tool``/``tool_name`` is the name of a recognised edit tool, ``model`` is the
configured model that proposed the call (``"unknown"`` when tierline did not
relay it). No paths, ids or content.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = ["UNKNOWN_MODEL", "Commit", "EditDecision", "LinesChanged", "PullRequest", "SignalEvent"]

UNKNOWN_MODEL = "unknown"


@dataclass(frozen=True)
class LinesChanged:
    """Lines an accepted edit added/removed in files of one language (never both 0)."""

    added: int
    removed: int
    language: str
    model: str
    tool: str


@dataclass(frozen=True)
class EditDecision:
    """One per settled edit call: accepted (applied) or rejected by user/permission/hook."""

    tool_name: str
    decision: Literal["accept", "reject"]
    language: str
    model: str


@dataclass(frozen=True)
class Commit:
    """One git commit a shell command made (one event per commit)."""

    model: str


@dataclass(frozen=True)
class PullRequest:
    """One pull/merge request a shell command opened."""

    model: str


SignalEvent = LinesChanged | EditDecision | Commit | PullRequest
