"""Body rewrites and plan adjustments the router makes after deciding.

- ``rewrite_body``: remove directives from the user messages that carried them
  (same result every time, so the cached prefix is stable) and append a
  profile's system addendum after the harness's own system prompt. Copy on
  write: the input body is never mutated; None means "forward as is".
- ``alternate_reviewer``: put a model that did not write the files under
  review first.
- ``shadow``: keep the decision in the plan, send to what the client asked.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from sidecar.config import ModelConfig
from sidecar.routing.directives import human_text, strip_message, strip_text
from sidecar.routing.plan import RoutePlan


def strip_for_classifier(text: str) -> str:
    """The human's words: no Claude Code system reminders, no directives."""
    return strip_text(human_text(text))[1]


def _messages_key(protocol: str) -> str:
    return "input" if protocol == "responses" else "messages"


def _strip_directives(raw: Any, indices: Sequence[int]) -> list[Any] | None:
    if not isinstance(raw, list) or not indices:
        return None
    out: list[Any] | None = None
    for i in indices:
        if i >= len(raw):
            continue
        found, new = strip_message(raw[i])
        if found and new is not raw[i]:
            out = out if out is not None else list(raw)
            out[i] = new
    return out


def _with_addendum(protocol: str, body: dict[str, Any], text: str) -> None:
    if protocol == "anthropic":
        system = body.get("system")
        if isinstance(system, list):
            body["system"] = [*system, {"type": "text", "text": text}]
        elif isinstance(system, str) and system:
            body["system"] = system + "\n\n" + text
        else:
            body["system"] = text
    elif protocol == "responses":
        instructions = body.get("instructions")
        body["instructions"] = (instructions + "\n\n" + text) if instructions else text
    else:
        messages = list(body.get("messages") or [])
        at = 0
        while at < len(messages) and isinstance(messages[at], Mapping):
            if messages[at].get("role") not in ("system", "developer"):
                break
            at += 1
        messages.insert(at, {"role": "system", "content": text})
        body["messages"] = messages


def rewrite_body(
    protocol: str, body: Mapping[str, Any], directive_idx: Sequence[int], addendum: str
) -> dict[str, Any] | None:
    """The body to forward, or None when it needs no change."""
    key = _messages_key(protocol)
    stripped = _strip_directives(body.get(key), directive_idx)
    if stripped is None and not addendum:
        return None
    out = dict(body)
    if stripped is not None:
        out[key] = stripped
    if addendum:
        _with_addendum(protocol, out, addendum)
    return out


def alternate_reviewer(
    cands: list[ModelConfig], writers: Mapping[str, str], paths: Sequence[str]
) -> tuple[list[ModelConfig], str]:
    """Reviews go to a model other than the writer of the files under review."""
    authors = {writers[p] for p in paths if p in writers}
    if not authors:
        authors = set(list(writers.values())[-8:])
    if not authors or not cands or cands[0].name not in authors:
        return cands, ""
    others = [m for m in cands if m.name not in authors]
    if not others:
        return cands, f"alternate review: every candidate wrote these files ({cands[0].name})"
    reordered = others + [m for m in cands if m.name in authors]
    names = ", ".join(sorted(authors))
    return reordered, f"alternate review: {reordered[0].name} reviews what {names} wrote"


def shadow(plan: RoutePlan, asked: tuple[ModelConfig, ...]) -> RoutePlan:
    """Record the decision, send to what the client asked for, body untouched."""
    would = plan.candidates[0].name if plan.candidates else None
    if not asked:
        asked = plan.candidates
    reason = f"shadow mode: would send to {would}; sent as asked to {asked[0].name}"
    if plan.reason:
        reason += "; " + plan.reason
    return replace(plan, candidates=asked, shadow_model=would, reason=reason, body=None)
