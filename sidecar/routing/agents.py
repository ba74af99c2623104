"""Primary agent, subagent or background request? (Claude Code, OpenCode, Codex patterns)

Background requests (title generation, conversation summaries/compaction,
command-prefix checks, a harness's small fast model) and exploration
subagents go to the quick tier; other subagents are classified normally but
have no floor; the primary agent never goes below the coding tier.
Pure: reads the system prompt head, the requested model, a few headers.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from sidecar.protocols.conversation import Conversation


@dataclass(frozen=True)
class AgentRole:
    kind: str  # primary | subagent | background
    # title | summary | commit_message | explore | small_model | prefix | quota | review | task
    what: str = ""
    quick: bool = False  # send to the quick tier regardless of the classifier

    @property
    def subagent(self) -> bool:
        return self.kind != "primary"


PRIMARY = AgentRole("primary")

# (needle in the system prompt head, kind, what, quick). Case-sensitive, first match wins.
_SYSTEM_PATTERNS: tuple[tuple[str, str, str, bool], ...] = (
    ("Analyze if this message indicates a new conversation topic", "background", "title", True),
    ("You are a title generator", "background", "title", True),
    ("title for this conversation", "background", "title", True),
    ("Generate a concise, sentence-case title", "background", "title", True),
    ("Summarize this coding conversation", "background", "summary", True),
    ("create a detailed summary of the conversation", "background", "summary", True),
    ("summarizing conversations", "background", "summary", True),
    ("CONTEXT CHECKPOINT COMPACTION", "background", "summary", True),
    ("write a handoff summary", "background", "summary", True),
    # aider's weak-model calls (aider/prompts.py: commit_system, summarize)
    ("generates concise, one-line Git commit messages", "background", "commit_message", True),
    ("summarize this partial conversation about programming", "background", "summary", True),
    ("process Bash commands that an AI coding agent wants to run", "background", "prefix", True),
    ("You are a file search specialist", "subagent", "explore", True),
    ("You are an agent for Claude Code", "subagent", "task", False),
    ("You are a subagent", "subagent", "task", False),
)
# Same idea for the last user message (some harnesses put the instruction there).
_USER_PATTERNS: tuple[tuple[str, str, str, bool], ...] = (
    ("create a detailed summary of the conversation", "background", "summary", True),
    ("Provide a detailed prompt for continuing our conversation", "background", "summary", True),
    ("Generate a title for this conversation", "background", "title", True),
)
_USER_WORD = "conversation"  # in every _USER_PATTERNS needle
_HEAD = 1500


def _scan(text: str, patterns: tuple[tuple[str, str, str, bool], ...]) -> AgentRole | None:
    for needle, kind, what, quick in patterns:
        if needle in text:
            return AgentRole(kind, what, quick)
    return None


def system_role(head: str) -> AgentRole | None:
    """The role the system prompt's head announces, if any (pure; callers may memoize)."""
    return _scan(head, _SYSTEM_PATTERNS)


def detect_role(
    harness: str,
    requested_model: str,
    headers: Mapping[str, str],
    conv: Conversation,
    max_tokens: int | None,
    by_system: Callable[[str], AgentRole | None] = system_role,
) -> AgentRole:
    """The role of this request (``headers`` lower-cased)."""
    announced = by_system(conv.system[:_HEAD])  # the harnesses put these prompts first
    return role_of(harness, requested_model, headers, conv, max_tokens, announced)


def role_of(
    harness: str,
    requested_model: str,
    headers: Mapping[str, str],
    conv: Conversation,
    max_tokens: int | None,
    announced: AgentRole | None,
) -> AgentRole:
    """``detect_role`` for a caller that has ``announced``: ``system_role`` of the system
    prompt's first 1500 characters."""
    sub = headers.get("x-openai-subagent")
    if sub:  # Codex marks its own subagent requests
        if sub == "compact":
            return AgentRole("background", "summary", True)
        return AgentRole("subagent", sub, False)
    if announced:
        return announced
    last = conv.last
    if last is not None and last.role == "user" and last.text:
        tail = last.text[-3000:]
        if _USER_WORD in tail:  # (cheap test first: every user pattern has the word)
            found = _scan(tail, _USER_PATTERNS)
            if found:
                return found
        if harness == "claude_code" and max_tokens == 1 and last.text.strip() == "quota":
            return AgentRole("background", "quota", True)
    if harness == "claude_code" and "haiku" in requested_model:  # a harness's small model
        return AgentRole("background", "small_model", True)
    return PRIMARY
