"""One request as the router's steps read it: conversation view, session, harness, role.

``InboundReader.read`` decodes nothing beyond what identity and role detection need
(the conversation view decodes messages lazily); the result is shared by
``Router.load`` and every step of ``Router.route``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple, TypeVar

from sidecar.protocols.conversation import Conversation
from sidecar.routing.agents import AgentRole, role_of, system_role
from sidecar.sessions.identity import (
    Identity,
    harness_of,
    head_marks,
    identify,
    lower_headers,
    wanted,
)

_HEAD = 1500  # the system prompt's head: where harnesses announce roles and themselves
_MEMO = 256  # entries per memo (its keys come from clients)
K = TypeVar("K")
V = TypeVar("V")


class Inbound(NamedTuple):
    """What one request is, read once."""

    protocol: str
    body: Mapping[str, Any]
    requested: str
    headers: Mapping[str, str]  # the few the router reads, lower-case names
    conv: Conversation
    ident: Identity
    role: AgentRole

    @property
    def background(self) -> bool:
        return self.role.kind == "background"


class InboundReader:
    """Reads requests for one router (``rule_headers``: lower-case names of the headers
    ``[[routing.rules]]`` match on).

    What repeats on every request of a session is worked out once and memoized: which
    of the client's header names the router reads (keyed by the tuple of names, in
    order), what the system prompt's head announces (keyed by the head: shared by every
    session of a harness) and the harness (keyed by those headers and what the head
    names). A key is the exact data the answer depends on, so an answer is never stale;
    each memo holds at most 256 entries (cleared when full).
    """

    def __init__(self, rule_headers: frozenset[str] = frozenset()) -> None:
        self._extra = rule_headers
        self._picks: dict[tuple[str, ...], tuple[tuple[int, str], ...]] = {}
        self._heads: dict[str, tuple[AgentRole | None, frozenset[str]]] = {}
        self._harness: dict[tuple[frozenset[str], tuple[tuple[str, str], ...]], str] = {}

    def read(
        self, protocol: str, body: Mapping[str, Any], requested: str, headers: Mapping[str, str]
    ) -> Inbound:
        """The request's view, session identity and agent role."""
        h = self.headers(headers)
        conv = Conversation.from_body(protocol, body)  # type: ignore[arg-type]
        head = conv.system[:_HEAD]
        found = self._heads.get(head)  # (the same for every session of a harness)
        if found is None:
            found = system_role(head), head_marks(head)  # (~20 scans of the head)
            remember(self._heads, head, found)
        announced, marks = found
        key = (marks, tuple(h.items()))  # (headers may name the session: one entry each)
        harness = self._harness.get(key)
        if harness is None:
            harness = harness_of(h, marks)
            remember(self._harness, key, harness)
        ident = identify(body, h, conv, harness)
        max_out = body.get("max_tokens")
        max_out = max_out if isinstance(max_out, int) else None
        role = role_of(harness, requested, h, conv, max_out, announced)
        # tuple.__new__: the NamedTuple without its generated __new__'s Python frame (~2k)
        return tuple.__new__(Inbound, (protocol, body, requested, h, conv, ident, role))

    def headers(self, headers: Mapping[str, str]) -> dict[str, str]:
        """``identity.lower_headers(headers, rule_headers)``."""
        names = tuple(headers)
        values = tuple(headers.values())
        if len(values) != len(names):  # a name given twice (a multidict lists it once)
            return lower_headers(headers, self._extra)
        picks = self._picks.get(names)
        if picks is None:
            lows = [name.lower() for name in names]
            picks = tuple((i, low) for i, low in enumerate(lows) if wanted(low, self._extra))
            remember(self._picks, names, picks)
        out = {}
        for i, low in picks:  # (a loop: a comprehension is one more call)
            out[low] = values[i]  # (case-insensitive duplicates: the last value)
        return out


def remember(memo: dict[K, V], key: K, value: V) -> None:
    """``memo[key] = value``, the memo cleared first when it holds 256 entries."""
    if len(memo) >= _MEMO:
        memo.clear()
    memo[key] = value
