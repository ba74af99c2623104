"""Harness tool schemas: a tool call -> what it proposes (an edit or a shell command).

Recognised (tool names compared case-insensitively; argument names as each
harness sends them):

================  ==============================================================
Claude Code       Edit {file_path, old_string, new_string, replace_all},
                  MultiEdit {file_path, edits[]}, Write {file_path, content},
                  NotebookEdit {notebook_path, new_source, edit_mode}, Bash {command}
OpenCode          edit {filePath, oldString, newString, replaceAll},
                  write {filePath, content}, patch / apply_patch {patchText}, bash {command}
Codex             apply_patch {input} or a raw ``*** Begin Patch`` text (custom tool),
                  shell {command: [argv]} (``["apply_patch", patch]`` is an edit),
                  shell_command {command}, exec_command {cmd}, local_shell {command},
                  exec: JavaScript (raw, or {input}) calling ``tools.apply_patch``,
                  ``tools.exec_command``, ``tools.shell``... (see ``codex_exec``)
OpenHands         str_replace_editor / file_editor {command: create | str_replace |
                  insert, path, file_text, old_str, new_str}, execute_bash {command}
Cline (native)    write_to_file {path, content}, replace_in_file {path, diff},
                  execute_command {command}; Roo Code apply_diff {path, diff}
Gemini CLI        replace {file_path, old_string, new_string}, write_file, run_shell_command
================  ==============================================================

Line counts are computed here, once, so pending calls hold only numbers.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from sidecar.signals.codex_exec import nested_calls
from sidecar.signals.lines import (
    FileChange,
    count_added,
    diff_counts,
    is_codex_patch,
    parse_codex_patch,
    parse_search_replace,
    parse_unified_diff,
)
from sidecar.signals.shell import ShellIntent, read_command

__all__ = [
    "EditProposal",
    "ExecProposal",
    "Proposal",
    "ShellProposal",
    "parse_args",
    "parse_call",
]


@dataclass(frozen=True)
class EditProposal:
    """A file edit; ``changes`` has one entry per file (possibly 0/0 lines)."""

    tool: str
    changes: tuple[FileChange, ...]

    @property
    def path(self) -> str:
        return self.changes[0].path if self.changes else ""


@dataclass(frozen=True)
class ShellProposal:
    """A shell command that tries to commit or open a pull request."""

    tool: str
    intent: ShellIntent


Proposal = EditProposal | ShellProposal
Args = Mapping[str, Any]


@dataclass(frozen=True)
class ExecProposal:
    """A Codex ``exec`` program: what its nested tool calls propose, in program order."""

    tool: str
    parts: tuple[Proposal, ...]


def parse_call(name: str, arguments: str) -> Proposal | ExecProposal | None:
    """What the call ``name(arguments)`` proposes; None when it is of no interest.

    ``arguments`` is the raw JSON text of the call (or, for a Codex custom
    ``apply_patch`` / ``exec`` tool, the raw patch / program). Never raises.
    """
    key = name.lower()
    args = _loads(arguments)
    if key in _EXEC_TOOLS:
        if isinstance(args, Mapping):
            source = args.get("input")  # a custom tool translated to a function tool
            return _exec(name, source) if isinstance(source, str) else parse_args(name, args)
        return _exec(name, arguments)
    if not isinstance(args, Mapping):
        if is_codex_patch(arguments) and key in _PATCH_TOOLS:
            return _patch(name, arguments)
        return None
    return parse_args(name, args)


def _exec(name: str, source: str) -> ExecProposal | None:
    """The edits and commits of the nested ``tools.NAME(...)`` calls of a program."""
    parts: list[Proposal] = []
    for tool, arg in nested_calls(source):
        key = tool.lower()
        proposal: Proposal | None = None
        try:
            if key in _PATCH_TOOLS:
                text = arg if isinstance(arg, str) else _s(arg, "input", "patch")
                proposal = _patch("apply_patch", text) if text.strip() else None
            elif _HANDLERS.get(key) is _shell:
                args = {"command": arg} if isinstance(arg, str) else arg
                proposal = _shell(tool, args) if isinstance(args, Mapping) else None
        except (TypeError, ValueError, AttributeError):
            proposal = None
        if proposal is not None:
            parts.append(proposal)
    return ExecProposal(name, tuple(parts)) if parts else None


def parse_args(name: str, args: Mapping[str, Any]) -> Proposal | None:
    """Like ``parse_call`` with the arguments already decoded (e.g. from XML text)."""
    handler = _HANDLERS.get(name.lower())
    if handler is None:
        return None
    try:
        return handler(name, args)
    except (TypeError, ValueError, AttributeError):
        return None


def _loads(text: str) -> Any:
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return None


def _s(args: Args, *keys: str) -> str:
    for key in keys:
        value = args.get(key)
        if isinstance(value, str):
            return value
    return ""


def _edit(name: str, args: Args) -> Proposal:
    path = _s(args, "file_path", "filePath", "path")
    added, removed = diff_counts(
        _s(args, "old_string", "oldString", "old_str"),
        _s(args, "new_string", "newString", "new_str"),
    )
    return EditProposal(name, (FileChange(path, added, removed),))


def _multi_edit(name: str, args: Args) -> Proposal:
    path = _s(args, "file_path", "filePath", "path")
    added = removed = 0
    edits = args.get("edits")
    for edit in edits if isinstance(edits, list) else ():
        if isinstance(edit, Mapping):
            a, r = diff_counts(
                _s(edit, "old_string", "oldString", "old_str"),
                _s(edit, "new_string", "newString", "new_str"),
            )
            added, removed = added + a, removed + r
    return EditProposal(name, (FileChange(path, added, removed),))


def _write(name: str, args: Args) -> Proposal:
    path = _s(args, "file_path", "filePath", "path")
    content = _s(args, "content", "file_text", "text")
    return EditProposal(name, (FileChange(path, count_added(content), 0),))


def _notebook(name: str, args: Args) -> Proposal:
    path = _s(args, "notebook_path", "notebookPath", "path")
    mode = _s(args, "edit_mode") or "replace"
    added = 0 if mode == "delete" else count_added(_s(args, "new_source", "newSource"))
    return EditProposal(name, (FileChange(path, added, 0),))


def _editor(name: str, args: Args) -> Proposal | None:
    """OpenHands / Anthropic text editor: one tool, a ``command`` argument."""
    command = _s(args, "command")
    path = _s(args, "path")
    if command == "create":
        return EditProposal(name, (FileChange(path, count_added(_s(args, "file_text")), 0),))
    if command == "str_replace":
        added, removed = diff_counts(_s(args, "old_str"), _s(args, "new_str"))
        return EditProposal(name, (FileChange(path, added, removed),))
    if command in ("insert", "append"):
        text = _s(args, "new_str", "insert_text", "file_text")
        return EditProposal(name, (FileChange(path, count_added(text), 0),))
    return None  # view, undo_edit, ...


def _patch(name: str, text: str) -> Proposal:
    changes = parse_codex_patch(text) if is_codex_patch(text) else parse_unified_diff(text)
    return EditProposal(name, changes)


def _patch_args(name: str, args: Args) -> Proposal | None:
    text = _s(args, "input", "patchText", "patch_text", "patch", "diff")
    return _patch(name, text) if text else None


def _replace_in_file(name: str, args: Args) -> Proposal:
    path = _s(args, "path", "file_path", "filePath")
    added = removed = 0
    for _, search, replace in parse_search_replace(_s(args, "diff")):
        a, r = diff_counts(search, replace)
        added, removed = added + a, removed + r
    return EditProposal(name, (FileChange(path, added, removed),))


def _shell(name: str, args: Args) -> Proposal | None:
    command = args.get("command", args.get("cmd"))
    action = args.get("action")
    if command is None and isinstance(action, Mapping):
        command = action.get("command")  # local_shell {action: {command: [...]}}
    if isinstance(command, list):
        argv = [str(part) for part in command]
        if argv and argv[0] in ("apply_patch", "applypatch") and len(argv) > 1:
            return _patch("apply_patch", argv[1])
        script = _argv_script(argv)
    elif isinstance(command, str):
        script = command
    else:
        return None
    if is_codex_patch(script):
        return _patch("apply_patch", script)
    intent = read_command(script)
    return ShellProposal(name, intent) if intent else None


def _argv_script(argv: list[str]) -> str:
    """The script of ``["bash", "-lc", script]``; otherwise argv quoted back into a line."""
    if len(argv) >= 3 and argv[0].rsplit("/", 1)[-1] in ("bash", "sh", "zsh"):
        if argv[1].startswith("-") and "c" in argv[1]:
            return argv[2]
    return " ".join(_quote(part) for part in argv)


def _quote(part: str) -> str:
    if part and all(c.isalnum() or c in "-_./=:@%+," for c in part):
        return part
    return "'" + part.replace("'", "'\"'\"'") + "'"


_PATCH_TOOLS = frozenset({"apply_patch", "patch", "applypatch"})
_EXEC_TOOLS = frozenset({"exec"})  # Codex's freeform JavaScript tool
_HANDLERS: dict[str, Callable[[str, Args], Proposal | None]] = {
    "edit": _edit,
    "replace": _edit,
    "multiedit": _multi_edit,
    "multi_edit": _multi_edit,
    "write": _write,
    "write_file": _write,
    "write_to_file": _write,
    "create_file": _write,
    "notebookedit": _notebook,
    "str_replace_editor": _editor,
    "str_replace_based_edit_tool": _editor,
    "file_editor": _editor,
    "replace_in_file": _replace_in_file,
    "apply_diff": _replace_in_file,  # Roo Code
    **{tool: _patch_args for tool in _PATCH_TOOLS},
    **{
        tool: _shell
        for tool in (
            "bash", "shell", "shell_command", "execute_bash", "exec_command", "local_shell",
            "execute_command", "run_shell_command", "terminal", "run_terminal_cmd",
        )
    },
}
