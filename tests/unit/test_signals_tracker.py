"""SignalTracker end to end over real wire bodies of each protocol and harness."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from sidecar.exchange import ToolCall
from sidecar.signals import (
    Commit,
    EditDecision,
    LinesChanged,
    PullRequest,
    SignalEvent,
    SignalTracker,
)

CC_REJECT = (
    "The user doesn't want to proceed with this tool use. The tool use was rejected "
    "(eg. if it was a file edit, the new_string was NOT written to the file). STOP what you "
    "are doing and wait for the user to tell you how to proceed."
)


def call(call_id: str, name: str, args: dict[str, Any] | str) -> ToolCall:
    text = args if isinstance(args, str) else orjson.dumps(args).decode()
    return ToolCall(call_id, name, text)


# -- anthropic bodies (Claude Code) ---------------------------------------------------


def anthropic_turn(calls: list[ToolCall], results: list[tuple[str, str, bool]]) -> list[Any]:
    uses = [
        {"type": "tool_use", "id": c.id, "name": c.name, "input": orjson.loads(c.arguments)}
        for c in calls
    ]
    blocks = [
        {"type": "tool_result", "tool_use_id": i, "content": t, "is_error": e}
        for i, t, e in results
    ]
    return [{"role": "assistant", "content": uses}, {"role": "user", "content": blocks}]


def anthropic_body(*turns: list[Any]) -> dict[str, Any]:
    messages: list[Any] = [{"role": "user", "content": "do the thing"}]
    for turn in turns:
        messages.extend(turn)
    return {"model": "claude-sonnet-4-5", "messages": messages}


EDIT = call("toolu_e1", "Edit", {"file_path": "/r/app.py", "old_string": "a\nb\n",
                                 "new_string": "a\nB\nc\n"})


def run(calls: list[ToolCall], results: list[tuple[str, str, bool]],
        model: str = "kimi-k2") -> list[SignalEvent]:
    tracker = SignalTracker()
    tracker.propose(calls, model)
    return tracker.settle("anthropic", anthropic_body(anthropic_turn(calls, results)))


def test_claude_code_edit_accepted() -> None:
    events = run([EDIT], [("toolu_e1", "The file /r/app.py has been updated.", False)])
    assert events == [
        LinesChanged(2, 1, "python", "kimi-k2", "Edit"),
        EditDecision("Edit", "accept", "python", "kimi-k2"),
    ]


@pytest.mark.parametrize(
    ("text", "is_error"),
    [
        pytest.param(CC_REJECT, True, id="user-reject"),
        pytest.param(CC_REJECT + " To tell you how to proceed, the user said:\nno", True,
                     id="reject-with-feedback"),
        pytest.param("Permission to use Edit with file /r/app.py has been denied.", True,
                     id="permission-denied"),
        pytest.param("PreToolUse:Edit hook returned blocking error: not on main", True,
                     id="hook-block"),
    ],
)
def test_claude_code_edit_rejected(text: str, is_error: bool) -> None:
    assert run([EDIT], [("toolu_e1", text, is_error)]) == [
        EditDecision("Edit", "reject", "python", "kimi-k2")
    ]


@pytest.mark.parametrize(
    ("text", "is_error"),
    [
        pytest.param("<tool_use_error>String to replace not found in file.\nString: a"
                     "</tool_use_error>", True, id="not-found"),
        pytest.param("<tool_use_error>File has not been read yet. Read it first before "
                     "writing to it.</tool_use_error>", True, id="not-read"),
        pytest.param("<tool_use_error>Found 2 matches of the string to replace, but "
                     "replace_all is false.</tool_use_error>", True, id="ambiguous"),
        pytest.param("File has been modified since read, either by the user or by a linter.",
                     True, id="modified-since-read"),
        pytest.param("something unexpected", True, id="any-is-error"),
    ],
)
def test_claude_code_edit_failed_validation_counts_nothing(text: str, is_error: bool) -> None:
    assert run([EDIT], [("toolu_e1", text, is_error)]) == []


@pytest.mark.parametrize(
    ("command", "output", "is_error", "expected"),
    [
        pytest.param("git add -A && git commit -m fix", "[main 1a2b3c4] fix\n 1 file changed",
                     False, [Commit("kimi-k2")], id="commit"),
        pytest.param("git commit -m fix", "On branch main\nnothing to commit, working tree "
                     "clean", True, [], id="nothing-to-commit"),
        pytest.param("git commit -m fix", "Exit code 1\nruff....Failed\n- hook id: ruff",
                     True, [], id="failed-hook"),
        pytest.param("git commit -m fix", CC_REJECT, True, [], id="rejected"),
        pytest.param("git commit --dry-run -m x", "[main 1a2b3c4] x", False, [],
                     id="dry-run-never-proposed"),
        pytest.param('echo "git commit -m x"', "[main 1a2b3c4] x", False, [], id="echo"),
        pytest.param("git commit -m a && npm test",
                     "[main 1a2b3c4] a\n 1 file changed\nExit code 1\ntests failed", True,
                     [Commit("kimi-k2")], id="commit-then-failure"),
        pytest.param("git push && gh pr create --fill", "https://github.com/o/r/pull/12\n",
                     False, [PullRequest("kimi-k2")], id="pr"),
        pytest.param("gh pr create --fill",
                     'a pull request for branch "f" into branch "main" already exists:\n'
                     "https://github.com/o/r/pull/12", True, [], id="pr-already-exists"),
        pytest.param("git commit -m a && gh pr create -f",
                     "[f 89abcde] a\nhttps://github.com/o/r/pull/13", False,
                     [Commit("kimi-k2"), PullRequest("kimi-k2")], id="commit-and-pr"),
    ],
)
def test_claude_code_bash(command: str, output: str, is_error: bool,
                          expected: list[SignalEvent]) -> None:
    bash = call("toolu_b1", "Bash", {"command": command})
    assert run([bash], [("toolu_b1", output, is_error)]) == expected


def test_write_and_multiedit_and_notebook() -> None:
    calls = [
        call("t1", "Write", {"file_path": "/r/web/a.ts", "content": "1\n2\n3\n"}),
        call("t2", "MultiEdit", {"file_path": "/r/b.go", "edits": [
            {"old_string": "x", "new_string": "y"},
            {"old_string": "p\nq", "new_string": "p", "replace_all": True}]}),
        call("t3", "NotebookEdit", {"notebook_path": "/r/n.ipynb", "new_source": "print(1)",
                                    "edit_mode": "insert"}),
    ]
    events = run(calls, [("t1", "File created successfully at: /r/web/a.ts", False),
                         ("t2", "Applied 2 edits to /r/b.go", False),
                         ("t3", "Inserted cell", False)], model="m")
    assert events == [
        LinesChanged(3, 0, "typescript", "m", "Write"),
        EditDecision("Write", "accept", "typescript", "m"),
        LinesChanged(1, 2, "go", "m", "MultiEdit"),
        EditDecision("MultiEdit", "accept", "go", "m"),
        LinesChanged(1, 0, "jupyter", "m", "NotebookEdit"),
        EditDecision("NotebookEdit", "accept", "jupyter", "m"),
    ]


def test_edit_with_no_line_change_is_a_decision_without_lines() -> None:
    same = call("t1", "Edit", {"file_path": "a.py", "old_string": "x\n", "new_string": "x"})
    assert run([same], [("t1", "The file a.py has been updated.", False)]) == [
        EditDecision("Edit", "accept", "python", "kimi-k2")
    ]


# -- dedupe, history, bounds -----------------------------------------------------------


def test_resent_history_counts_each_call_once() -> None:
    tracker = SignalTracker()
    tracker.propose([EDIT], "m1")
    turn1 = anthropic_turn([EDIT], [("toolu_e1", "updated", False)])
    assert len(tracker.settle("anthropic", anthropic_body(turn1))) == 2
    assert tracker.settle("anthropic", anthropic_body(turn1)) == []  # client retry
    bash = call("toolu_b2", "Bash", {"command": "git commit -m x"})
    tracker.propose([bash], "m2")
    turn2 = anthropic_turn([bash], [("toolu_b2", "[main abcdef1] x", False)])
    body = anthropic_body(turn1, turn2)
    assert tracker.settle("anthropic", body) == [Commit("m2")]
    body["messages"].append({"role": "assistant", "content": "Done."})
    body["messages"].append({"role": "user", "content": "thanks"})
    assert tracker.settle("anthropic", body) == []
    assert tracker.pending_count == 0


def test_unproposed_fresh_result_is_counted_from_history_as_unknown_model() -> None:
    tracker = SignalTracker()  # e.g. tierline restarted mid-session
    old_edit = call("old1", "Write", {"file_path": "x.py", "content": "a\nb\n"})
    old = anthropic_turn([old_edit], [("old1", "File created", False)])
    old_commit = call("old2", "Bash", {"command": "git commit -m x"})
    older = anthropic_turn([old_commit], [("old2", "[main 1234567] x", False)])
    new = anthropic_turn([EDIT], [("toolu_e1", "The file has been updated.", False)])
    events = tracker.settle("anthropic", anthropic_body(older, old, new))
    assert events == [
        LinesChanged(2, 1, "python", "unknown", "Edit"),
        EditDecision("Edit", "accept", "python", "unknown"),
    ]
    assert tracker.settle("anthropic", anthropic_body(older, old, new)) == []


def test_older_history_is_never_decoded() -> None:
    class Exploding(dict[str, Any]):
        def get(self, *args: Any, **kwargs: Any) -> Any:
            raise AssertionError("an old message was decoded")

    body = anthropic_body(anthropic_turn([EDIT], [("toolu_e1", "updated", False)]))
    body["messages"][0] = Exploding(role="user", content="old")
    tracker = SignalTracker()
    tracker.propose([EDIT], "m")
    assert len(tracker.settle("anthropic", body)) == 2


def test_trailing_assistant_prefill_is_skipped() -> None:
    tracker = SignalTracker()
    tracker.propose([EDIT], "m")
    body = anthropic_body(anthropic_turn([EDIT], [("toolu_e1", "updated", False)]))
    body["messages"].append({"role": "assistant", "content": "Next, I"})
    assert len(tracker.settle("anthropic", body)) == 2


def test_pending_is_bounded_and_evicted_calls_still_settle_as_unknown() -> None:
    tracker = SignalTracker(max_pending=2)
    calls = [call(f"c{i}", "Write", {"file_path": f"f{i}.py", "content": "x"}) for i in range(3)]
    tracker.propose(calls, "m")
    assert tracker.pending_count == 2
    body = anthropic_body(anthropic_turn(calls, [(c.id, "ok", False) for c in calls]))
    models = [e.model for e in tracker.settle("anthropic", body) if isinstance(e, EditDecision)]
    assert models == ["unknown", "m", "m"]


def test_seen_set_is_bounded() -> None:
    tracker = SignalTracker(max_seen=3)
    for i in range(10):
        c = call(f"id{i}", "Read", {"file_path": "x"})  # of no interest: seen at once
        tracker.propose([c], "m")
    assert tracker.seen_count == 3
    with pytest.raises(ValueError):
        SignalTracker(max_pending=0)


def test_uninteresting_calls_are_not_kept_pending() -> None:
    tracker = SignalTracker()
    tracker.propose([call("r1", "Read", {"file_path": "a"}),
                     call("g1", "Bash", {"command": "ls"})], "m")
    assert tracker.pending_count == 0
    body = anthropic_body(anthropic_turn(
        [call("r1", "Read", {"file_path": "a"})], [("r1", "[main 1234567] x", False)]))
    assert tracker.settle("anthropic", body) == []


def test_propose_is_idempotent_and_ignores_settled_ids() -> None:
    tracker = SignalTracker()
    tracker.propose([EDIT], "first")
    tracker.propose([EDIT], "second")
    body = anthropic_body(anthropic_turn([EDIT], [("toolu_e1", "ok", False)]))
    assert {e.model for e in tracker.settle("anthropic", body)} == {"first"}
    tracker.propose([EDIT], "third")
    assert tracker.pending_count == 0


# -- OpenCode (openai chat completions) ------------------------------------------------


def openai_body(calls: list[ToolCall], results: list[tuple[str, str]]) -> dict[str, Any]:
    return {"model": "auto", "messages": [
        {"role": "system", "content": "You are opencode"},
        {"role": "user", "content": "go"},
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": c.id, "type": "function",
             "function": {"name": c.name, "arguments": c.arguments}} for c in calls]},
        *({"role": "tool", "tool_call_id": i, "content": t} for i, t in results),
    ]}


@pytest.mark.parametrize(
    ("result", "expected"),
    [
        pytest.param("Edit applied successfully.", "accept", id="ok"),
        pytest.param("The user rejected permission to use this specific tool call. You may "
                     "try again with different parameters.", "reject", id="rejected"),
        pytest.param("The user rejected permission with feedback: use tabs", "reject",
                     id="rejected-feedback"),
        pytest.param("Error: oldString not found in content", None, id="not-found"),
        pytest.param("Error: You must read file /r/a.ts before overwriting it. Use the Read "
                     "tool first", None, id="not-read"),
        pytest.param("Found multiple matches for oldString. Provide more surrounding lines",
                     None, id="ambiguous"),
    ],
)
def test_opencode_edit(result: str, expected: str | None) -> None:
    edit = call("call_1", "edit", {"filePath": "/r/a.ts", "oldString": "a", "newString": "b"})
    tracker = SignalTracker()
    tracker.propose([edit], "m")
    events = tracker.settle("openai", openai_body([edit], [("call_1", result)]))
    decisions = [e.decision for e in events if isinstance(e, EditDecision)]
    assert decisions == ([expected] if expected else [])
    lines = [e for e in events if isinstance(e, LinesChanged)]
    assert lines == ([LinesChanged(1, 1, "typescript", "m", "edit")]
                     if expected == "accept" else [])


def test_opencode_parallel_calls_and_bash_commit() -> None:
    calls = [
        call("call_a", "write", {"filePath": "/r/x.rs", "content": "a\nb"}),
        call("call_b", "bash", {"command": "git commit -am 'x'", "description": "c"}),
    ]
    tracker = SignalTracker()
    tracker.propose(calls, "glm")
    body = openai_body(calls, [("call_a", "Wrote file successfully."),
                               ("call_b", "[main 0badc0de] x\n 1 file changed")])
    assert tracker.settle("openai", body) == [
        LinesChanged(2, 0, "rust", "glm", "write"),
        EditDecision("write", "accept", "rust", "glm"),
        Commit("glm"),
    ]


# -- Codex (responses) ----------------------------------------------------------------------

CODEX_PATCH = (
    "*** Begin Patch\n*** Update File: src/lib.rs\n@@ fn main() {\n-    old();\n+    new();\n"
    "+    more();\n*** Add File: README.md\n+# x\n*** End Patch\n"
)


def responses_body(items: list[Any]) -> dict[str, Any]:
    return {"model": "gpt-5-codex", "instructions": "codex", "input": [
        {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "go"}]},
        *items,
    ]}


def test_codex_apply_patch_function_and_shell_commit() -> None:
    patch = call("call_p", "apply_patch", {"input": CODEX_PATCH})
    shell = call("call_s", "shell", {"command": ["bash", "-lc", "git commit -am x"]})
    tracker = SignalTracker()
    tracker.propose([patch, shell], "gpt-5")
    body = responses_body([
        {"type": "reasoning", "summary": []},
        {"type": "function_call", "call_id": "call_p", "name": "apply_patch",
         "arguments": patch.arguments},
        {"type": "function_call", "call_id": "call_s", "name": "shell",
         "arguments": shell.arguments},
        {"type": "function_call_output", "call_id": "call_p", "output": orjson.dumps(
            {"output": "Success. Updated the following files:\nM src/lib.rs\nA README.md\n",
             "metadata": {"exit_code": 0, "duration_seconds": 0.0}}).decode()},
        {"type": "function_call_output", "call_id": "call_s",
         "output": "Exit code: 0\nWall time: 0.1 seconds\nOutput:\n[main 1a2b3c4] x\n"},
    ])
    assert tracker.settle("responses", body) == [
        LinesChanged(2, 1, "rust", "gpt-5", "apply_patch"),
        LinesChanged(1, 0, "markdown", "gpt-5", "apply_patch"),
        EditDecision("apply_patch", "accept", "rust", "gpt-5"),
        Commit("gpt-5"),
    ]


@pytest.mark.parametrize(
    ("output", "expected"),
    [
        pytest.param("patch rejected by user", ["reject"], id="rejected"),
        pytest.param("apply_patch verification failed: Failed to find expected lines in "
                     "src/lib.rs", [], id="verification-failed"),
        pytest.param(orjson.dumps({"output": "error: context not found",
                                   "metadata": {"exit_code": 1}}).decode(), [], id="exit-1"),
        pytest.param("Exit code: 0\nOutput:\nSuccess. Updated the following files:",
                     ["accept"], id="ok"),
    ],
)
def test_codex_custom_tool_patch_outcomes(output: str, expected: list[str]) -> None:
    tracker = SignalTracker()
    tracker.propose([ToolCall("ctc_1", "apply_patch", CODEX_PATCH)], "gpt-5")
    body = responses_body([
        {"type": "custom_tool_call", "call_id": "ctc_1", "name": "apply_patch",
         "input": CODEX_PATCH},
        {"type": "custom_tool_call_output", "call_id": "ctc_1", "output": output},
    ])
    events = tracker.settle("responses", body)
    assert [e.decision for e in events if isinstance(e, EditDecision)] == expected


def test_codex_rejected_exec_is_no_commit() -> None:
    shell = call("call_s", "shell", {"command": ["git", "commit", "-m", "x"]})
    tracker = SignalTracker()
    tracker.propose([shell], "gpt-5")
    body = responses_body([
        {"type": "function_call", "call_id": "call_s", "name": "shell",
         "arguments": shell.arguments},
        {"type": "function_call_output", "call_id": "call_s",
         "output": "exec command rejected by user"},
    ])
    assert tracker.settle("responses", body) == []


# -- OpenHands --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("output", "expected"),
    [
        pytest.param("The file /w/app.py has been edited. Here's the result of running "
                     "`cat -n` on a snippet of /w/app.py:\n     1\terror = None\n",
                     ["accept"], id="edited"),
        pytest.param("ERROR:\nNo replacement was performed, old_str `a` did not appear "
                     "verbatim in /w/app.py.", [], id="not-found"),
        pytest.param("Action has been rejected by the user! Reason: no", ["reject"],
                     id="rejected"),
    ],
)
def test_openhands_str_replace(output: str, expected: list[str]) -> None:
    edit = call("oh_1", "str_replace_editor", {"command": "str_replace", "path": "/w/app.py",
                                                "old_str": "a", "new_str": "b"})
    tracker = SignalTracker()
    tracker.propose([edit], "m")
    events = tracker.settle("openai", openai_body([edit], [("oh_1", output)]))
    assert [e.decision for e in events if isinstance(e, EditDecision)] == expected


def test_openhands_execute_bash_commit() -> None:
    bash = call("oh_2", "execute_bash", {"command": "git commit -m 'x'"})
    tracker = SignalTracker()
    tracker.propose([bash], "m")
    out = "[main 1a2b3c4] x\n 1 file changed\n[The command completed with exit code 0.]"
    assert tracker.settle("openai", openai_body([bash], [("oh_2", out)])) == [Commit("m")]


# -- text formats: aider and Cline XML -------------------------------------------------------

AIDER_REPLY = """I'll fix it.

src/calc.py
```python
<<<<<<< SEARCH
def add(a, b):
    return a - b
=======
def add(a, b):
    return a + b
>>>>>>> REPLACE
```

web/app.js
```javascript
<<<<<<< SEARCH
const x = 1;
=======
const x = 2;
const y = 3;
>>>>>>> REPLACE
```
"""


def text_body(assistant: str, reply: str) -> dict[str, Any]:
    return {"model": "auto", "messages": [
        {"role": "system", "content": "Act as an expert software developer."},
        {"role": "user", "content": "fix add"},
        {"role": "assistant", "content": assistant},
        {"role": "user", "content": reply},
    ]}


def test_aider_search_replace_blocks_count_once() -> None:
    tracker = SignalTracker()
    body = text_body(AIDER_REPLY, "now add a test")
    events = tracker.settle("openai", body)
    assert events == [
        LinesChanged(1, 1, "python", "unknown", "search_replace"),
        EditDecision("search_replace", "accept", "python", "unknown"),
        LinesChanged(2, 1, "javascript", "unknown", "search_replace"),
        EditDecision("search_replace", "accept", "javascript", "unknown"),
    ]
    assert tracker.settle("openai", body) == []


def test_aider_failed_block_is_not_counted() -> None:
    reply = ("# 1 SEARCH/REPLACE block failed to match!\n\n## SearchReplaceNoExactMatch: "
             "The SEARCH section must exactly match an existing block of lines\n"
             "<<<<<<< SEARCH\nconst x = 1;\n=======\nconst x = 2;\nconst y = 3;\n"
             ">>>>>>> REPLACE\n\nThe other 1 SEARCH/REPLACE block were applied successfully.")
    events = SignalTracker().settle("openai", text_body(AIDER_REPLY, reply))
    assert [e for e in events if isinstance(e, LinesChanged)] == [
        LinesChanged(1, 1, "python", "unknown", "search_replace")
    ]


def test_cline_xml_write_and_denial() -> None:
    write = ("I'll create it.\n<write_to_file>\n<path>src/a.ts</path>\n<content>\nexport {};\n"
             "const a = 1;\n</content>\n</write_to_file>")
    ok = "[write_to_file for 'src/a.ts'] Result:\nThe content was successfully saved to src/a.ts."
    assert SignalTracker().settle("openai", text_body(write, ok)) == [
        LinesChanged(2, 0, "typescript", "unknown", "write_to_file"),
        EditDecision("write_to_file", "accept", "typescript", "unknown"),
    ]
    denied = "[write_to_file for 'src/a.ts'] Result:\nThe user denied this operation."
    assert SignalTracker().settle("openai", text_body(write, denied)) == [
        EditDecision("write_to_file", "reject", "typescript", "unknown"),
    ]


def test_cline_xml_replace_in_file_and_commit() -> None:
    replace = ("<replace_in_file>\n<path>a.py</path>\n<diff>\n------- SEARCH\nx = 1\n=======\n"
               "x = 2\n+++++++ REPLACE\n</diff>\n</replace_in_file>")
    ok = "[replace_in_file for 'a.py'] Result:\nThe content was successfully saved to a.py."
    assert SignalTracker().settle("openai", text_body(replace, ok))[0] == LinesChanged(
        1, 1, "python", "unknown", "replace_in_file"
    )
    cmd = "<execute_command>\n<command>git commit -m x</command>\n</execute_command>"
    out = ("[execute_command for 'git commit -m x'] Result:\nCommand executed.\nOutput:\n"
           "[main 1a2b3c4] x")
    assert SignalTracker().settle("openai", text_body(cmd, out)) == [Commit("unknown")]


def test_text_edit_without_reply_yet_waits() -> None:
    body = text_body(AIDER_REPLY, "x")
    body["messages"].pop()
    tracker = SignalTracker()
    assert tracker.settle("openai", body) == []  # trailing assistant: nothing to settle yet


@pytest.mark.parametrize("protocol", ["openai", "anthropic", "responses"])
@pytest.mark.parametrize(
    "body",
    [
        {},
        {"messages": "nope", "input": 3},
        {"messages": [None, 1, "x", {"role": "tool"}, {"role": "assistant", "content": [1]}]},
        {"input": [{"type": "function_call_output"}, {"type": "function_call", "name": 1}]},
        {"messages": [{"role": "user", "content": [{"type": "tool_result"}]}]},
    ],
)
def test_malformed_bodies_never_raise(protocol: Any, body: dict[str, Any]) -> None:
    assert SignalTracker().settle(protocol, body) == []


def test_same_id_twice_in_one_request_counts_once() -> None:
    tracker = SignalTracker()
    tracker.propose([EDIT], "m")
    turn = anthropic_turn([EDIT], [("toolu_e1", "ok", False), ("toolu_e1", "ok", False)])
    assert len(tracker.settle("anthropic", anthropic_body(turn))) == 2


def test_cline_xml_counts_only_the_first_tool_of_a_message() -> None:
    two = ("<write_to_file>\n<path>a.py</path>\n<content>\nx\n</content>\n</write_to_file>\n"
           "<write_to_file>\n<path>b.py</path>\n<content>\ny\n</content>\n</write_to_file>")
    ok = "[write_to_file for 'a.py'] Result:\nThe content was successfully saved to a.py."
    events = SignalTracker().settle("openai", text_body(two, ok))
    assert [e for e in events if isinstance(e, LinesChanged)] == [
        LinesChanged(1, 0, "python", "unknown", "write_to_file")
    ]


def test_random_bodies_and_calls_never_raise_and_stay_bounded() -> None:
    import random

    rnd = random.Random(7)
    names = ["Edit", "MultiEdit", "Write", "Bash", "edit", "patch", "apply_patch", "shell",
             "str_replace_editor", "execute_bash", "replace_in_file", "local_shell", "exec", "x"]
    keys = ["file_path", "filePath", "path", "old_string", "new_string", "content", "command",
            "cmd", "edits", "input", "patchText", "diff", "old_str", "new_str", "type", "role",
            "id", "tool_use_id", "call_id", "name", "text", "is_error", "tool_calls", "output"]
    strings = ["", "a\nb", "git commit -m x", "*** Begin Patch\n*** Update File: a\n@@\n-x\n+y",
               "--- a/x\n+++ b/x\n@@ -1 +1 @@\n-a\n+b\n", "'\"$(", "[main 1234567] x",
               "<<<<<<< SEARCH\na\n=======\nb\n>>>>>>> REPLACE", "\r\n\x00\u2028",
               "await tools.apply_patch('*** Begin Patch\\n*** Add File: a.py\\n+x\\n');"
               "text(await tools.exec_command({cmd: `git commit -am x`}))",
               "Script completed\nWall time 0.1 seconds\nOutput:\n{\"output\": \"[m 1234567] x\"}",
               "Script failed\nOutput:\nScript error:\npatch rejected by user"]

    def value(depth: int = 0) -> Any:
        r = rnd.random()
        if depth > 3 or r < 0.4:
            return rnd.choice(strings)
        if r < 0.5:
            return rnd.choice([None, True, 1, -3.5, {}, []])
        if r < 0.75:
            return [value(depth + 1) for _ in range(rnd.randint(0, 3))]
        return {rnd.choice(keys): value(depth + 1) for _ in range(rnd.randint(0, 4))}

    tracker = SignalTracker(max_pending=8, max_seen=16)
    for i in range(400):
        args = orjson.dumps({rnd.choice(keys): value() for _ in range(3)}).decode()
        calls = [ToolCall(rnd.choice(["a", "b", str(i)]), rnd.choice(names),
                          rnd.choice([args, rnd.choice(strings)]))
                 for _ in range(rnd.randint(0, 3))]
        tracker.propose(calls, "m")
        body = {"messages": [value() for _ in range(rnd.randint(0, 5))],
                "input": [value() for _ in range(3)]}
        for protocol in ("openai", "anthropic", "responses", "bogus"):
            tracker.settle(protocol, body)  # type: ignore[arg-type]
        assert tracker.pending_count <= 8 and tracker.seen_count <= 16


def test_settle_racing_ahead_of_propose_counts_once() -> None:
    tracker = SignalTracker()
    body = anthropic_body(anthropic_turn([EDIT], [("toolu_e1", "ok", False)]))
    assert [type(e) for e in tracker.settle("anthropic", body)] == [LinesChanged, EditDecision]
    tracker.propose([EDIT], "late")
    assert tracker.pending_count == 0
    assert tracker.settle("anthropic", body) == []
