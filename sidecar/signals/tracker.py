"""SignalTracker: pairs tool calls from responses with their results in later requests.

Lifecycle of a tool call (ids are unique per call, so nothing here needs the
session):

1. ``propose(tool_calls, model)`` after a response we relayed: each call is
   parsed once (edit line counts, commit/PR intent) and kept in a bounded
   pending map (oldest evicted). Calls of no interest (reads, searches,
   plain shell commands) are marked seen right away.
2. ``settle(protocol, body)`` before the next request is dispatched: only
   the tool results that answer the latest assistant turn are read (those
   after the last message carrying tool calls; results before an assistant
   message were answered in an earlier request). A result whose id is not
   yet seen settles its call and returns events; its id joins a bounded seen
   set, so a resent or retried request counts nothing again.

A result whose call we never proposed (the session started before tierline,
tierline restarted, another replica relayed the response) is still new in
this request, so it is counted once, with the call's arguments taken from the
history and model ``"unknown"``. Results further back in the history are
never looked at, so a restart does not replay a whole history into the
counters. A pending call whose result only ever shows up in older history
(its request was served elsewhere) is not counted here and ages out. If the
next request races ahead of ``propose`` the call is counted from the history
(model ``"unknown"``) and the late ``propose`` is ignored: attribution may
suffer, the count never doubles.

A Codex ``exec`` call (a JavaScript program calling nested tools, see
``codex_exec``) is one call with one result: its patches count when the
program completed (none when it failed, threw or is still running; a program
that caught a patch failure and printed it counts none either), its commits
and PRs when their ``[branch sha]`` lines / URLs are in what it printed.

Text-format edits (aider SEARCH/REPLACE, Cline XML) have no call id: the
latest assistant message holding them is settled by the user message after
it and keyed by a hash of its text.

Hot path: ``settle`` walks the request's messages from the end and stops at
the latest assistant turn, decoding only that tail (a trailing assistant
prefill is skipped). Not thread-safe: use it from the event loop (the
recorder's ``on_request``/``on_exchange``).
"""

from __future__ import annotations

import hashlib
import re
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sidecar.exchange import Protocol, ToolCall
from sidecar.protocols.conversation import Conversation, Message, ToolResult
from sidecar.signals.events import (
    UNKNOWN_MODEL,
    Commit,
    EditDecision,
    LinesChanged,
    PullRequest,
    SignalEvent,
)
from sidecar.signals.exec_output import read_output
from sidecar.signals.languages import OTHER, language_of
from sidecar.signals.outcome import Outcome, Result, classify, is_rejected, normalise_output
from sidecar.signals.schemas import (
    EditProposal,
    ExecProposal,
    Proposal,
    ShellProposal,
    parse_call,
)
from sidecar.signals.shell import commits_in_output, prs_in_output
from sidecar.signals.textedits import (
    TextCall,
    has_text_edits,
    parse_text_calls,
    settle_text_call,
)

__all__ = ["SignalTracker"]

# How far back from the fresh tool results to look for their calls.
_CALL_LOOKBACK = 64
# A patch failure an ``exec`` program caught and printed (the program still completed).
_PATCH_FAILED = re.compile(
    r"apply_patch verification failed|failed to find (?:expected lines|context)"
    r"|patch rejected by (?:the )?user",
    re.IGNORECASE,
)
_PROTOCOLS = frozenset({"openai", "anthropic", "responses"})
_PLAIN_ROLES = ("system", "developer", "user")  # a tuple: a role may be any JSON value


def _nothing_to_settle(protocol: Protocol, body: Mapping[str, Any]) -> bool:
    """An OpenAI body of system/developer/user messages without tool calls carries no
    tool result and no assistant turn, so ``settle`` has nothing to do: known from the raw
    messages, before a view is built (the common first request of a conversation)."""
    if protocol != "openai" or not isinstance(body, dict):
        return False
    messages = body.get("messages")
    if not isinstance(messages, list):
        return False
    for raw in messages:
        if not isinstance(raw, dict) or raw.get("role") not in _PLAIN_ROLES or "tool_calls" in raw:
            return False
    return True


@dataclass(frozen=True)
class _Pending:
    proposal: Proposal | ExecProposal
    model: str


class SignalTracker:
    """Bounded state shared by all sessions of one app (see the module docstring).

    ``max_pending`` bounds calls waiting for their result, ``max_seen`` the
    ids remembered as settled; both evict oldest first.
    """

    def __init__(self, max_pending: int = 4096, max_seen: int = 65536) -> None:
        if max_pending < 1 or max_seen < 1:
            raise ValueError("max_pending and max_seen must be >= 1")
        self._max_pending = max_pending
        self._max_seen = max_seen
        self._pending: OrderedDict[str, _Pending] = OrderedDict()
        self._seen: OrderedDict[str, None] = OrderedDict()

    @property
    def pending_count(self) -> int:
        return len(self._pending)

    @property
    def seen_count(self) -> int:
        return len(self._seen)

    # -- responses ---------------------------------------------------------------

    def propose(self, tool_calls: Iterable[ToolCall], model: str) -> None:
        """Register the tool calls a response made; ``model`` is the model that answered.

        Idempotent per id; calls already seen or pending are ignored. Never raises.
        """
        for call in tool_calls:
            if not call.id or call.id in self._seen or call.id in self._pending:
                continue
            proposal = parse_call(call.name, call.arguments)
            if proposal is None:
                self._mark_seen(call.id)
                continue
            self._pending[call.id] = _Pending(proposal, model or UNKNOWN_MODEL)
            if len(self._pending) > self._max_pending:
                self._pending.popitem(last=False)

    # -- requests ----------------------------------------------------------------

    def settle(self, protocol: Protocol, body: Mapping[str, Any]) -> list[SignalEvent]:
        """Events for tool results in request ``body`` not seen before (in history order).

        Tolerant: an unknown protocol or a malformed body gives no events.
        """
        if protocol not in _PROTOCOLS or _nothing_to_settle(protocol, body):
            return []
        return self.settle_conversation(Conversation.from_body(protocol, body))

    def settle_conversation(self, conversation: Conversation) -> list[SignalEvent]:
        """``settle`` over an already built view (shares its decoding cache)."""
        fresh: list[tuple[int, ToolResult]] = []
        stop = -1  # the latest assistant turn: tool-call message or assistant text
        last = len(conversation) - 1
        for i in range(last, -1, -1):
            msg = conversation.message(i)
            if msg.tool_calls or (msg.role == "assistant" and i != last):
                stop = i  # results before it were answered in an earlier request
                break
            fresh.extend(
                (i, r) for r in reversed(msg.tool_results) if r.id and r.id not in self._seen
            )
        events: list[SignalEvent] = []
        for _, result in reversed(fresh):
            events.extend(self._settle_result(conversation, stop, result))
        if stop >= 0 and _text_edits(conversation.message(stop)):
            events.extend(self._settle_text(conversation, stop))
        return events

    def _settle_result(
        self, conversation: Conversation, boundary: int, result: ToolResult
    ) -> list[SignalEvent]:
        if result.id in self._seen:
            return []  # the same id twice in one request
        self._mark_seen(result.id)
        pending = self._pending.pop(result.id, None)
        if pending is None:
            proposal = _find_call(conversation, boundary, result.id)
            if proposal is None:
                return []
            pending = _Pending(proposal, UNKNOWN_MODEL)
        output = normalise_output(result.text, result.is_error)
        return _events(pending.proposal, pending.model, output)

    def _settle_text(self, conversation: Conversation, index: int) -> list[SignalEvent]:
        text = conversation.message(index).text
        key = "text:" + hashlib.blake2b(text.encode(), digest_size=12).hexdigest()
        if key in self._seen:
            return []
        self._mark_seen(key)
        reply = conversation.message(index + 1).text
        events: list[SignalEvent] = []
        for call in parse_text_calls(text):
            events.extend(_text_events(call, reply))
        return events

    def _mark_seen(self, key: str) -> None:
        self._seen[key] = None
        if len(self._seen) > self._max_seen:
            self._seen.popitem(last=False)


def _text_edits(msg: Message) -> bool:
    return not msg.tool_calls and bool(msg.text) and has_text_edits(msg.text)


def _find_call(
    conversation: Conversation, boundary: int, call_id: str
) -> Proposal | ExecProposal | None:
    """The proposal of call ``call_id`` from the assistant messages before the fresh tail."""
    for i in range(boundary, max(boundary - _CALL_LOOKBACK, -1), -1):
        for call in conversation.message(i).tool_calls:
            if call.id == call_id:
                return parse_call(call.name, call.arguments)
    return None


def _events(proposal: Proposal | ExecProposal, model: str, result: Result) -> list[SignalEvent]:
    if isinstance(proposal, ExecProposal):
        return _exec_events(proposal, model, result)
    if isinstance(proposal, ShellProposal):
        return _shell_events(proposal, model, result)
    return _edit_events(proposal, model, classify(result))


def _shell_events(proposal: ShellProposal, model: str, result: Result) -> list[SignalEvent]:
    if is_rejected(result):
        return []
    commits = min(proposal.intent.commits, commits_in_output(result.text))
    prs = min(proposal.intent.prs, prs_in_output(result.text))
    events: list[SignalEvent] = [Commit(model) for _ in range(commits)]
    events.extend(PullRequest(model) for _ in range(prs))
    return events


def _exec_events(proposal: ExecProposal, model: str, result: Result) -> list[SignalEvent]:
    """Events of the nested calls of a Codex ``exec`` program (see the module docstring)."""
    out = read_output(result.text)
    if is_rejected(result) or is_rejected(Result(out.error, False)):
        outcome = Outcome.REJECTED
    elif out.status == "completed":
        outcome = Outcome.FAILED if _PATCH_FAILED.search(out.text) else Outcome.DONE
    elif out.status == "":
        outcome = classify(result)
    else:  # failed (which nested call threw is not known) or still running
        outcome = Outcome.FAILED
    events: list[SignalEvent] = []
    commits = prs = 0
    for part in proposal.parts:
        if isinstance(part, ShellProposal):
            commits, prs = commits + part.intent.commits, prs + part.intent.prs
        elif outcome is not Outcome.FAILED:
            events.extend(_edit_events(part, model, outcome))
    if outcome is not Outcome.REJECTED:
        events.extend(Commit(model) for _ in range(min(commits, commits_in_output(out.text))))
        events.extend(PullRequest(model) for _ in range(min(prs, prs_in_output(out.text))))
    return events


def _edit_events(proposal: EditProposal, model: str, outcome: Outcome) -> list[SignalEvent]:
    language = language_of(proposal.path) if proposal.path else OTHER
    if outcome is Outcome.FAILED:
        return []
    if outcome is Outcome.REJECTED:
        return [EditDecision(proposal.tool, "reject", language, model)]
    per_language: dict[str, list[int]] = {}
    for change in proposal.changes:
        entry = per_language.setdefault(language_of(change.path), [0, 0])
        entry[0] += change.added
        entry[1] += change.removed
    events: list[SignalEvent] = [
        LinesChanged(added, removed, lang, model, proposal.tool)
        for lang, (added, removed) in per_language.items()
        if added or removed
    ]
    events.append(EditDecision(proposal.tool, "accept", language, model))
    return events


def _text_events(call: TextCall, reply: str) -> list[SignalEvent]:
    outcome, proposal = settle_text_call(call, reply)
    if isinstance(proposal, ShellProposal):
        if outcome is Outcome.REJECTED:
            return []
        return _shell_events(proposal, UNKNOWN_MODEL, Result(reply, False))
    return _edit_events(proposal, UNKNOWN_MODEL, outcome)
