"""What Codex's freeform ``exec`` tool returned (the program itself: ``codex_exec``).

``read_output(text)`` splits an ``exec`` result (``Script completed`` /
``Script failed`` / ``Script running ...``, a ``Wall time`` line, ``Output:``,
then the program's ``text(...)`` items, and ``Script error:`` when it threw) and
unwraps JSON-stringified tool results (``{"output": "...", "exit_code": 0}``), so a
commit line printed by a nested ``exec_command`` is found at the start of a line.
Shapes as Codex CLI 0.169 prints them (recorded end to end, see tests/e2e).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import orjson

__all__ = ["ExecOutput", "read_output"]

_ENVELOPE = re.compile(
    r"\A\s*Script (completed|failed|running)\b[^\n]*\n(?:[^\n]*\n){0,3}?Output:[ \t]*\n?"
)
_SCRIPT_ERROR = re.compile(r"^Script error:\s*", re.MULTILINE)
_MAX_JSON_LINE = 1 << 20


@dataclass(frozen=True)
class ExecOutput:
    """What an ``exec`` call returned.

    ``status`` is ``"completed"``, ``"failed"``, ``"running"`` (the cell yielded and
    keeps running) or ``""`` (no ``Script ...`` envelope). ``text`` is what the
    program printed, with the ``output`` of each JSON-stringified tool result on
    its own lines after it; ``error`` is the ``Script error:`` text ('' if none).
    """

    status: str
    text: str
    error: str


def read_output(raw: str) -> ExecOutput:
    """Split an ``exec`` result into status, printed text and error; never raises."""
    match = _ENVELOPE.match(raw)
    status, body = (match.group(1), raw[match.end() :]) if match else ("", raw)
    error = ""
    found = _SCRIPT_ERROR.search(body)
    if found:
        error = body[found.end() :]
    unwrapped = [out for line in body.splitlines() for out in _json_outputs(line)]
    text = "\n".join([body, *unwrapped]) if unwrapped else body
    return ExecOutput(status, text, error)


def _json_outputs(line: str) -> list[str]:
    """The ``output`` strings of a JSON-stringified tool result (or a list of them)."""
    line = line.strip()
    if not line or line[0] not in "{[" or len(line) > _MAX_JSON_LINE:
        return []
    try:
        value = orjson.loads(line)
    except orjson.JSONDecodeError:
        return []
    items = value if isinstance(value, list) else [value]
    return [
        item["output"]
        for item in items
        if isinstance(item, dict) and isinstance(item.get("output"), str)
    ]
