"""Parallel tool calls of an OpenAI stream, put in an order where each call is contiguous.

OpenAI streams key tool-call argument pieces by ``index`` and may interleave
them (index 0, index 1, index 0 again). A new ``id`` on an index whose call is
complete starts a new call (some compatible servers send every call as index 0).
Anthropic ``tool_use`` blocks and Responses ``function_call`` items cannot
interleave, so ``ToolOrder`` keeps one call *live* (its pieces go out as they
arrive) and holds the pieces of the others, in order of first appearance.

The live call ends when a piece of another call arrives and the live call's
arguments already form a complete JSON object: an object cannot take more
text and stay valid, so no piece of it can follow. The next held call then
becomes live (its held pieces go out at once, joined). ``flush()`` ends the
live call and sends every held call (finish reason, end of stream, or other
content in between). Nothing is dropped; what is held is at most the
arguments of the calls not yet live. A piece for a call already sent whole
(after a ``flush``) can only come from a provider that broke the rule above;
it is kept in ``Call.arguments`` and reported as ``late``.

Pure and stateful per response; ``Step``s are what the re-encoders turn into
their protocol's events.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import orjson

StepKind = Literal["open", "args", "close"]


@dataclass
class Call:
    """One tool call: its OpenAI ``index``, id and name, and its argument pieces so far."""

    index: int
    call_id: str
    name: str
    pieces: list[str] = field(default_factory=list)  # every piece (joined only when needed)
    held: list[str] = field(default_factory=list)  # pieces not yet sent
    late: int = 0  # pieces that arrived after the call was sent whole
    sent: bool = False  # closed: sent whole

    @property
    def arguments(self) -> str:
        return "".join(self.pieces)

    def complete(self) -> bool:
        """``complete(arguments)``, cheaply ruled out while the text does not end in ``}``."""
        tail = next((p for p in reversed(self.pieces) if not p.isspace()), "")
        return tail.rstrip().endswith("}") and complete(self.arguments)


@dataclass(frozen=True)
class Step:
    """``open`` a call, send ``args`` (a piece of its arguments), or ``close`` it."""

    kind: StepKind
    call: Call
    text: str = ""


def complete(arguments: str) -> bool:
    """Whether ``arguments`` is a whole JSON object (no further piece can belong to it)."""
    text = arguments.strip()
    if not (text.startswith("{") and text.endswith("}")):
        return False
    try:
        orjson.loads(text)
    except orjson.JSONDecodeError:
        return False
    return True


class ToolOrder:
    """See the module docstring. ``feed`` per piece, ``flush`` when the calls must end."""

    def __init__(self) -> None:
        self._calls: dict[int, Call] = {}
        self._live: Call | None = None
        self._held: list[Call] = []

    @property
    def calls(self) -> dict[int, Call]:
        """The calls seen, by OpenAI index (the latest call when an index was reused)."""
        return self._calls

    def feed(self, index: int, call_id: str, name: str, arguments: str) -> list[Step]:
        """Steps for one tool-call delta (``call_id``/``name`` count on first sight only)."""
        steps: list[Step] = []
        call = self._calls.get(index)
        if call is not None and call_id and call.call_id not in ("", call_id) and call.complete():
            call = None  # a provider reusing the index for its next call (a new id)
        if call is None:
            call = self._calls[index] = Call(index, call_id, name)
            if self._live is None:
                self._live = call
                steps.append(Step("open", call))
            else:
                self._held.append(call)
        while call is not self._live and self._live is not None and self._held:
            if not self._live.complete():
                break
            steps += self._advance()
        if arguments:
            call.pieces.append(arguments)
            if call is self._live:
                steps.append(Step("args", call, arguments))
            elif call.sent:
                call.late += 1
            else:
                call.held.append(arguments)
        return steps

    def feed_delta(self, pos: int, delta: Mapping[str, Any]) -> list[Step]:
        """``feed`` for one Chat Completions ``tool_calls`` item (``pos``: its place in the
        list, the index when the provider sends none); wrongly typed fields count as empty."""
        index = delta.get("index")
        function = delta.get("function") or {}
        args = function.get("arguments")
        return self.feed(
            index if isinstance(index, int) else pos,
            str(delta.get("id") or ""),
            str(function.get("name") or ""),
            args if isinstance(args, str) else "",
        )

    def flush(self) -> list[Step]:
        """Close the live call, then send every held call whole, in order."""
        steps: list[Step] = []
        while self._live is not None:
            steps += self._advance()
        return steps

    def _advance(self) -> list[Step]:
        """Close the live call; the first held call (if any) becomes live."""
        assert self._live is not None
        steps = [Step("close", self._live)]
        self._live.sent = True
        self._live = self._held.pop(0) if self._held else None
        if self._live is not None:
            steps.append(Step("open", self._live))
            if self._live.held:
                steps.append(Step("args", self._live, "".join(self._live.held)))
                self._live.held.clear()
        return steps
