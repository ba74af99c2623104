"""Tool result -> done / rejected / failed, for each harness's wording."""

from __future__ import annotations

import orjson
import pytest

from sidecar.signals.outcome import Outcome, Result, classify, is_rejected, normalise_output

DONE, REJECTED, FAILED = Outcome.DONE, Outcome.REJECTED, Outcome.FAILED


@pytest.mark.parametrize(
    ("text", "is_error", "expected"),
    [
        # Claude Code
        ("The file /r/a.py has been updated. Here's the result of running `cat -n`", False, DONE),
        ("The user doesn't want to proceed with this tool use. The tool use was rejected", True,
         REJECTED),
        ("The user doesn't want to take this action right now. STOP", True, REJECTED),
        ("Permission to use Bash with command rm -rf x has been denied.", True, REJECTED),
        ("<tool_use_error>String to replace not found in file.</tool_use_error>", True, FAILED),
        ("<tool_use_error>No changes to make: old_string and new_string are exactly the same."
         "</tool_use_error>", True, FAILED),
        # OpenCode
        ("The user rejected permission to use this specific tool call.", False, REJECTED),
        ("Error: The user rejected permission to use this specific tool call.", False,
         REJECTED),
        ("The user has specified a rule which prevents you from using this specific tool call.",
         False, REJECTED),
        ("oldString not found in content", False, FAILED),
        ("Error: File /r/a.ts has been modified since it was last read.", False, FAILED),
        # Codex
        ("exec command rejected by user", False, REJECTED),
        ("patch rejected by user", False, REJECTED),
        ("This action was rejected due to unacceptable risk. Rationale: ...", False, REJECTED),
        ("apply_patch verification failed: Failed to find expected lines in a.rs", False,
         FAILED),
        # OpenHands
        ("ERROR:\nNo replacement was performed, old_str `x` did not appear verbatim", False,
         FAILED),
        # openhands-sdk 1.21 (CLI 1.16): its own header line before the tool's text
        ("[An error occurred during execution.]\nNo replacement was performed, old_str `x` did "
         "not appear verbatim in /r/f.py.", False, FAILED),
        ("Action has been rejected by the user! Reason: not now", False, REJECTED),
        ("ERROR:\nInvalid `path` parameter: a.py. The path should be an absolute path", False,
         FAILED),
        ("Could not find oldString in the file.", False, FAILED),
        ("[Operation Cancelled] Reason: User denied execution.", False, REJECTED),
        ("Action rejected: not allowed by policy", False, REJECTED),
        # Cline
        ("The user denied this operation.", False, REJECTED),
        ("The user denied this operation and provided the following feedback:\nuse b", False,
         REJECTED),
        ("The tool execution failed with the following error:\n<error>x</error>", False, FAILED),
        # success outputs that merely mention such words further down
        ("The file a.py has been updated. Here's a snippet:\n 1\tmsg = 'string to replace not "
         "found'\n 2\t# rejected by the user", False, DONE),
        ("Success. Updated the following files:\nM errors.py", False, DONE),
    ],
)
def test_classify(text: str, is_error: bool, expected: Outcome) -> None:
    assert classify(normalise_output(text, is_error)) is expected


def test_commit_message_mentioning_a_rejection_is_not_a_rejection() -> None:
    output = "[main 1a2b3c4] Handle edits rejected by the user\n 1 file changed"
    assert not is_rejected(Result(output, False))


@pytest.mark.parametrize(
    ("text", "output", "exit_code"),
    [
        (orjson.dumps({"output": "hi", "metadata": {"exit_code": 2}}).decode(), "hi", 2),
        ("Exit code: 0\nWall time: 1 seconds\nOutput:\nok", None, 0),
        ("Exit code 1\nboom", None, 1),
        ("done\n[The command completed with exit code 3.]", None, 3),
        ("Chunk ID: 1\nWall time: 0.2 seconds\nProcess exited with code 1\nOutput:\nx", None, 1),
        ('{"output": broken json', None, None),
        ("plain", None, None),
    ],
)
def test_normalise_output(text: str, output: str | None, exit_code: int | None) -> None:
    result = normalise_output(text, False)
    assert result.text == (output if output is not None else text)
    assert result.exit_code == exit_code
