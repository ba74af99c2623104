"""The router's answer: an ordered list of candidates and why.

``route(...) -> RoutePlan`` is the seam between ingress and dispatch. Dispatch
walks ``candidates`` in order (a flat fallback loop) and never changes the plan.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sidecar.config import ModelConfig


@dataclass(frozen=True)
class RoutePlan:
    requested_model: str  # what the client sent
    candidates: tuple[ModelConfig, ...]  # first is the choice, the rest fall back
    tier: str | None = None
    profile: str | None = None  # planner | debugger | reviewer | coder | refactorer | assistant
    method: str = "static"  # explicit | header | directive | lock | rule | tag | heuristic
    #                         | phase | llm | sticky | floor | alias | static | shadow
    confidence: float = 1.0
    tags: tuple[str, ...] = ()
    reason: str = ""  # one human sentence
    body: Mapping[str, Any] | None = None  # rewritten request body (directives removed)
    shadow_model: str | None = None  # in shadow mode: what the router would have chosen
    override: str | None = None  # kind of explicit override, for tierline.route.override
    session_id: str = ""  # the agent session (x-tierline-session, harness header, or a hash)
    harness: str = "unknown"  # claude_code | opencode | codex | aider | sdk | unknown
    subagent: bool = False  # a subagent or background request (not the primary agent)
    state_key: str = ""  # router-internal: the conversation's key in the session store

    @property
    def route_header(self) -> str:
        """``x-tierline-route``: ``method profile confidence tags=a,b``."""
        parts = [self.method, self.profile or "-", f"{self.confidence:.2f}"]
        if self.tags:
            parts.append("tags=" + ",".join(self.tags))
        if self.shadow_model:
            parts.append("shadow=" + self.shadow_model)
        return " ".join(parts)
