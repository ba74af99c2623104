"""Before ``route``: let the LLM classifier answer the request that triggers it.

``Router.load`` is awaited before the synchronous ``route``; when the LLM
classifier is on, ``classify_ahead`` finds the current human turn, and when the
heuristic is unsure about it (confidence under ``routing.classifier.threshold``)
and no answer is cached, waits for the LLM classifier at most its timeout
(``routing.classifier.timeout``, default 3 s). ``route`` then finds the answer
in the classifier's cache under the same key (``message_key`` of the turn's
first ``max_chars`` characters) and uses it for this very request. Past the
timeout the call keeps running (later requests of the turn use it) and this
request keeps the heuristic answer; any failure does the same.

Reads only: the session state is not changed (``route`` updates it). The walk
for the human turn covers the messages the session has not scanned yet, then
falls back to the turn the state already knows.
"""

from __future__ import annotations

from sidecar.protocols.conversation import Conversation
from sidecar.routing import rewrite
from sidecar.routing.classifier import classify_text
from sidecar.routing.directives import Directives, human_text, might_contain, strip_text
from sidecar.routing.llm_classifier import LlmClassifier, message_key
from sidecar.routing.settings import ClassifierSettings
from sidecar.sessions.state import SessionState


def _human_index(conv: Conversation, state: SessionState | None) -> int:
    """The index of the last human-written user message (as ``scan`` finds it), or -1."""
    total = len(conv)
    stop = state.seen if state is not None and state.seen <= total else 0
    for i in range(total - 1, stop - 1, -1):
        msg = conv.message(i)
        if msg.role == "user" and msg.text and not msg.tool_results:
            return i
    return state.human_index if state is not None and stop else -1


def unsure_turn(
    conv: Conversation, state: SessionState | None, settings: ClassifierSettings
) -> str | None:
    """The current turn's text when the heuristic is unsure of it and it carries no
    directive, else None."""
    index = _human_index(conv, state)
    if index < 0 or index >= len(conv):
        return None
    text = conv.message(index).text
    if might_contain(human_text(text)):
        d = Directives.of(strip_text(human_text(text))[0])
        if d.profile or d.lock:
            return None  # a directive decides: the classifier is not consulted
    if state is not None and index == state.human_index and state.method:
        if state.method == "llm" or state.confidence >= settings.threshold:
            return None  # this turn is already classified
        return text
    base = classify_text(rewrite.strip_for_classifier(text))
    return text if base.confidence < settings.threshold else None


async def classify_ahead(
    llm: LlmClassifier,
    conv: Conversation,
    state: SessionState | None,
    settings: ClassifierSettings,
) -> bool:
    """Wait (bounded) for the LLM's answer on an unsure turn; True when one is cached."""
    text = unsure_turn(conv, state, settings)
    if text is None:
        return False
    key = message_key(text[: settings.max_chars])
    return await llm.answer(key, text) is not None
