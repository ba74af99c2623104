"""Runs of plain OpenAI text deltas: found and counted without parsing each event.

A relay that has content flowing forwards the leading run of a read's whole events
in one piece when every event in it can only be a text delta (no tool call, finish,
usage, error, comment or named event). Two ways to prove that, both pure:

- ``template_cut``: providers write every text delta of a stream alike but for the
  text; ``template`` takes the bytes before and after the text of the first such
  chunk, and a run with as many template heads and tails as events, and no separators
  between keys but theirs, is all text deltas;
- ``marker_cut``: otherwise, the run stops before the first event holding any marker
  that would need a parse (one C-level scan per marker).

``text_chars`` counts a run's text (escapes as written) for the output estimate.
"""

from __future__ import annotations

import re
from typing import Any

# Any of these in a run of OpenAI events means one of them may carry more than text.
NOT_PLAIN = (
    b'"tool_calls"', b'"error"', b'"usage":{', b'"usage": {', b'"finish_reason":"',
    b'"finish_reason": "', b"\n:", b"\nevent:", b"\r",
)  # fmt: skip
_TEXT_RE = re.compile(
    rb'"(?:content|reasoning_content|reasoning|refusal)": ?"([^"\\]*(?:\\.[^"\\]*)*)"'
)
# The common run (compact JSON, text only): a literal prefix the regex engine finds fast.
_CONTENT_RE = re.compile(rb'"content":"([^"\\]*(?:\\.[^"\\]*)*)"')
_OTHER_TEXT = (b'"reasoning', b'"refusal"', b'"content": ')
CONTENT_KEY = b'"content":"'


def escaped(data: bytes, quote: int) -> bool:
    """True when the quote at ``quote`` follows an odd run of backslashes."""
    run = 0
    while data[quote - 1 - run] == 0x5C:
        run += 1
    return run % 2 == 1


def marker_cut(data: bytes) -> int:
    """Length of the leading run of whole events in ``data`` holding no marker (0: none)."""
    cut = len(data)
    for marker in NOT_PLAIN:
        pos = data.find(marker, 0, cut)
        if pos >= 0:  # cut before the event holding it
            start = data.rfind(b"\n\n", 0, pos + 1)
            cut = start + 2 if start >= 0 else 0
            if not cut:
                return 0
    return cut


def text_chars(data: bytes) -> int:
    """Text lengths in a plain run, escapes as written."""
    other = any(key in data for key in _OTHER_TEXT)
    pattern = _TEXT_RE if other else _CONTENT_RE
    return sum(map(len, pattern.findall(data)))


def template(raw: bytes, obj: dict[str, Any]) -> tuple[bytes, bytes] | None:
    """(head, tail) around the text of a chunk that is one text delta and nothing else
    (``data: {...,"delta":{"content":"`` and ``"},...,"finish_reason":null}...}``); None
    for any other chunk."""
    choices = obj.get("choices")
    if type(choices) is not list or len(choices) != 1 or obj.get("usage") is not None:
        return None
    choice = choices[0]
    delta = choice.get("delta") if isinstance(choice, dict) else None
    if not isinstance(delta, dict) or list(delta) != ["content"] or "error" in obj:
        return None
    if choice.get("finish_reason") is not None or not isinstance(delta["content"], str):
        return None
    start = raw.find(CONTENT_KEY)
    if start < 0 or raw.find(CONTENT_KEY, start + 1) >= 0:
        return None
    start += len(CONTENT_KEY)
    end = raw.find(b'"', start)
    while end > 0 and escaped(raw, end):
        end = raw.find(b'"', end + 1)
    head, tail = raw[:start], raw[end:]
    if end < 0 or b"\n" in head or not tail.endswith(b"\n\n") or b"\n" in tail[:-2]:
        return None
    return head, tail


def template_cut(data: bytes, head: bytes, tail: bytes) -> int:
    """Length of the leading run of ``data`` made only of events shaped head+text+tail
    (0: not the case for the run as far as its last tail).

    Such an event holds exactly two line feeds (its text is JSON-escaped), and neither
    the head's end nor the tail can occur inside a JSON string (their quotes would be
    escaped there): a run with as many of each as half its line feeds is made of events
    that each start with the head and end with the tail. What lies between could still
    be more than a text (``a","tool_calls":[...],"role":"b``), but then it holds the
    separator between a string and the next key (``","``), which a JSON string cannot
    hold: the run must have exactly its events' share of separators (a text ending in
    an escaped quote and a comma adds one: that run goes by markers, never wrongly).
    Counting the head's last 32 bytes, not all of it, keeps the search short (CPython
    switches to a slower algorithm for long needles); the bytes before it are the same
    in every event of the stream or are forwarded as they are anyway."""
    if not data.startswith(head):
        return 0
    end = data.rfind(tail)
    if end < 0:
        return 0
    cut = end + len(tail)
    lines = data.count(b"\n", 0, cut)
    if data.count(tail, 0, cut) * 2 != lines or data.count(head[-32:], 0, cut) * 2 != lines:
        return 0
    sep = b'", "' if b'", "' in head else b'","'
    if data.count(sep, 0, cut) * 2 != (head.count(sep) + tail.count(sep)) * lines:
        return 0
    return cut if data.find(b"\r", 0, cut) < 0 else 0
