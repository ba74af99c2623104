"""Line counting for edits: text diffs, unified diffs, Codex patches, SEARCH/REPLACE.

Rules (the README's "Productivity signals" section repeats them):

- text is split as ``str.splitlines()`` does, so CRLF is one break and a
  difference only in the final newline counts nothing;
- old -> new counts by a real line diff (``difflib``): a changed line is one
  removed plus one added, unchanged lines count nothing (very large edits
  use difflib's junk heuristic to stay fast, see ``_EXACT_LIMIT``);
- patches count hunk by hunk: inside a hunk every ``-`` line is removed and
  every ``+`` line added, even when it reads ``--- x`` or ``+++ y`` (the
  ``@@ -a,b +c,d @@`` counts say where a hunk ends);
- a new file counts every line as added.

All functions are pure and total: malformed input counts what it can.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator
from dataclasses import dataclass

__all__ = [
    "FileChange",
    "count_added",
    "diff_counts",
    "is_codex_patch",
    "parse_codex_patch",
    "parse_search_replace",
    "parse_unified_diff",
]

# difflib without its "popular line" heuristic is exact but quadratic when
# blank lines and braces repeat (350 ms for 2000 x 2000 lines); this runs on
# the event loop, so past _EXACT_LIMIT (len(old) * len(new) after trimming the
# common prefix and suffix, ~3 ms worst case) the heuristic is on, and past
# _DIFF_LIMIT lines the differing middle counts as all removed + all added.
_EXACT_LIMIT = 40_000
_DIFF_LIMIT = 10_000


@dataclass(frozen=True)
class FileChange:
    """Lines one edit added to and removed from one file."""

    path: str
    added: int
    removed: int


def count_added(text: str) -> int:
    """Lines in ``text`` (``str.splitlines``): what a write/create/insert adds."""
    return len(text.splitlines())


def diff_counts(old: str, new: str) -> tuple[int, int]:
    """``(added, removed)`` lines between ``old`` and ``new`` by a real line diff."""
    a = old.splitlines()
    b = new.splitlines()
    start = 0
    limit = min(len(a), len(b))
    while start < limit and a[start] == b[start]:
        start += 1
    end_a, end_b = len(a), len(b)
    while end_a > start and end_b > start and a[end_a - 1] == b[end_b - 1]:
        end_a -= 1
        end_b -= 1
    a, b = a[start:end_a], b[start:end_b]
    if not a or not b or len(a) + len(b) > _DIFF_LIMIT:
        return len(b), len(a)
    added = removed = 0
    exact = len(a) * len(b) <= _EXACT_LIMIT
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=not exact)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag != "equal":
            removed += i2 - i1
            added += j2 - j1
    return added, removed


# -- unified diffs -------------------------------------------------------------

_HUNK = re.compile(r"^@@ -\d+(?:,(\d+))? \+\d+(?:,(\d+))? @@")


def _strip_prefix(path: str) -> str:
    path = path.split("\t", 1)[0].strip()
    if path.startswith(("a/", "b/")):
        path = path[2:]
    return path


class _Tally:
    """Accumulates per-file counts in the order files first appear."""

    def __init__(self) -> None:
        self.counts: dict[str, list[int]] = {}

    def add(self, path: str, added: int, removed: int) -> None:
        entry = self.counts.setdefault(path, [0, 0])
        entry[0] += added
        entry[1] += removed

    def result(self) -> tuple[FileChange, ...]:
        return tuple(FileChange(p, a, r) for p, (a, r) in self.counts.items())


def _header_path(old: str, new: str) -> str:
    new_path = _strip_prefix(new)
    return _strip_prefix(old) if new_path == "/dev/null" else new_path


def parse_unified_diff(text: str) -> tuple[FileChange, ...]:
    """Per-file counts of a unified diff (``git diff`` style, one or more files).

    A hunk with ``@@ -a,b +c,d @@`` counts ends after ``b`` old and ``d`` new
    lines, so ``--- x`` inside it is a removed line. A bare ``@@`` opens a hunk
    that ends at the next ``@@``/file header; there a ``--- `` line directly
    followed by a ``+++ `` line is taken as the next file's header.
    """
    lines = text.splitlines()
    tally = _Tally()
    path = ""
    old_left = new_left = 0
    open_hunk = False
    i = 0
    while i < len(lines):
        line = lines[i]
        if old_left > 0 or new_left > 0:
            old_left, new_left = _count_line(tally, path, line, old_left, new_left)
        elif line.startswith("--- ") and i + 1 < len(lines) and lines[i + 1].startswith("+++ "):
            path = _header_path(line[4:], lines[i + 1][4:])
            open_hunk = False
            i += 1
        elif line.startswith("diff --git "):
            open_hunk = False
        elif line.startswith("@@"):
            match = _HUNK.match(line)
            if match:
                old_left = int(match.group(1) or 1)
                new_left = int(match.group(2) or 1)
                open_hunk = False
            else:
                open_hunk = True
        elif open_hunk and line[:1] in ("+", "-"):
            tally.add(path, int(line[0] == "+"), int(line[0] == "-"))
        i += 1
    return tally.result()


def _count_line(tally: _Tally, path: str, line: str, old: int, new: int) -> tuple[int, int]:
    head = line[:1]
    if head == "+":
        tally.add(path, 1, 0)
        return old, new - 1
    if head == "-":
        tally.add(path, 0, 1)
        return old - 1, new
    if head == "\\":  # "\ No newline at end of file"
        return old, new
    return old - 1, new - 1  # context (" " or an empty line some tools emit)


# -- Codex apply_patch -----------------------------------------------------------

_BEGIN = "*** Begin Patch"


def is_codex_patch(text: str) -> bool:
    return _BEGIN in text


def parse_codex_patch(text: str) -> tuple[FileChange, ...]:
    """Per-file counts of a Codex ``*** Begin Patch`` envelope.

    ``*** Add File`` counts its ``+`` lines as added; ``*** Update File``
    counts its hunks' ``+``/``-`` lines; ``*** Delete File`` carries no
    content, so it counts nothing. ``*** Move to`` renames the counted path.
    """
    tally = _Tally()
    path = ""
    for line in _envelope(text):
        if line.startswith("*** "):
            path = _codex_header(tally, line, path)
            continue
        head = line[:1]
        if head == "+" and path:
            tally.add(path, 1, 0)
        elif head == "-" and path:
            tally.add(path, 0, 1)
    return tally.result()


def _envelope(text: str) -> Iterator[str]:
    inside = False
    for line in text.splitlines():
        stripped = line.strip()
        if stripped == _BEGIN:
            inside = True
        elif stripped == "*** End Patch":
            inside = False
        elif inside:
            yield line


_FILE_OPS = ("*** Add File:", "*** Update File:", "*** Delete File:")


def _codex_header(tally: _Tally, line: str, path: str) -> str:
    """Apply one ``*** ...`` header line; returns the path now being patched."""
    for prefix in _FILE_OPS:
        if line.startswith(prefix):
            path = line[len(prefix) :].strip()
            tally.add(path, 0, 0)
            return path
    if line.startswith("*** Move to:") and path:
        dest = line[len("*** Move to:") :].strip()
        added, removed = tally.counts.pop(path, [0, 0])
        tally.add(dest, added, removed)
        return dest
    return path  # "*** End of File" and the like


# -- SEARCH/REPLACE blocks (aider, Cline replace_in_file) -----------------------

_SEARCH = re.compile(r"^(?:<{5,9}|-{5,9}) ?SEARCH\s*$")
_DIVIDER = re.compile(r"^={5,9}\s*$")
_REPLACE = re.compile(r"^(?:>{5,9}|\+{5,9}) ?REPLACE\s*$")


def parse_search_replace(text: str) -> list[tuple[int, str, str]]:
    """``(line index of SEARCH, search, replace)`` for every complete block in ``text``.

    Accepts aider's ``<<<<<<< SEARCH / ======= / >>>>>>> REPLACE`` and Cline's
    ``------- SEARCH / ======= / +++++++ REPLACE`` markers, and drops Roo Code's
    ``:start_line:N`` / ``-------`` hint lines that open a SEARCH section. The line index lets
    a caller find the file name written above an aider block.
    """
    lines = text.splitlines()
    blocks: list[tuple[int, str, str]] = []
    i = 0
    while i < len(lines):
        if not _SEARCH.match(lines[i]):
            i += 1
            continue
        start = i
        j = i + 1
        while j < len(lines) and not _DIVIDER.match(lines[j]):
            j += 1
        k = j + 1
        while k < len(lines) and not _REPLACE.match(lines[k]):
            k += 1
        if k >= len(lines):
            break
        search = "\n".join(_strip_line_hints(lines[start + 1 : j]))
        replace = "\n".join(lines[j + 1 : k])
        blocks.append((start, search, replace))
        i = k + 1
    return blocks


_HINT = re.compile(r"^:(?:start|end)_line:\s*\d+\s*$")


def _strip_line_hints(search: list[str]) -> list[str]:
    i = 0
    while i < len(search) and _HINT.match(search[i]):
        i += 1
    if i and i < len(search) and search[i].strip() == "-------":
        i += 1
    return search[i:]
