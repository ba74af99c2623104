"""Commits and pull requests in shell commands and their output.

A command is split the way a shell would split it into simple commands
(``&&``, ``||``, ``;``, ``|``, ``&``, newlines, subshell parentheses), with
quotes, ``$(...)``, backticks and here-documents kept inside their word. A
simple command is a commit when, after prefixes such as ``VAR=x``, ``sudo``,
``env`` or ``time``, it is ``git [global options] commit`` without
``--dry-run``; text inside ``echo "git commit"`` or a quoted string is a
word of another command and never counts. ``bash -c '...'`` (and ``sh``,
``zsh``) is looked into.

Scripts longer than 16 KiB (after here-document bodies, which are data, are
dropped) are not read. Whether it worked is judged from the output only: a commit needs git's
``[branch sha] message`` line, a pull request a new PR/MR URL (and no
"already exists").
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["ShellIntent", "commits_in_output", "prs_in_output", "read_command", "split_commands"]

_SEPARATORS = frozenset("\n;&|()")
_PREFIX_WORDS = frozenset(
    {"{", "!", "then", "do", "else", "elif", "if", "while", "until", "time", "sudo", "nohup",
     "exec", "command", "builtin", "env", "nice", "timeout"}
)
_SHELLS = frozenset({"bash", "sh", "zsh", "dash", "ksh"})
_ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")
_HEREDOC = re.compile(r"<<-?\s*(['\"]?)([A-Za-z_][A-Za-z0-9_]*)\1")
_GIT_OPTS_WITH_VALUE = frozenset({"-C", "-c", "--git-dir", "--work-tree", "--namespace",
                                  "--exec-path", "--config-env"})
_MAX_DEPTH = 3
_MAX_SCRIPT = 16_384  # characters left after here-document bodies are dropped
_KEYWORDS = re.compile(r"\b(?:commit|pr|mr|pull-request)\b")
_PLAIN = re.compile(r"[^\s;&|()'\"`\\$#]+")
_BLANKS = re.compile(r"[ \t\r]+")


@dataclass(frozen=True)
class ShellIntent:
    """What a command tries to do: number of commit and PR-create invocations."""

    commits: int = 0
    prs: int = 0

    def __bool__(self) -> bool:
        return bool(self.commits or self.prs)


def read_command(script: str) -> ShellIntent:
    """Count ``git commit`` and ``gh pr create``-like invocations in ``script``."""
    if not _KEYWORDS.search(script):
        return ShellIntent()  # most commands: no tokenising at all
    if len(script) > _MAX_SCRIPT and len(_drop_heredoc_bodies(script)) > _MAX_SCRIPT:
        return ShellIntent()  # tokenising runs on the event loop: not for megabyte scripts
    return _read(script, 0)


def _read(script: str, depth: int) -> ShellIntent:
    commits = prs = 0
    for words in split_commands(script):
        words = _strip_prefixes(words)
        if not words:
            continue
        program = posixpath.basename(words[0])
        if program in _SHELLS and depth < _MAX_DEPTH:
            inner = _shell_script(words)
            if inner is not None:
                intent = _read(inner, depth + 1)
                commits += intent.commits
                prs += intent.prs
        elif program == "git":
            commits += _is_git_commit(words)
        else:
            prs += _is_pr_create(program, words)
    return ShellIntent(commits, prs)


def _strip_prefixes(words: list[str]) -> list[str]:
    i = 0
    while i < len(words):
        word = words[i]
        if word in _PREFIX_WORDS or _ASSIGNMENT.match(word):
            i += 1
        elif i > 0 and words[i - 1] in ("env", "sudo", "timeout", "nice") and (
            word.startswith("-") or word[:1].isdigit()
        ):
            i += 1  # `env -i`, `timeout 10`: options of a prefix word
        else:
            break
    return words[i:]


def _shell_script(words: list[str]) -> str | None:
    for i, word in enumerate(words[1:], start=1):
        if word.startswith("-") and not word.startswith("--") and "c" in word:
            return words[i + 1] if i + 1 < len(words) else None
        if not word.startswith("-"):
            return None
    return None


def _is_git_commit(words: list[str]) -> int:
    i = 1
    while i < len(words) and words[i].startswith("-"):
        opt = words[i]
        i += 2 if opt in _GIT_OPTS_WITH_VALUE else 1
    if i >= len(words) or words[i] != "commit":
        return 0
    rest = words[i + 1 :]
    if "--dry-run" in rest or "-h" in rest or "--help" in rest:
        return 0
    return 1


def _is_pr_create(program: str, words: list[str]) -> int:
    args = [w for w in words[1:] if not w.startswith("-")]
    if "--dry-run" in words or "--help" in words:
        return 0
    if program == "gh":
        return int(_has_pair(args, "pr", ("create", "new")))
    if program == "glab":
        return int(_has_pair(args, "mr", ("create", "new")))
    if program == "hub":
        return int(bool(args) and args[0] == "pull-request")
    return 0


def _has_pair(args: Sequence[str], noun: str, verbs: tuple[str, ...]) -> bool:
    # `gh -R o/r pr create`: a flag's value may sit before the noun; skip to it.
    if noun not in args:
        return False
    index = args.index(noun)
    return index + 1 < len(args) and args[index + 1] in verbs


# -- tokenising ------------------------------------------------------------------


def split_commands(script: str) -> list[list[str]]:
    """Simple commands of ``script`` as word lists (quotes removed, no expansion)."""
    text = _drop_heredoc_bodies(script)
    segments: list[list[str]] = []
    words: list[str] = []
    word: list[str] | None = None  # None: between words
    i, n = 0, len(text)
    while i < n:
        plain = _PLAIN.match(text, i)
        if plain is not None:  # a run of ordinary characters, at C speed
            if word is None:
                word = []
            word.append(plain.group())
            i = plain.end()
            continue
        c = text[i]
        if c in " \t\r" or c in _SEPARATORS:
            if word is not None:
                words.append("".join(word))
                word = None
            if c in _SEPARATORS and words:
                segments.append(words)
                words = []
            blanks = _BLANKS.match(text, i + 1)
            i = blanks.end() if blanks else i + 1
        elif c == "#" and word is None:
            end = text.find("\n", i)
            i = n if end < 0 else end
        elif text.startswith("\\\n", i):
            i += 2  # line continuation
        else:
            part, i = _word_part(text, i)
            if word is None:
                word = []
            word.append(part)
    if word is not None:
        words.append("".join(word))
    if words:
        segments.append(words)
    return segments


def _word_part(text: str, i: int) -> tuple[str, int]:
    """One piece of a word at ``i`` (a char, an escape, a quoted string, a substitution)."""
    n = len(text)
    c = text[i]
    if c == "\\":
        return text[i + 1 : i + 2], i + 2
    if c == "'":
        end = text.find("'", i + 1)
        end = n if end < 0 else end
        return text[i + 1 : end], end + 1
    if c == '"':
        end = _skip_double(text, i + 1)
        return text[i + 1 : end - 1], end
    if text.startswith("$(", i):
        end = _skip_subst(text, i + 2)
        return text[i:end], end
    if c == "`":
        end = text.find("`", i + 1)
        end = n if end < 0 else end + 1
        return text[i:end], end
    return c, i + 1


def _skip_double(text: str, i: int) -> int:
    """Index just past the closing double quote of a string opened before ``i``."""
    n = len(text)
    while i < n:
        c = text[i]
        if c == "\\":
            i += 2
        elif c == '"':
            return i + 1
        elif text.startswith("$(", i):
            i = _skip_subst(text, i + 2)
        elif c == "`":
            end = text.find("`", i + 1)
            i = n if end < 0 else end + 1
        else:
            i += 1
    return n


def _skip_subst(text: str, i: int) -> int:
    """Index just past the ``)`` closing a ``$(`` opened before ``i``."""
    depth, n = 1, len(text)
    while i < n:
        c = text[i]
        if c == "\\":
            i += 2
            continue
        if c == "'":
            end = text.find("'", i + 1)
            i = n if end < 0 else end + 1
            continue
        if c == '"':
            i = _skip_double(text, i + 1)
            continue
        if c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    return n


def _drop_heredoc_bodies(script: str) -> str:
    """Remove here-document bodies (their text is data, e.g. a commit message)."""
    if "<<" not in script:
        return script
    lines = script.split("\n")
    out: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        out.append(line)
        i += 1
        for match in _HEREDOC.finditer(line):
            delimiter = match.group(2)
            end = _find_line(lines, i, delimiter)
            if end is not None:
                i = end + 1
    return "\n".join(out)


def _find_line(lines: list[str], start: int, delimiter: str) -> int | None:
    for j in range(start, len(lines)):
        if lines[j].strip() == delimiter:
            return j
    return None


# -- output ------------------------------------------------------------------------

_COMMIT_LINE = re.compile(r"^\[[^\]\n]+ [0-9a-f]{7,40}\] ", re.MULTILINE)
_PR_URL = re.compile(r"https?://[^\s\"'<>]+?/(?:pull|-/merge_requests)/\d+")
_ALREADY = re.compile(r"already exists", re.IGNORECASE)


def commits_in_output(output: str) -> int:
    """Number of git ``[branch sha] message`` lines in ``output``."""
    return len(_COMMIT_LINE.findall(output))


def prs_in_output(output: str) -> int:
    """Distinct new PR/MR URLs in ``output``; 0 when it says "already exists"."""
    if _ALREADY.search(output):
        return 0
    return len(set(_PR_URL.findall(output)))
