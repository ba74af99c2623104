"""Heuristic classifier: weighted signals over the last user turn -> profile + confidence.

Pure and cheap: a fixed set of compiled patterns over at most ``_SCAN_CHARS``
of text (head and tail of very long pastes), no allocation per message of
history. ``classify_text`` looks at the human instruction; ``phase`` refines it
from what the agent has been doing in the current turn (from the third message
of a conversation on). Profiles map to tiers in ``PROFILE_TIER``.
"""

from __future__ import annotations

import functools
import re
import types
from collections.abc import Mapping
from typing import NamedTuple

from sidecar.routing.intents import FLAT

PROFILES = ("planner", "debugger", "reviewer", "coder", "refactorer", "assistant")
PROFILE_TIER = {
    "planner": "reasoning",
    "debugger": "reasoning",
    "reviewer": "reasoning",
    "coder": "coding",
    "refactorer": "coding",
    "assistant": "quick",
}
_SCAN_CHARS = 6000
_TRACE = re.compile(
    r"(Traceback \(most recent call last\)|^\s+at [\w$.<>]+ ?\(.*:\d+(?::\d+)?\)|"
    r'^\s*File "[^"]+", line \d+|error\[E\d+\]|npm ERR!|^FAILED |panicked at|'
    r"^\s*(?:[\w.]+(?:Error|Exception)): |Segmentation fault|^E\s{2,}\w)",
    re.MULTILINE,
)
_TRACE_GATES = ("Traceback", 'File "', "error[", "ERR!", "FAILED", "panicked", "rror: ",
                 "xception: ", "Segmentation", "    at ", "\nE  ")  # fmt: skip
# Errors that name the line and the fix (cases/README.md: routine fixes, the normal edit-compile
# loop): a missing import or name, a key, a division by zero, syntax, a compiler's type error.
_ROUTINE = re.compile(
    r"^\s*(?:NameError|KeyError|ZeroDivisionError|ModuleNotFoundError|ImportError|SyntaxError|"
    r"IndentationError|TabError|UnboundLocalError|ReferenceError): |"
    r"\berror TS\d{4}\b|\berror\[E0\d{3}\]|\bF8[0-4]\d undefined name|"
    r"\bundefined: \w|declared and not used|imported and not used|missing return",
    re.MULTILINE,
)
_ROUTINE_GATES = ("Error: ", "error TS", "error[E0", "undefined", "not used", "missing return")
# A test runner's verdict: a failing test run is a diagnosis, whatever the error inside it.
_TEST_RUN = re.compile(
    r"\b(?:FAILED\b|FAIL\b|[1-9]\d* (?:failed|failing)\b|test result|Tests?:|AssertionError)"
)
_FENCE = re.compile(r"```")
_URL = re.compile(r"\b\w+://\S+")
_DIFF = re.compile(r"^(diff --git|@@ -\d+)", re.MULTILINE)
_FILE_EXT = re.compile(
    r"\b[\w/.-]+\.(py|ts|tsx|js|jsx|go|rs|java|kt|rb|php|cs|cpp|c|h|sql|vue|svelte)\b"
)
_ERROR_WORD = re.compile(r"\berror\b(?! handling| message| messages| codes?| page| boundar)")
_WORD = re.compile(r"[a-z0-9]+")


class Classification(NamedTuple):
    profile: str
    confidence: float
    method: str = "heuristic"  # heuristic | phase | llm
    signals: tuple[str, ...] = ()

    @property
    def tier(self) -> str:
        return PROFILE_TIER[self.profile]


def routine_failure(text: str) -> bool:
    """True when ``text`` (a pasted error or a tool's output) is a routine error and not a
    failing test run: the cause is in front of the model (a compiler, linter or one-line
    exception), so fixing it is the coding loop, not a diagnosis."""
    if not any(g in text for g in _ROUTINE_GATES) or not _ROUTINE.search(text):
        return False
    return not _TEST_RUN.search(text)


def _scan_text(text: str) -> str:
    if len(text) <= _SCAN_CHARS:
        return text
    half = _SCAN_CHARS // 2
    return text[:half] + "\n" + text[-half:]


_Index = tuple[
    Mapping[str, tuple[tuple[str, tuple[int, ...]], ...]],  # 3-char head -> (lead, ids)
    Mapping[str, tuple[int, ...]],  # leads shorter than 3 chars -> ids (whole word)
    tuple[tuple[str, int], ...],  # (substring, id) gates; "" always runs
]


@functools.cache
def _index() -> _Index:
    """Signal lookup by lead word, built once and read-only."""
    heads: dict[str, dict[str, list[int]]] = {}
    short: dict[str, list[int]] = {}
    gates: list[tuple[str, int]] = []
    for i, (_, _, sig) in enumerate(FLAT):
        for lead in sig.leads or ("",):
            if lead.startswith("?") or not lead:
                gates.append((lead[1:], i))
            elif len(lead) < 3:
                short.setdefault(lead, []).append(i)
            else:
                heads.setdefault(lead[:3], {}).setdefault(lead, []).append(i)
    frozen_heads = {
        h: tuple((lead, tuple(ids)) for lead, ids in leads.items()) for h, leads in heads.items()
    }
    return (
        types.MappingProxyType(frozen_heads),
        types.MappingProxyType({k: tuple(v) for k, v in short.items()}),
        tuple(gates),
    )


def _triggered(lower: str) -> list[int]:
    """Ids of the signals whose lead word starts some word of ``lower``."""
    heads, short, gates = _index()
    ids = {i for sub, i in gates if sub in lower}
    for word in set(_WORD.findall(lower)):
        hit = short.get(word) if len(word) < 3 else None  # short leads: whole words
        if hit is None and word[:1].isdigit():
            hit = short.get(word[:1])  # "5" leads "5\d\d": a prefix
        if hit:
            ids.update(hit)
        bucket = heads.get(word[:3])
        if bucket:
            for lead, hit in bucket:
                if word.startswith(lead):
                    ids.update(hit)
    return sorted(ids)


_DIFF_LINE = ("+", "-", " ", "@", "\\", "diff --git", "index ")


def _outside_diff(text: str, start: int) -> str:
    """``text`` without the unfenced diff that begins at ``start`` (prose before and after)."""
    lines = text[start:].split("\n")
    end = len(lines)
    while end and not lines[end - 1].startswith(_DIFF_LINE):
        end -= 1  # lines after the diff's last line are prose again
    return text[:start] + "\n".join(lines[end:])


def _scores(text: str) -> tuple[dict[str, float], list[str]]:
    scores = dict.fromkeys(PROFILES, 0.0)
    hits: list[str] = []
    prose = _FENCE.split(text)[::2] if "```" in text else [text]
    plain = "\n".join(prose)  # keyword scoring ignores pasted code
    if "://" in plain:
        plain = _URL.sub(" ", plain)  # words inside URLs are not intent
    diff = _DIFF.search(plain)
    if diff:
        plain = _outside_diff(plain, diff.start())  # nor words inside a pasted diff
    lower = plain.lower()
    symptoms = 0  # debugger signals in the prose, beyond an exception's name
    for i in _triggered(lower):
        profile, weight, sig = FLAT[i]
        if sig.pattern.search(plain if sig.raw else lower):
            scores[profile] += weight
            hits.append(profile)
            symptoms += profile == "debugger" and not sig.names_paste
    if any(g in text for g in _TRACE_GATES) and _TRACE.search(text):
        if not symptoms and routine_failure(text):
            scores["debugger"] = 0.0  # the error names the line and the fix
            scores["coder"] += 2.5
            hits.append("routine-error")
        else:
            scores["debugger"] += 2.5
            hits.append("trace")
    if "```" in text:
        key = "reviewer" if scores["reviewer"] else "coder"
        scores[key] += 0.3
    if _DIFF.search(text):
        scores["reviewer" if scores["reviewer"] else "coder"] += 0.5
    if _ERROR_WORD.search(lower):
        scores["debugger"] += 0.4
    if _FILE_EXT.search(lower):
        scores["coder"] += 0.1
    if len(plain) > 600 and scores["planner"]:
        scores["planner"] += 0.3
    if len(plain.strip()) < 60:
        scores["assistant"] += 0.2
    return scores, hits


def classify_text(text: str) -> Classification:
    """Profile and confidence in [0, 0.95] for one human instruction."""
    text = _scan_text(text)
    scores, hits = _scores(text)
    ranked = sorted(scores.items(), key=lambda kv: kv[1], reverse=True)
    (top, top_score), (_, second) = ranked[0], ranked[1]
    if top_score <= 0.2:
        profile = "coder" if len(text) > 80 else "assistant"
        return Classification(profile, 0.3, "heuristic", ())
    total = sum(scores.values()) or 1.0
    conf = (0.2 if hits else 0.05) + 0.3 * (top_score - second) / total
    conf += 0.45 * min(1.0, top_score / 1.5)
    return Classification(top, round(min(0.95, conf), 3), "heuristic", tuple(dict.fromkeys(hits)))


class TurnActivity(NamedTuple):
    """What the agent did since the last human message (counts only)."""

    edits: int = 0
    reads: int = 0
    runs: int = 0
    failures: int = 0  # failing tool results (errors, failing tests)
    consecutive_failures: int = 0
    last_failed: bool = False
    messages: int = 0  # messages in the conversation so far
    last_failure_routine: bool = False  # the failing result is a compiler/linter error


def phase(activity: TurnActivity, base: Classification) -> Classification:
    """Refine ``base`` from the agent's activity (from the third message on)."""
    if activity.messages < 3:
        return base
    guess: Classification | None = None
    routine = activity.last_failure_routine and activity.consecutive_failures < 3
    if activity.last_failed and routine and activity.edits:
        guess = Classification("coder", 0.6, "phase", ("edit-compile-loop",))
    elif activity.last_failed and (activity.edits or activity.consecutive_failures >= 2):
        conf = 0.7 if activity.consecutive_failures < 2 else 0.8
        guess = Classification("debugger", conf, "phase", ("failing-after-edits",))
    elif activity.edits >= 2 and not activity.last_failed:
        guess = Classification("coder", 0.6, "phase", ("edit-run",))
    if guess is None or guess.profile == base.profile:
        return base
    return guess  # what the agent is doing now outweighs how the turn was phrased
