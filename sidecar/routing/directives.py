"""Routing directives typed by the user: ``/plan``, ``/lock debugger``, ``/tag auth`` ...

Recognised forms (nothing else is a directive):

- plain text: one or more directives at the very start of a text (a string
  content or one text part/block), each followed by whitespace or the end:
  ``"/plan how should we shard this"``, ``"/tag auth /debug login 500s"``.
  ``/code`` mid-sentence, ``/code/app.py`` or ``https://x/code`` are not directives.
- Claude Code's expansion of a custom command: ``<command-name>/plan</command-name>``
  with optional ``<command-message>`` and ``<command-args>`` tags, anywhere in a
  text; the tags are replaced by the arguments.

``strip_text`` is deterministic and idempotent: the same text always gives the
same result, so rewriting every user message of a request leaves the cached
prompt prefix identical from one request to the next. A text that holds only
directives becomes a fixed neutral note, ``(tierline directive: /lock quick)``
(``neutral``): providers reject empty user text (Anthropic: empty text blocks),
forwarding the slash command verbatim invites the model to act on it, and the
note is the same on every request so the cached prefix stays stable.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

PROFILE_DIRECTIVES = {
    "plan": "planner",
    "debug": "debugger",
    "review": "reviewer",
    "code": "coder",
    "refactor": "refactorer",
}
_ARG_DIRECTIVES = frozenset({"lock", "tag"})
_BARE_DIRECTIVES = frozenset({*PROFILE_DIRECTIVES, "auto"})

_LEADING = re.compile(
    r"/(plan|debug|review|code|refactor|auto|lock|tag)(?=\s|$)(?:[ \t]+([^\s/][^\s]*))?"
)
_CC_BLOCK = re.compile(
    r"(?:<command-message>[^<]*</command-message>\s*)?"
    r"<command-name>/?(plan|debug|review|code|refactor|auto|lock|tag)</command-name>"
    r"(?:\s*<command-args>(.*?)</command-args>)?",
    re.DOTALL,
)


@dataclass(frozen=True)
class Directive:
    """One directive: ``name`` is plan|debug|review|code|refactor|auto|lock|tag."""

    name: str
    arg: str | None = None

    @property
    def profile(self) -> str | None:
        return PROFILE_DIRECTIVES.get(self.name)


@dataclass(frozen=True)
class Directives:
    """What the directives of one message ask for (last one of a kind wins)."""

    profile: str | None = None
    lock: str | None = None
    unlock: bool = False
    tags: tuple[str, ...] = ()

    @classmethod
    def of(cls, found: tuple[Directive, ...]) -> Directives:
        profile = lock = None
        unlock = False
        tags: list[str] = []
        for d in found:
            if d.profile:
                profile = d.profile
            elif d.name == "auto":
                unlock, lock = True, None
            elif d.name == "lock" and d.arg:
                lock, unlock = d.arg, False
            elif d.name == "tag" and d.arg:
                tags.extend(t for t in d.arg.lower().split(",") if t)
        return cls(profile, lock, unlock, tuple(dict.fromkeys(tags)))

    def __bool__(self) -> bool:
        return bool(self.profile or self.lock or self.unlock or self.tags)


def _leading(text: str) -> tuple[tuple[Directive, ...], str]:
    start = len(text) - len(text.lstrip())
    pos = start
    found: list[Directive] = []
    while pos < len(text) and text[pos] == "/":
        m = _LEADING.match(text, pos)
        if m is None:
            break
        name, arg = m.group(1), m.group(2)
        if name in _BARE_DIRECTIVES and arg is not None:
            # a bare directive does not take an argument: keep the word as text
            end = m.start(2)
            arg = None
        else:
            end = m.end()
        if name in _ARG_DIRECTIVES and arg is None:
            break  # "/lock" alone is not a directive
        found.append(Directive(name, arg))
        pos = end
        while pos < len(text) and text[pos] in " \t\r\n":
            pos += 1
    if not found:
        return (), text
    return tuple(found), text[pos:]


def _claude_code(text: str) -> tuple[tuple[Directive, ...], str]:
    found: list[Directive] = []

    def repl(m: re.Match[str]) -> str:
        name, args = m.group(1), (m.group(2) or "").strip()
        if name in _ARG_DIRECTIVES:
            head, _, rest = args.partition(" ")
            if not head:
                return m.group(0)
            found.append(Directive(name, head))
            return rest.strip()
        found.append(Directive(name))
        return args

    out = _CC_BLOCK.sub(repl, text)
    return tuple(found), out.strip() if found else text


def strip_text(text: str) -> tuple[tuple[Directive, ...], str]:
    """Directives found in ``text`` and the text without them (see module doc)."""
    if "/" not in text:
        return (), text
    found: tuple[Directive, ...] = ()
    out = text
    if "<command-name>" in text:
        found, out = _claude_code(text)
    lead, out2 = _leading(out)
    if lead:
        found, out = found + lead, out2
    if not found:
        return (), text
    return found, (out if out.strip() else neutral(found))


def neutral(found: tuple[Directive, ...]) -> str:
    """What a directive-only text is forwarded as: the directives in one canonical
    spelling (same input, same note), e.g. ``(tierline directive: /lock quick)``."""
    spelled = " ".join(f"/{d.name} {d.arg}" if d.arg else f"/{d.name}" for d in found)
    return f"(tierline directive: {spelled})"


_REMINDER = re.compile(r"<system-reminder>.*?</system-reminder>", re.DOTALL)


def human_text(text: str) -> str:
    """``text`` without Claude Code's ``<system-reminder>`` blocks (context it injects)."""
    if "<system-reminder>" in text:
        text = _REMINDER.sub("", text)
    return text.strip()


def might_contain(text: str) -> bool:
    """Cheap pre-check: could ``text`` hold a directive at all?"""
    return "<command-name>" in text or text.lstrip()[:1] == "/"


def _strip_content(content: object) -> tuple[tuple[Directive, ...], object]:
    if isinstance(content, str):
        return strip_text(content)
    if not isinstance(content, list):
        return (), content
    found: tuple[Directive, ...] = ()
    parts: list[object] | None = None
    for i, part in enumerate(content):
        if not isinstance(part, dict) or part.get("type") not in ("text", "input_text"):
            continue
        text = part.get("text")
        if not isinstance(text, str):
            continue
        got, out = strip_text(text)
        if not got:
            continue
        found += got
        if out != text:
            parts = parts if parts is not None else list(content)
            parts[i] = {**part, "text": out}
    return found, (parts if parts is not None else content)


def strip_message(raw: object) -> tuple[tuple[Directive, ...], object]:
    """Directives in one wire message/item of a user, and the message without them.

    Works for all three protocols (string content, text parts/blocks,
    ``input_text`` items, a bare Responses string). The input is not mutated;
    an unchanged message is returned as the same object.
    """
    if isinstance(raw, str):
        return strip_text(raw)
    if not isinstance(raw, dict) or raw.get("role") != "user":
        return (), raw
    found, content = _strip_content(raw.get("content"))
    if content is raw.get("content"):
        return found, raw
    return found, {**raw, "content": content}
