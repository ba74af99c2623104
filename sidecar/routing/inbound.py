"""One request as the router's steps read it: conversation view, session, harness, role.

``read_inbound`` decodes nothing beyond what identity and role detection need
(the conversation view decodes messages lazily); the result is shared by
``Router.load`` and every step of ``Router.route``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sidecar.protocols.conversation import Conversation
from sidecar.routing.agents import AgentRole, detect_role
from sidecar.sessions.identity import Identity, identify, lower_headers


@dataclass(frozen=True)
class Inbound:
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


def read_inbound(
    protocol: str,
    body: Mapping[str, Any],
    requested: str,
    headers: Mapping[str, str],
    system_role: Callable[[str], AgentRole | None],
    rule_headers: frozenset[str] = frozenset(),
) -> Inbound:
    """The request's view, session identity and agent role (``system_role``: memoized;
    ``rule_headers``: lower-case names of headers the routing rules match on)."""
    h = lower_headers(headers, rule_headers)
    conv = Conversation.from_body(protocol, body)  # type: ignore[arg-type]
    ident = identify(body, h, conv)
    max_out = body.get("max_tokens")
    max_out = max_out if isinstance(max_out, int) else None
    role = detect_role(ident.harness, requested, h, conv, max_out, system_role)
    return Inbound(protocol, body, requested, h, conv, ident, role)
