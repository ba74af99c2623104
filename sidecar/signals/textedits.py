"""Edits written as assistant text rather than tool calls: aider and Cline (XML mode).

- aider: SEARCH/REPLACE blocks, each under a line naming the file::

      path/to/file.py
      ```python
      <<<<<<< SEARCH
      old
      =======
      new
      >>>>>>> REPLACE
      ```

  aider applies them itself and only tells the model when a block failed
  ("SEARCH/REPLACE block failed to match", quoting the block), so the next
  user message decides: blocks it quotes failed, the rest were applied.
- Cline without native tool calling: ``<write_to_file><path>..</path>
  <content>..</content></write_to_file>``, ``<replace_in_file>`` with a
  ``<diff>`` of ``------- SEARCH / ======= / +++++++ REPLACE`` blocks, and
  ``<execute_command><command>..</command>``. The next user message carries
  ``[tool for 'path'] Result:`` and the outcome ("The user denied this
  operation.", an error, or success).

These messages have no call id; the tracker keys them by a hash of the text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sidecar.signals.lines import FileChange, diff_counts, parse_search_replace
from sidecar.signals.outcome import Outcome, Result, classify
from sidecar.signals.schemas import EditProposal, Proposal, parse_args

__all__ = ["TextCall", "has_text_edits", "parse_text_calls", "settle_text_call"]

_CLINE_TOOL = re.compile(r"<(write_to_file|replace_in_file|execute_command)>(.*?)</\1>", re.DOTALL)
_CLINE_PARAM = re.compile(r"<(path|content|diff|command)>\n?(.*?)\n?</\1>", re.DOTALL)
_FENCE = re.compile(r"^\s*(?:```|~~~)")
_AIDER_FAILED = "failed to match"


@dataclass(frozen=True)
class TextCall:
    """One edit or command read from assistant text.

    ``blocks`` holds aider's ``(search text, added, removed)`` per block, to
    drop failed blocks exactly; ``cline`` marks Cline's XML form, whose
    result is the next user message.
    """

    proposal: Proposal
    blocks: tuple[tuple[str, int, int], ...] = ()
    cline: bool = False


def has_text_edits(text: str) -> bool:
    """Cheap check before parsing: does ``text`` look like it holds text-format edits?"""
    return (
        ("SEARCH" in text and ("<<<<<<<" in text or "-------" in text))
        or "<write_to_file>" in text
        or "<replace_in_file>" in text
        or "<execute_command>" in text
    )


def parse_text_calls(text: str) -> list[TextCall]:
    """Edits/commands in an assistant message's text (Cline's first XML tool, else aider)."""
    match = _CLINE_TOOL.search(text)
    if match is not None:  # Cline runs one tool per message: the first
        params = {m.group(1): m.group(2) for m in _CLINE_PARAM.finditer(match.group(2))}
        proposal = parse_args(match.group(1), params)
        return [TextCall(proposal, cline=True)] if proposal is not None else []
    return _aider_calls(text)


def _aider_calls(text: str) -> list[TextCall]:
    lines = text.splitlines()
    per_file: dict[str, list[tuple[str, int, int]]] = {}
    for index, search, replace in parse_search_replace(text):
        added, removed = diff_counts(search, replace)
        per_file.setdefault(_filename_above(lines, index), []).append((search, added, removed))
    return [TextCall(_sum_blocks(path, blocks), tuple(blocks)) for path, blocks in per_file.items()]


def _sum_blocks(path: str, blocks: list[tuple[str, int, int]]) -> EditProposal:
    added = sum(b[1] for b in blocks)
    removed = sum(b[2] for b in blocks)
    return EditProposal("search_replace", (FileChange(path, added, removed),))


def _filename_above(lines: list[str], index: int) -> str:
    for j in range(index - 1, max(index - 4, -1), -1):
        line = lines[j].strip()
        if not line or _FENCE.match(line):
            continue
        return line.strip("`*: ")
    return ""


def settle_text_call(call: TextCall, reply: str) -> tuple[Outcome, Proposal]:
    """Outcome of ``call`` given the next user message ``reply``, and what to count.

    For aider, blocks quoted in a "failed to match" reply are dropped from
    the counts (FAILED when none was applied).
    """
    if call.cline:
        _, sep, after = reply.partition("] Result:")
        return classify(Result(after if sep else reply, False)), call.proposal
    if _AIDER_FAILED not in reply:
        return Outcome.DONE, call.proposal
    applied = [b for b in call.blocks if not (b[0].strip() and b[0] in reply)]
    if not applied:
        return Outcome.FAILED, call.proposal
    path = call.proposal.path if isinstance(call.proposal, EditProposal) else ""
    return Outcome.DONE, _sum_blocks(path, applied)
