"""The current human turn as the decision sees it: its classification, tags and size.

``verdict`` classifies the turn once (heuristic; then a cached LLM answer when
the heuristic is unsure and the LLM classifier is on) and keeps the answer in
the session state, then lets the turn's activity (edits, runs, failures)
refine it (``phase``). The LLM is never awaited here: a miss starts a
background request and this request keeps the heuristic answer.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sidecar.protocols.conversation import Conversation
from sidecar.routing import rewrite
from sidecar.routing.classifier import (
    Classification,
    TurnActivity,
    classify_text,
    phase,
    routine_failure,
)
from sidecar.routing.llm_classifier import LlmClassifier, message_key
from sidecar.routing.settings import ClassifierSettings
from sidecar.sessions.state import SessionState


def verdict(
    conv: Conversation,
    state: SessionState,
    llm: LlmClassifier | None,
    settings: ClassifierSettings,
) -> Classification:
    """The classification of the current human turn (computed once per turn)."""
    if not state.profile:
        text = conv.message(state.human_index).text if state.human_index >= 0 else ""
        base = classify_text(rewrite.strip_for_classifier(text))
        state.profile, state.confidence, state.method = base.profile, base.confidence, base.method
    found = Classification(state.profile, state.confidence, state.method or "heuristic")
    if llm is not None and found.method == "heuristic":
        found = _ask_llm(conv, state, found, llm, settings)
    activity = TurnActivity(
        edits=state.edits,
        reads=state.reads,
        runs=state.runs,
        failures=state.failures,
        consecutive_failures=state.consecutive_failures,
        last_failed=state.last_failed,
        messages=len(conv),
        last_failure_routine=state.last_failed and _routine_result(conv),
    )
    return phase(activity, found)


def _routine_result(conv: Conversation) -> bool:
    """Is the latest tool result a routine (compiler/linter) error? Reads the last message only."""
    last = conv.last
    if last is None or not last.tool_results:
        return False
    return routine_failure(last.tool_results[-1].text[-4000:])


def _ask_llm(
    conv: Conversation,
    state: SessionState,
    v: Classification,
    llm: LlmClassifier,
    settings: ClassifierSettings,
) -> Classification:
    if v.confidence >= settings.threshold or state.human_index < 0:
        return v
    text = conv.message(state.human_index).text
    key = message_key(text[: settings.max_chars])
    cached = llm.cached(key)
    if cached is not None:
        state.profile, state.confidence, state.method = cached.profile, cached.confidence, "llm"
        return cached
    llm.request(key, text)
    return v


def tags(h: Mapping[str, str], state: SessionState) -> tuple[str, ...]:
    """Header tags, then this turn's directive tags, then path tags, deduplicated."""
    raw = h.get("x-tierline-tags")
    if not raw and not state.directive_tags and not state.turn_tags:
        return ()
    header = [t.strip().lower() for t in (raw or "").split(",") if t.strip()]
    return tuple(dict.fromkeys([*header, *state.directive_tags, *state.turn_tags]))


def fixed_tokens(conv: Conversation, body: Mapping[str, Any]) -> int:
    """System prompt and tool schemas, estimated from sizes (cheap: no tokenising)."""
    tools = body.get("tools")
    n_tools = len(tools) if isinstance(tools, list) else 0
    return len(conv.system) // 3 + 400 * n_tools
