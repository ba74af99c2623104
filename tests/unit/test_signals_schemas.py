"""Every harness's tool schema -> what the call proposes (edit line counts or shell intent)."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from sidecar.signals.lines import FileChange
from sidecar.signals.schemas import EditProposal, ShellProposal, parse_call
from sidecar.signals.shell import ShellIntent

OLD = "def f():\n    return 1\n"
NEW = "def f():\n    return 2\n\n\ndef g():\n    pass\n"  # 1 changed + 4 added
UNIFIED = "--- a/m.go\n+++ b/m.go\n@@ -1,2 +1,2 @@\n package m\n-var x = 1\n+var x = 2\n"
CODEX = (
    "*** Begin Patch\n*** Add File: n.ts\n+a\n+b\n*** Update File: m.py\n@@\n-x\n+y\n"
    "*** End Patch"
)


def edit(tool: str, *changes: tuple[str, int, int]) -> EditProposal:
    return EditProposal(tool, tuple(FileChange(p, a, r) for p, a, r in changes))


CASES: list[Any] = [
    # Claude Code
    ("Edit", {"file_path": "/r/a.py", "old_string": OLD, "new_string": NEW},
     edit("Edit", ("/r/a.py", 5, 1))),
    ("Edit", {"file_path": "/r/a.py", "old_string": "foo", "new_string": "bar",
              "replace_all": True}, edit("Edit", ("/r/a.py", 1, 1))),
    ("MultiEdit", {"file_path": "/r/a.py", "edits": [
        {"old_string": OLD, "new_string": NEW},
        {"old_string": "x\ny\n", "new_string": "x\n", "replace_all": True},
    ]}, edit("MultiEdit", ("/r/a.py", 5, 2))),
    ("Write", {"file_path": "/r/new.rs", "content": "fn main() {\n}\n"},
     edit("Write", ("/r/new.rs", 2, 0))),
    ("NotebookEdit", {"notebook_path": "/r/n.ipynb", "cell_id": "c1", "new_source": "a\nb",
                      "edit_mode": "insert"}, edit("NotebookEdit", ("/r/n.ipynb", 2, 0))),
    ("NotebookEdit", {"notebook_path": "/r/n.ipynb", "new_source": "", "edit_mode": "delete"},
     edit("NotebookEdit", ("/r/n.ipynb", 0, 0))),
    ("Bash", {"command": "git commit -m x", "description": "commit"},
     ShellProposal("Bash", ShellIntent(1, 0))),
    ("Bash", {"command": "ls -la"}, None),
    ("Read", {"file_path": "/r/a.py"}, None),
    # OpenCode
    ("edit", {"filePath": "/r/a.ts", "oldString": "a\nb", "newString": "a\nc",
              "replaceAll": False}, edit("edit", ("/r/a.ts", 1, 1))),
    ("write", {"filePath": "/r/b.ts", "content": "x\ny\nz"}, edit("write", ("/r/b.ts", 3, 0))),
    ("patch", {"patchText": UNIFIED}, edit("patch", ("m.go", 1, 1))),
    ("apply_patch", {"patchText": CODEX}, edit("apply_patch", ("n.ts", 2, 0), ("m.py", 1, 1))),
    ("bash", {"command": "gh pr create --fill", "description": "open PR"},
     ShellProposal("bash", ShellIntent(0, 1))),
    # Codex
    ("apply_patch", {"input": CODEX}, edit("apply_patch", ("n.ts", 2, 0), ("m.py", 1, 1))),
    ("shell", {"command": ["bash", "-lc", "git add -A && git commit -m wip"], "workdir": "/r"},
     ShellProposal("shell", ShellIntent(1, 0))),
    ("shell", {"command": ["git", "commit", "-m", "a b"]},
     ShellProposal("shell", ShellIntent(1, 0))),
    ("shell", {"command": ["apply_patch", CODEX]},
     edit("apply_patch", ("n.ts", 2, 0), ("m.py", 1, 1))),
    ("shell", {"command": ["bash", "-lc", "apply_patch <<'EOF'\n" + CODEX + "\nEOF\n"]},
     edit("apply_patch", ("n.ts", 2, 0), ("m.py", 1, 1))),
    ("shell", {"command": ["echo", "git commit"]}, None),
    ("shell_command", {"command": "git commit -am x"},
     ShellProposal("shell_command", ShellIntent(1, 0))),
    ("exec_command", {"cmd": "gh pr create -f"}, ShellProposal("exec_command", ShellIntent(0, 1))),
    ("local_shell", {"type": "exec", "command": ["git", "commit", "-m", "x"]},
     ShellProposal("local_shell", ShellIntent(1, 0))),
    # OpenHands (and Anthropic's text editor tool, same arguments)
    ("str_replace_editor", {"command": "create", "path": "/w/a.py", "file_text": "a\nb\n"},
     edit("str_replace_editor", ("/w/a.py", 2, 0))),
    ("str_replace_editor", {"command": "str_replace", "path": "/w/a.py", "old_str": "a\nb",
                            "new_str": "a\nc\nd"}, edit("str_replace_editor", ("/w/a.py", 2, 1))),
    ("str_replace_editor", {"command": "insert", "path": "/w/a.py", "insert_line": 3,
                            "new_str": "x\ny"}, edit("str_replace_editor", ("/w/a.py", 2, 0))),
    ("str_replace_editor", {"command": "view", "path": "/w/a.py"}, None),
    ("str_replace_based_edit_tool", {"command": "str_replace", "path": "s.c", "old_str": "a",
                                     "new_str": "b"},
     edit("str_replace_based_edit_tool", ("s.c", 1, 1))),
    ("execute_bash", {"command": "git commit -m x && git push", "security_risk": "LOW"},
     ShellProposal("execute_bash", ShellIntent(1, 0))),
    # Cline (native tool calls)
    ("write_to_file", {"path": "src/x.ts", "content": "a\nb\n"},
     edit("write_to_file", ("src/x.ts", 2, 0))),
    ("replace_in_file", {"path": "src/x.ts", "diff":
                         "------- SEARCH\na\n=======\nb\nc\n+++++++ REPLACE\n"
                         "------- SEARCH\nz\n=======\n+++++++ REPLACE\n"},
     edit("replace_in_file", ("src/x.ts", 2, 2))),
    ("execute_command", {"command": "git commit -m x", "requires_approval": True},
     ShellProposal("execute_command", ShellIntent(1, 0))),
    # Gemini CLI
    ("replace", {"file_path": "a.go", "old_string": "a", "new_string": "b"},
     edit("replace", ("a.go", 1, 1))),
    ("run_shell_command", {"command": "git commit -m x"},
     ShellProposal("run_shell_command", ShellIntent(1, 0))),
]


@pytest.mark.parametrize(
    ("name", "args", "expected"), CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)]
)
def test_schema(name: str, args: dict[str, Any], expected: object) -> None:
    assert parse_call(name, orjson.dumps(args).decode()) == expected


def test_codex_custom_tool_raw_patch_text() -> None:
    assert parse_call("apply_patch", CODEX) == edit(
        "apply_patch", ("n.ts", 2, 0), ("m.py", 1, 1)
    )


@pytest.mark.parametrize(
    ("name", "arguments"),
    [
        ("Edit", "{not json"),
        ("Edit", "[1, 2]"),
        ("Edit", '{"file_path": 3, "old_string": null}'),
        ("MultiEdit", '{"file_path": "a", "edits": "nope"}'),
        ("shell", '{"command": 42}'),
        ("str_replace_editor", '{"command": "str_replace"}'),
        ("SomethingElse", '{"command": "git commit"}'),
        ("", ""),
    ],
)
def test_malformed_arguments_never_raise(name: str, arguments: str) -> None:
    parse_call(name, arguments)


def test_roo_code_apply_diff_line_hints_are_not_lines() -> None:
    diff = (
        "<<<<<<< SEARCH\n:start_line:10\n-------\nold = 1\n=======\nnew = 1\n>>>>>>> REPLACE\n"
    )
    args = orjson.dumps({"path": "a.py", "diff": diff}).decode()
    assert parse_call("apply_diff", args) == edit("apply_diff", ("a.py", 1, 1))
