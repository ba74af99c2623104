"""Runs of plain OpenAI text deltas: found and counted without parsing each event.

A relay that has content flowing forwards the leading run of a read's whole events
in one piece when every event in it can only be a text delta (no tool call, finish,
usage, error, comment or named event). Two ways to prove that, both pure:

- ``template_cut``: providers write every text delta of a stream alike but for the
  text; ``template`` takes the bytes before and after the text of the first such
  chunk, and a run that rebuilds byte for byte from heads, texts with no bare quote
  and tails is all text deltas;
- ``marker_cut``: otherwise, the run stops before the first event holding any marker
  that would need a parse (one C-level scan per marker).

``text_chars`` counts a run's text (escapes as written) for the output estimate.
"""

from __future__ import annotations

import re
from operator import itemgetter
from typing import Any

from sidecar.protocols.sse import CR, LF

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
    if end < 0 or LF in head or not tail.endswith(b"\n\n") or LF in tail[:-2]:
        return None
    return head, tail


def template_cut(data: bytes, head: bytes, tail: bytes) -> int:
    """Length of the leading run of ``data`` made only of events shaped head+text+tail
    (0: not the case for the run as far as its last tail).

    The run up to its last tail is split into events at its blank lines (a rare byte
    pair: the search skips ahead), each event's text is taken as what lies between a
    head and a tail, and the run is rebuilt from those texts: it must come out the same
    bytes, and the texts together hold no line break and only escaped quotes. Anything
    more than a text there (another key, a value, a comment or event in between) shows
    as a run that rebuilds differently or as a bare quote (JSON has no backslash outside
    its strings), so such a run goes by markers instead. Copies and compares run at
    memory speed; searching the run for the tail itself costs several times more (its
    bytes are the run's most common ones)."""
    if not data.startswith(head):  # (cheap) a run that does not start like one
        return 0
    end = data.rfind(tail)
    if end < len(head):  # no tail, or one inside the head: not head+text+tail
        return 0
    cut = end + len(tail)
    run = data[:cut] if cut < len(data) else data
    events = run.split(b"\n\n")
    events.pop()  # what followed the last blank line: nothing
    texts = list(map(itemgetter(slice(len(head), 2 - len(tail))), events))
    if head + (tail + head).join(texts) + tail != run:
        return 0
    joined = b"".join(texts)
    if joined.count(b'"') != joined.count(b'\\"') or LF in joined or CR in joined:
        return 0
    return cut
