"""What a tool result says about its call: done, rejected, or failed.

- ``REJECTED``: the user, a permission rule or a hook refused the call
  (Claude Code's "The user doesn't want to proceed with this tool use",
  "Permission to use X ... has been denied", OpenCode's "The user rejected
  permission ...", Codex's "exec command rejected by user" / "patch rejected
  by user", Cline's "The user denied this operation", OpenHands' "Action has
  been rejected by the user", Gemini CLI's "[Operation Cancelled]"). An edit
  rejected this way is an edit decision ``reject``.
- ``FAILED``: the tool ran but did nothing (string to replace not found,
  file not read first, patch verification failed, a non-zero exit code, or
  any other ``is_error`` result). No lines, no decision.
- ``DONE``: anything else.

Only the start of a result is inspected (a refusal must open it, a
validation error must be on its first line): success outputs quote file
content or commit messages, which may contain any wording, further down.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum
from typing import Any

import orjson

__all__ = ["Outcome", "Result", "classify", "is_rejected", "normalise_output"]

_HEAD = 600


class Outcome(Enum):
    DONE = "done"
    REJECTED = "rejected"
    FAILED = "failed"


# Refusals are the whole result (or its start); anchoring keeps a commit
# message or file content that merely mentions "rejected by the user" from
# turning a success into a rejection.
_REJECTED = re.compile(
    r"\A\s*(?:<tool_use_error>\s*)?(?:error:\s*)?(?:"
    + "|".join(
        (
            r"the user doesn't want to (?:proceed with this tool use|take this action)",
            r"tool use (?:was )?rejected",
            r"permission to use \S+.{0,300}? has been denied",
            r"the user rejected permission",
            r"the user has specified a rule which prevents you from using",
            r"permission denied by (?:ruleset|rule|policy)",
            r"(?:exec )?command rejected by (?:the )?user",
            r"patch rejected by (?:the )?user",
            r"this action was rejected due to unacceptable risk",
            r"the user denied this operation",
            r"action has been rejected by the user",
            r"action rejected\b",
            r"\[operation cancelled\]",
            r"user denied execution",
            r"pretooluse:\S+ hook\b",
            r"hook \S+ (?:denied|blocked)\b",
        )
    )
    + ")",
    re.IGNORECASE | re.DOTALL,
)

# Validation failures are reported on the first line of the result.
_FAILED = re.compile(
    "|".join(
        (
            r"\A<tool_use_error>",
            r"\A\[An error occurred during execution\.\]",  # openhands-sdk 1.x error header
            r"\A(?:error|failed)\b",
            r"string to replace not found",
            r"old_?string not found",
            r"could not find old_?string",
            r"no replacement was performed",
            r"did not appear verbatim",
            r"has not been read yet",
            r"must read (?:the )?file",
            r"you must read\b",
            r"modified since (?:it was )?(?:last )?read",
            r"found \d+ matches of the string to replace",
            r"found multiple matches",
            r"no changes to make",
            r"apply_patch verification failed",
            r"failed to find (?:expected lines|context)",
            r"does not match anything in the file",
            r"the tool execution failed",
            r"invalid `?path`? parameter",
            r"\AFile .+ not found\Z",  # OpenCode 1.18 edit of a missing file (seen end to end)
        )
    ),
    re.IGNORECASE,
)

_EXIT_CODE = re.compile(r"^\s*exit code:? (-?\d+)", re.IGNORECASE)
_OPENHANDS_EXIT = re.compile(r"\[The command completed with exit code (-?\d+)\.\]")
_PROCESS_EXIT = re.compile(r"^Process exited with code (-?\d+)", re.MULTILINE)  # exec_command


@dataclass(frozen=True)
class Result:
    """A tool result normalised: output text and the exit code if one is stated."""

    text: str
    is_error: bool
    exit_code: int | None = None


def normalise_output(text: str, is_error: bool) -> Result:
    """Unwrap harness envelopes (Codex's ``{"output": ..., "metadata": {"exit_code"}}``)."""
    exit_code: int | None = None
    stripped = text.lstrip()
    if stripped.startswith("{") and '"output"' in stripped[:4096]:
        parsed = _loads(stripped)
        if isinstance(parsed, dict) and isinstance(parsed.get("output"), str):
            text = parsed["output"]
            meta = parsed.get("metadata")
            if isinstance(meta, dict) and isinstance(meta.get("exit_code"), int):
                exit_code = meta["exit_code"]
    if exit_code is None:
        match = (
            _EXIT_CODE.match(text)
            or _PROCESS_EXIT.search(text[:400])
            or _OPENHANDS_EXIT.search(text[-200:])
        )
        if match:
            exit_code = int(match.group(1))
    return Result(text, is_error, exit_code)


def _loads(text: str) -> Any:
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return None


def classify(result: Result) -> Outcome:
    """Outcome of an edit-like call from its (normalised) result."""
    if is_rejected(result):
        return Outcome.REJECTED
    first_line = result.text.lstrip()[:_HEAD].split("\n", 1)[0]
    if result.is_error or result.exit_code not in (None, 0) or _FAILED.search(first_line):
        return Outcome.FAILED
    return Outcome.DONE


def is_rejected(result: Result) -> bool:
    """True when the user, a permission rule or a hook refused the call."""
    return _REJECTED.match(result.text[:_HEAD]) is not None
