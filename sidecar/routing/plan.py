"""The router's answer: an ordered list of candidates and why.

``route(...) -> RoutePlan`` is the seam between ingress and dispatch. Dispatch
walks ``candidates`` in order (a flat fallback loop) and never changes the plan.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sidecar.config import ModelConfig


@dataclass(frozen=True, init=False)
class RoutePlan:
    """Immutable. Built once per request: ``__init__`` writes the instance dict in one step
    (the generated frozen ``__init__`` pays an ``object.__setattr__`` per field, ~1.7k
    instructions each); its defaults are the fields' (a test holds them equal)."""

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
    harness: str = "unknown"  # claude_code | opencode | codex | aider | openhands | sdk | unknown
    subagent: bool = False  # a subagent or background request (not the primary agent)
    state_key: str = ""  # router-internal: the conversation's key in the session store
    clamp: tuple[tuple[str, int], ...] = ()  # (candidate name, token limit to forward)

    def __init__(
        self,
        requested_model: str,
        candidates: tuple[ModelConfig, ...],
        tier: str | None = None,
        profile: str | None = None,
        method: str = "static",
        confidence: float = 1.0,
        tags: tuple[str, ...] = (),
        reason: str = "",
        body: Mapping[str, Any] | None = None,
        shadow_model: str | None = None,
        override: str | None = None,
        session_id: str = "",
        harness: str = "unknown",
        subagent: bool = False,
        state_key: str = "",
        clamp: tuple[tuple[str, int], ...] = (),
    ) -> None:
        # one write of a whole dict: its attributes then read as fast as the generated
        # class's (filling ``self.__dict__`` item by item leaves them ~3x slower to read)
        object.__setattr__(
            self,
            "__dict__",
            {
                "requested_model": requested_model,
                "candidates": candidates,
                "tier": tier,
                "profile": profile,
                "method": method,
                "confidence": confidence,
                "tags": tags,
                "reason": reason,
                "body": body,
                "shadow_model": shadow_model,
                "override": override,
                "session_id": session_id,
                "harness": harness,
                "subagent": subagent,
                "state_key": state_key,
                "clamp": clamp,
            },
        )

    def body_for(
        self, protocol: str, model: ModelConfig, body: Mapping[str, Any]
    ) -> Mapping[str, Any]:
        """The client-protocol body to send to ``model``: ``body`` itself unless this plan
        clamps the model's token limit (``routing.clamp_max_tokens``). Pure; idempotent."""
        for name, limit in self.clamp:
            if name == model.name:
                return clamp_max_tokens(protocol, body, limit)
        return body

    @property
    def route_header(self) -> str:
        """``x-tierline-route``: ``method profile confidence tags=a,b``; formatted once
        (the response header and the access log both read it), kept in the instance dict
        beside the fields (not one of them: equality and ``replace`` ignore it)."""
        found: str | None = self.__dict__.get("_route_header")
        if found is None:
            found = self.__dict__["_route_header"] = self._route_header()
        return found

    def _route_header(self) -> str:
        parts = [self.method, self.profile or "-", f"{self.confidence:.2f}"]
        if self.tags:
            parts.append("tags=" + ",".join(self.tags))
        if self.shadow_model:
            parts.append("shadow=" + self.shadow_model)
        return " ".join(parts)


_LIMIT_FIELDS = {
    "anthropic": ("max_tokens",),
    "openai": ("max_tokens", "max_completion_tokens"),
    "responses": ("max_output_tokens",),
}


def clamp_max_tokens(protocol: str, body: Mapping[str, Any], limit: int) -> Mapping[str, Any]:
    """``body`` with its output-token limit field(s) lowered to ``limit`` (a new dict when
    anything changes; ``body`` itself otherwise)."""
    over = {
        key: limit
        for key in _LIMIT_FIELDS.get(protocol, ())
        if isinstance(body.get(key), int)
        and not isinstance(body.get(key), bool)
        and body[key] > limit
    }
    return {**body, **over} if over else body
