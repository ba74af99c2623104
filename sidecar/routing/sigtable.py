"""One classifier signal (``Sig``) and its builders: a regex plus the lead words that gate it.

The lead words are derived from the regex (the literal word starts one of which any match
must begin with), so a table of signals stays plain data (``intents``) and ``classifier``
runs only the signals whose lead word starts some word of the message.
"""

from __future__ import annotations

import re

_LEAD = re.compile(r"[a-z0-9]+")


def _split_top(body: str) -> list[str]:
    parts: list[str] = []
    cur: list[str] = []
    depth = 0
    for ch in body:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "|" and depth == 0:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    parts.append("".join(cur))
    return parts


def _leads(src: str) -> tuple[str, ...]:
    """Literal word starts one of which any match of ``src`` must begin with ('' = unknown)."""
    for prefix in ("^\\s*", "\\b"):
        if src.startswith(prefix):
            src = src[len(prefix) :]
    if src.startswith("("):
        start = 3 if src.startswith("(?:") else 1
        depth = 0
        for end, ch in enumerate(src):
            depth += ch == "("
            depth -= ch == ")"
            if depth == 0 and end:
                break
        out: list[str] = []
        for alt in _split_top(src[start:end]):
            out += _leads(alt)
        return tuple(out)
    m = _LEAD.match(src)
    if not m:
        return ("",)
    lead = m.group(0)
    if src[m.end() : m.end() + 1] in ("?", "*", "{"):
        lead = lead[:-1]  # "hangs?" also matches "hang"
        if len(lead) < 3:  # short leads gate whole words only: run this signal always
            return ("",)
    return (lead,)


class Sig:
    """One weighted signal: a regex over the lower-cased text, run only when one of its
    lead words starts a word of the text (cheap gate: most signals never run)."""

    __slots__ = ("pattern", "leads", "raw", "names_paste")

    def __init__(
        self, pattern: str, leads: tuple[str, ...], raw: bool = False, names_paste: bool = False
    ) -> None:
        self.pattern = re.compile(pattern)
        self.leads = () if "" in leads else leads  # () = always run
        self.raw = raw  # match the original text (case-sensitive) instead of the lower-cased one
        self.names_paste = names_paste  # names a pasted error ("Traceback"), not a symptom


def phrase(pattern: str, raw: bool = False, leads: tuple[str, ...] | None = None) -> Sig:
    """A regex as written (``leads`` derived from it unless given; ``?sub`` = substring gate)."""
    return Sig(pattern, leads if leads is not None else _leads(pattern), raw)


def words(*alternatives: str) -> Sig:
    """``\\b(?:a|b|...)`` over the given alternatives (each a regex): whole words, plurals too."""
    leads = tuple(lead for alt in alternatives for lead in _leads(alt))
    return Sig(r"\b(?:" + "|".join(alternatives) + r")(?:e?s)?(?!\w)", leads)


def paste(sig: Sig) -> Sig:
    """``sig`` marked as naming a pasted error rather than describing a symptom."""
    return Sig(sig.pattern.pattern, sig.leads or ("",), sig.raw, names_paste=True)
