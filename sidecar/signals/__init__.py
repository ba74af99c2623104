"""Productivity signals read off the agent's own traffic (pure: no aiohttp, no I/O).

Usage (the telemetry recorder owns one tracker per app)::

    tracker = SignalTracker()
    # on_request, before dispatch: results in this request settle earlier calls
    for event in tracker.settle(protocol, body):
        ...  # LinesChanged | EditDecision | Commit | PullRequest
    # on_exchange, after the response completed: register the calls it made
    tracker.propose(exchange.tool_calls, exchange.model or "unknown")

Each tool call yields its events exactly once (deduplicated by call id),
``settle`` never raises on odd bodies, and memory is bounded by the
tracker's ``max_pending`` / ``max_seen``. Events carry only bounded labels
(language id, tool name, model); ``display_language`` gives Claude Code's
spelling of a language for the ``claude_code.*`` compatibility series.
Counting rules: see ``tracker``, ``lines``, ``shell`` and ``outcome``, and the
README's "Productivity signals" section.
"""

from sidecar.signals.events import (
    UNKNOWN_MODEL,
    Commit,
    EditDecision,
    LinesChanged,
    PullRequest,
    SignalEvent,
)
from sidecar.signals.languages import display_language, language_of
from sidecar.signals.tracker import SignalTracker

__all__ = [
    "UNKNOWN_MODEL",
    "Commit",
    "EditDecision",
    "LinesChanged",
    "PullRequest",
    "SignalEvent",
    "SignalTracker",
    "display_language",
    "language_of",
]
