"""One pass over the messages of a conversation the session has not seen yet.

``scan(conv, state, path_tags)`` advances ``state`` from ``state.seen`` to the
end of the conversation: token estimate, images, the last human message (its
directives, lock/unlock), tool activity of the current turn (edits, reads,
runs, failing results), file paths touched and the tags they map to. Messages
before the cursor are not decoded. If the history no longer matches the
cursor (the client compacted or edited it) the per-conversation part of the
state is reset and the whole conversation is scanned once.
"""

from __future__ import annotations

import fnmatch
import functools
import re
from collections.abc import Iterable

import orjson

from sidecar.protocols.conversation import Conversation, Message
from sidecar.routing.directives import Directives, human_text, might_contain, strip_text
from sidecar.sessions.state import MAX_PENDING, MAX_TAGS, SessionState

EDIT_TOOLS = frozenset(
    {"edit", "multiedit", "write", "notebookedit", "apply_patch", "patch", "str_replace_editor",
     "str_replace_based_edit_tool", "create_file", "write_file", "replace_in_file", "edit_file"}
)  # fmt: skip
READ_TOOLS = frozenset(
    {"read", "grep", "glob", "ls", "list", "view", "read_file", "search", "codebase_search",
     "list_files", "find", "webfetch"}
)  # fmt: skip
RUN_TOOLS = frozenset(
    {"bash", "shell", "local_shell", "exec_command", "run_terminal_cmd", "execute_command",
     "container.exec", "terminal"}
)  # fmt: skip
_PATH_KEYS = ("file_path", "path", "filePath", "filename", "notebook_path", "target_file")
_PATCH_FILE = re.compile(r"^\*\*\* (?:Update|Add|Delete) File: (.+)$", re.MULTILINE)
_FAILING = re.compile(
    r"(\bFAILED\b|\bFAIL:|Traceback \(most recent call last\)|"
    r"\b[1-9]\d* (?:failed|failing|errors?)\b|npm ERR!|[Ee]xit code [1-9]|"
    r"exited with (?:code )?[1-9]|panicked at|AssertionError|"
    r"Segmentation fault|command not found|BUILD FAILED|\berror(?:\[E\d+\])?:)"
)
_TEXT_PATH = re.compile(r"(?<![\w/.])((?:[\w.-]+/)+[\w.-]+\.\w{1,5})\b")
_MAX_PATHS = 64


def tool_kind(name: str) -> str:
    low = name.lower()
    if low in EDIT_TOOLS:
        return "edit"
    if low in RUN_TOOLS:
        return "run"
    if low in READ_TOOLS:
        return "read"
    return "other"


def mark(msg: Message) -> str:
    """A cheap identity for one message (role, sizes, a text head, tool ids)."""
    ids = "|"
    if msg.tool_calls or msg.tool_results:
        ids = (
            ",".join([c.id for c in msg.tool_calls])
            + ids
            + ",".join([r.id for r in msg.tool_results])
        )
    return f"{msg.role}:{len(msg.text)}:{msg.text[:24]}:{ids}"


def tool_paths(name: str, arguments: str) -> list[str]:
    """File paths a tool call touches (edit/read tools; Codex patches)."""
    if "*** " in arguments and "File: " in arguments:
        return [p.strip() for p in _PATCH_FILE.findall(arguments.replace("\\n", "\n"))]
    try:
        args = orjson.loads(arguments) if arguments.startswith("{") else None
    except orjson.JSONDecodeError:
        return []
    if not isinstance(args, dict):
        return []
    out = [v for k in _PATH_KEYS if isinstance(v := args.get(k), str) and v]
    edits = args.get("edits")
    if isinstance(edits, list):  # OpenCode / aider style multi-file edits
        out += [e["path"] for e in edits if isinstance(e, dict) and isinstance(e.get("path"), str)]
    return out


@functools.lru_cache(maxsize=256)
def _glob(glob: str) -> re.Pattern[str]:
    """``glob`` or ``*/glob`` as one compiled regex (like fnmatchcase; cached like fnmatch)."""
    return re.compile(f"(?:{fnmatch.translate(glob)})|(?:{fnmatch.translate('*/' + glob)})")


def match_tags(paths: Iterable[str], path_tags: tuple[tuple[str, str], ...]) -> list[str]:
    """Tags whose glob matches a path (globs also match below any directory)."""
    tags: list[str] = []
    for path in paths:
        norm = path.replace("\\", "/")
        for glob, tag in path_tags:
            if tag not in tags and _glob(glob).match(norm):
                tags.append(tag)
    return tags


def _human(msg: Message) -> bool:
    return msg.role == "user" and bool(msg.text) and not msg.tool_results


def _reset(state: SessionState) -> None:
    fresh = SessionState()
    for name in ("seen", "seen_mark", "tokens", "images", "human_index", "directive_idx"):
        setattr(state, name, getattr(fresh, name))
    state.pending = {}
    state.new_turn()


def _on_human(
    state: SessionState, index: int, msg: Message, path_tags: tuple[tuple[str, str], ...]
) -> None:
    state.new_turn()
    state.human_index = index
    text = human_text(msg.text)
    if might_contain(text):
        found, _ = strip_text(text)
        if found:
            state.directive_idx.append(index)
            d = Directives.of(found)
            if d.unlock:
                state.lock = ""
            if d.lock:
                state.lock = d.lock
            state.directive_profile = d.profile or ""
            state.directive_tags = list(d.tags)
    if path_tags and "/" in msg.text:
        paths = _TEXT_PATH.findall(msg.text[:4000])
        _add_paths(state, paths, path_tags)


def _add_paths(
    state: SessionState, paths: list[str], path_tags: tuple[tuple[str, str], ...]
) -> None:
    if not paths:
        return
    for p in paths:
        if p not in state.turn_paths and len(state.turn_paths) < _MAX_PATHS:
            state.turn_paths.append(p)
    for tag in match_tags(paths, path_tags):
        if tag not in state.turn_tags and len(state.turn_tags) < MAX_TAGS:
            state.turn_tags.append(tag)


def _on_tools(state: SessionState, msg: Message, path_tags: tuple[tuple[str, str], ...]) -> None:
    for call in msg.tool_calls:
        kind = tool_kind(call.name)
        if kind == "edit":
            state.edits += 1
        elif kind == "read":
            state.reads += 1
        elif kind == "run":
            state.runs += 1
        if kind in ("edit", "read"):
            _add_paths(state, tool_paths(call.name, call.arguments), path_tags)
        if len(state.pending) < MAX_PENDING:
            state.pending[call.id] = kind
    for result in msg.tool_results:
        kind = state.pending.pop(result.id, "other")
        if kind != "run":
            continue  # a rejected edit or a missing file is not a failing run
        failed = result.is_error or bool(_FAILING.search(result.text[-4000:]))
        state.last_failed = failed
        if failed:
            state.failures += 1
            state.consecutive_failures += 1
        else:
            state.consecutive_failures = 0


def _tokens(msg: Message) -> int:
    """Estimated tokens of one message: ~3 characters a token (errs high, like tokens.py)."""
    n = len(msg.text) // 3 + 4
    for call in msg.tool_calls:
        n += len(call.arguments) // 3 + 8
    for result in msg.tool_results:
        n += len(result.text) // 3 + 8
    return n + 1500 * msg.images


def scan(conv: Conversation, state: SessionState, path_tags: tuple[tuple[str, str], ...]) -> int:
    """Advance ``state`` over the unseen messages; returns how many were scanned."""
    total = len(conv)
    start = state.seen
    if start > total or (start and mark(conv.message(start - 1)) != state.seen_mark):
        _reset(state)
        start = state.seen
    for i in range(start, total):
        msg = conv.message(i)
        state.tokens += _tokens(msg)  # estimated tokens, accumulated
        state.images += msg.images
        if _human(msg):
            _on_human(state, i, msg, path_tags)
        if msg.tool_calls or msg.tool_results:
            _on_tools(state, msg, path_tags)
    if total > start:  # nothing new: the cursor and its (just verified) mark stand
        state.seen = total
        state.seen_mark = mark(conv.message(total - 1))
    return total - start
