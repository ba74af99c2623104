"""Codex's freeform ``exec`` tool: the JavaScript reader, the output reader, and settling.

Shapes as Codex CLI 0.169 sends them with a model it knows (``gpt-6.1-sol``): the
``exec`` custom tool's input is a program calling ``tools.apply_patch`` /
``tools.exec_command``; its ``custom_tool_call_output`` is ``Script completed`` /
``Script failed`` + ``Wall time`` + ``Output:`` + the program's ``text(...)`` items
(recorded in tests/e2e with ``driver.py codex-known --dump``).
"""

from __future__ import annotations

import json
import random
from typing import Any

import orjson
import pytest

from sidecar.exchange import ToolCall
from sidecar.signals import Commit, EditDecision, LinesChanged, PullRequest, SignalTracker
from sidecar.signals.codex_exec import MAX_CALLS, nested_calls
from sidecar.signals.exec_output import read_output
from sidecar.signals.lines import FileChange
from sidecar.signals.schemas import EditProposal, ExecProposal, ShellProposal, parse_call
from sidecar.signals.shell import ShellIntent

ADD = (
    "*** Begin Patch\n*** Add File: greet.py\n+def greet(name):\n+    return name\n"
    "*** End Patch\n"
)
UPDATE = (
    "*** Begin Patch\n*** Update File: greet.py\n@@\n-    return name\n"
    "+    return 'Hi ' + name\n*** End Patch\n"
)
COMMIT = "git add greet.py && git commit -m 'Add greet.py'"


def js(text: str) -> str:
    """A JavaScript double-quoted literal (what ``JSON.stringify`` / ``json.dumps`` give)."""
    return json.dumps(text)


# -- the JavaScript reader ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        pytest.param(f"text(await tools.apply_patch({js(ADD)}));", [("apply_patch", ADD)],
                     id="single-call"),
        pytest.param(f"await tools.apply_patch({js(ADD)});\nawait tools.apply_patch({js(UPDATE)});"
                     f"\nconst r = await tools.exec_command({{cmd: {js(COMMIT)}}});",
                     [("apply_patch", ADD), ("apply_patch", UPDATE),
                      ("exec_command", {"cmd": COMMIT})], id="several-calls"),
        pytest.param("await tools.apply_patch(`*** Begin Patch\n*** Add File: a.js\n"
                      "+const s = 'a' + \"b\";\n+const t = `x`;\n*** End Patch\n`)",
                      [], id="template-with-unescaped-backtick-is-malformed"),
        pytest.param("await tools.apply_patch(`*** Begin Patch\n*** Add File: a.js\n"
                      "+const s = 'a' + \"b\" + \\`x\\` + '$';\n*** End Patch\n`)",
                      [("apply_patch", "*** Begin Patch\n*** Add File: a.js\n"
                        "+const s = 'a' + \"b\" + `x` + '$';\n*** End Patch\n")],
                      id="template-literal"),
        pytest.param(r"""await tools.exec_command({cmd: 'git commit -m \'it\\\'s "done"\''})""",
                     [("exec_command", {"cmd": "git commit -m 'it\\'s \"done\"'"})],
                     id="escaped-quotes"),
        pytest.param(r"""await tools.apply_patch("\x41\u00e9\u{1F600}\uD83D\uDE00\t\0\
continued")""", [("apply_patch", "A\u00e9\U0001F600\U0001F600\t\0continued")], id="escapes"),
        pytest.param("await tools.exec_command({cmd: 'git add . ' + \"&& git commit\" + `-m x`})",
                     [("exec_command", {"cmd": "git add . && git commit-m x"})],
                     id="concatenation"),
        pytest.param("await tools.exec_command({cmd: `git commit -m ${msg}`});"
                     "await tools.apply_patch(patch); await tools.exec_command({cmd: 'a' + b});"
                     "await tools.apply_patch(String.raw`x`); await tools.apply_patch('a'.trim())",
                     [("exec_command", {}), ("exec_command", {})], id="dynamic-args-ignored"),
        pytest.param("await tools.exec_command({cmd, workdir: dir, yield_time_ms: 1e4, tty: false,"
                     " ...opts, f() { return '}' }, ['k']: 1, prefix_rule: ['git', 'commit']})",
                     [("exec_command", {"yield_time_ms": 1e4, "tty": False,
                                        "prefix_rule": ["git", "commit"]})],
                     id="object-with-dynamic-properties"),
        pytest.param("// @exec: {\"yield_time_ms\": 1000}\n// tools.apply_patch('a')\n"
                     "/* tools.exec_command({cmd: 'git commit'}) */\n"
                     "const s = \"tools.apply_patch('b')\"; const t = `tools.shell(${'c'})`;\n"
                     "const re = /[\"'`]tools.apply_patch('d')/g; const half = 4 / 2;\n"
                     "await tools.shell({command: ['bash', '-lc', 'git commit -am x']});",
                     [("shell", {"command": ["bash", "-lc", "git commit -am x"]})],
                     id="comments-strings-regexes-skipped"),
        pytest.param("x.tools.apply_patch('a'); mytools.apply_patch('b');"
                     " tools .  apply_patch ('c')",
                     [("apply_patch", "c")], id="only-the-tools-object"),
        pytest.param("await tools.apply_patch('unterminated\n'); await tools.apply_patch('ok')",
                     [], id="raw-newline-in-quotes-is-a-syntax-error"),
        pytest.param("await tools.apply_patch('a'); const s = 'open", [("apply_patch", "a")],
                     id="unterminated-string-stops-the-scan"),
        pytest.param("await tools.exec_command('\\1 octal')", [], id="octal-escape-not-static"),
        pytest.param("await tools.apply_patch({input: 'p'})", [("apply_patch", {"input": "p"})],
                     id="object-input"),
    ],
)
def test_nested_calls(source: str, expected: list[tuple[str, Any]]) -> None:
    assert nested_calls(source) == expected


def test_long_literals() -> None:
    line = "+x = '\\' \"q\"\n"
    patch = "*** Begin Patch\n*** Add File: big.py\n" + line * 30_000
    assert nested_calls(f"await tools.apply_patch({js(patch)})") == [("apply_patch", patch)]
    template = patch.replace("\\", "\\\\")
    assert nested_calls(f"await tools.apply_patch(`{template}`)") == [("apply_patch", patch)]

    quoted = patch.replace("\\", "\\\\").replace("'", "\\'").replace("\n", "\\n")
    assert nested_calls(f"await tools.apply_patch('{quoted}')") == [("apply_patch", patch)]
    # Rare escapes are decoded one by one: past 20,000 the literal is not read.
    assert nested_calls("await tools.apply_patch('" + "\\x41" * 20_001 + "')") == []
    assert nested_calls("await tools.apply_patch('" + "\\x41" * 20_000 + "')") == [
        ("apply_patch", "A" * 20_000)
    ]


def test_nested_calls_is_bounded_and_total() -> None:
    assert len(nested_calls("await tools.exec_command('ls');" * (MAX_CALLS + 10))) == MAX_CALLS
    deep = "await tools.exec_command(" + "[" * 200 + "]" * 200 + ")"
    assert nested_calls(deep) == []
    nested = "`${" * 2000 + "x" + "}`" * 2000
    assert nested_calls(f"{nested}; await tools.apply_patch('a')") == []
    assert nested_calls(f"await tools.exec_command({{cmd: 'x', y: {nested}}})") == []
    rng = random.Random(7)
    alphabet = "tools.apply_patch(exec_command{cmd:}[]'\"`\\$/ *+,\nux0{}"
    for _ in range(2000):
        source = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 80)))
        nested_calls(source)  # never raises


# -- the output reader --------------------------------------------------------------------

OK = "Script completed\nWall time 0.0 seconds\nOutput:\n"
FAILED = "Script failed\nWall time 0.0 seconds\nOutput:\n"
COMMIT_RESULT = orjson.dumps({"chunk_id": "70bf71", "wall_time_seconds": 0.0, "exit_code": 0,
                              "output": "[main a2e5b62] Add greet.py\n 1 file changed\n"}).decode()


def test_read_output() -> None:
    out = read_output(OK + "\n" + COMMIT_RESULT)
    assert out.status == "completed" and out.error == ""
    assert out.text.endswith("\n[main a2e5b62] Add greet.py\n 1 file changed\n")
    failed = read_output(FAILED + "\nScript error:\napply_patch verification failed: x")
    assert (failed.status, failed.error) == ("failed", "apply_patch verification failed: x")
    assert read_output("plain").status == ""
    assert read_output("Script running with cell ID 7\nOutput:\nhi").status == "running"


# -- settling -------------------------------------------------------------------------------


def exec_body(call_id: str, source: str, output: str | list[dict[str, str]]) -> dict[str, Any]:
    """A Codex Responses request whose last turn is one ``exec`` call and its output."""
    return {"model": "gpt-6.1-sol", "input": [
        {"type": "additional_tools", "role": "developer", "tools": []},
        {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "go"}]},
        {"type": "custom_tool_call", "call_id": call_id, "name": "exec", "namespace": "functions",
         "input": source},
        {"type": "custom_tool_call_output", "call_id": call_id, "output": output},
    ]}


def parts(head: str, *texts: str) -> list[dict[str, str]]:
    """An ``exec`` output as Codex sends it: the envelope part, then one part per ``text()``."""
    return [{"type": "input_text", "text": t} for t in (head, *texts)]


def settle(source: str, output: str | list[dict[str, str]], *, translated: bool = False,
           propose: bool = True) -> list[Any]:
    tracker = SignalTracker()
    if propose:  # as the tap records it: raw input, or {"input"} after chat translation
        arguments = orjson.dumps({"input": source}).decode() if translated else source
        tracker.propose([ToolCall("call_x", "exec", arguments)], "agent-model")
    return tracker.settle("responses", exec_body("call_x", source, output))


PATCH_CALL = f"text(await tools.apply_patch({js(ADD)}));"
COMMIT_CALL = f"text(JSON.stringify(await tools.exec_command({{cmd: {js(COMMIT)}}})));"
ADDED = [LinesChanged(2, 0, "python", "agent-model", "apply_patch"),
         EditDecision("apply_patch", "accept", "python", "agent-model")]


@pytest.mark.parametrize("translated", [False, True], ids=["raw-input", "function-input"])
def test_single_patch_accepted(translated: bool) -> None:
    assert settle(PATCH_CALL, parts(OK, "{}"), translated=translated) == ADDED


def test_several_calls_in_one_program() -> None:
    source = PATCH_CALL + f"\nawait tools.apply_patch({js(UPDATE)});\n" + COMMIT_CALL
    assert settle(source, parts(OK, "{}", COMMIT_RESULT)) == [
        *ADDED,
        LinesChanged(1, 1, "python", "agent-model", "apply_patch"),
        EditDecision("apply_patch", "accept", "python", "agent-model"),
        Commit("agent-model"),
    ]


def test_failed_patch_counts_nothing() -> None:
    error = "Script error:\napply_patch verification failed: Failed to find expected lines"
    assert settle(PATCH_CALL, parts(FAILED, error)) == []
    caught = "apply_patch verification failed: Failed to find expected lines in greet.py"
    assert settle(PATCH_CALL, parts(OK, caught)) == []  # the program caught and printed it
    assert settle(PATCH_CALL, parts("Script running with cell ID 3\nOutput:\n")) == []


def test_rejected_patch_is_a_reject_decision() -> None:
    events = settle(PATCH_CALL, parts(FAILED, "Script error:\npatch rejected by user"))
    assert events == [EditDecision("apply_patch", "reject", "python", "agent-model")]


@pytest.mark.parametrize(
    ("texts", "commits"),
    [
        pytest.param([COMMIT_RESULT], 1, id="json-stringified-result"),
        pytest.param(["[main a2e5b62] Add greet.py\n 1 file changed\n"], 1, id="printed-output"),
        pytest.param([orjson.dumps({"exit_code": 1, "output": "nothing to commit, working tree "
                                    "clean\n"}).decode()], 0, id="nothing-to-commit"),
        pytest.param([], 0, id="result-not-printed"),
    ],
)
def test_commit_inside_exec(texts: list[str], commits: int) -> None:
    events = settle(COMMIT_CALL, parts(OK, *texts))
    assert events == [Commit("agent-model")] * commits


def test_commit_counted_even_when_a_later_call_threw() -> None:
    source = COMMIT_CALL + f"\nawait tools.apply_patch({js(UPDATE)});"
    error = "Script error:\napply_patch verification failed: Failed to find expected lines"
    assert settle(source, parts(FAILED, COMMIT_RESULT, error)) == [Commit("agent-model")]


def test_dry_run_and_echo_are_no_commit_and_pr_needs_url() -> None:
    source = ("await tools.exec_command({cmd: 'git commit --dry-run -am x'});"
              "await tools.exec_command({cmd: 'echo git commit'});"
              "text((await tools.exec_command({cmd: 'gh pr create --fill'})).output);")
    url = "https://github.com/o/r/pull/42\n"
    assert settle(source, parts(OK, "[main 1234567] x\n" + url)) == [PullRequest("agent-model")]


def test_resent_history_counts_once_and_unproposed_call_counts_as_unknown() -> None:
    tracker = SignalTracker()
    body = exec_body("call_x", PATCH_CALL, parts(OK, "{}"))
    assert len(tracker.settle("responses", body)) == 2  # never proposed: read from history
    assert tracker.settle("responses", body) == []
    assert settle(PATCH_CALL, parts(OK, "{}"), propose=False)[0].model == "unknown"


def test_programs_without_edits_or_commits_are_not_kept_pending() -> None:
    tracker = SignalTracker()
    tracker.propose([ToolCall("c1", "exec", "text(await tools.exec_command({cmd: 'ls'}))"),
                     ToolCall("c2", "exec", "await tools.apply_patch(p)")], "m")
    assert tracker.pending_count == 0 and tracker.seen_count == 2


def test_parse_call_maps_nested_calls_to_proposals() -> None:
    heredoc = f"apply_patch <<'PATCH'\n{ADD}PATCH"
    source = (f"await tools.exec_command({{cmd: {js(heredoc)}}});"
              "await tools.shell({command: ['git', 'commit', '-m', 'x']});"
              "await tools.shell_command('gh pr create --fill');"
              "await tools.exec_command({cmd: 'ls'}); await tools.view_image({path: 'a.png'});")
    for arguments in (source, orjson.dumps({"input": source}).decode()):
        proposal = parse_call("exec", arguments)
        assert isinstance(proposal, ExecProposal)
        assert proposal.parts == (
            EditProposal("apply_patch", (FileChange("greet.py", 2, 0),)),
            ShellProposal("shell", ShellIntent(1, 0)),
            ShellProposal("shell_command", ShellIntent(0, 1)),
        )
    assert parse_call("exec", orjson.dumps({"cmd": "git commit -m x"}).decode()) is None
    assert parse_call("exec", "text('hello')") is None
