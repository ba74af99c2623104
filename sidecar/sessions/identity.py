"""Which agent session a request belongs to, which harness sent it, and its role.

``identify(protocol, body, headers, conv)`` is pure and cheap (a fixed number of
header lookups, the first 2 KiB of the system prompt and first user message).

Session id, first match wins:

1. ``x-tierline-session``;
2. Claude Code: ``X-Claude-Code-Session-Id``, else the session part of
   ``metadata.user_id`` (``user_..._account_..._session_<uuid>`` or a JSON
   string with ``session_id``);
3. OpenCode: ``x-session-id``, ``x-session-affinity``;
4. Codex CLI: ``session_id`` / ``conversation_id`` headers, else the Responses
   ``prompt_cache_key`` it sets to the conversation id;
5. else ``h:`` + a stable hash of the system prompt and the first user message.

``thread`` additionally separates conversations that share a session id (a
Claude Code subagent runs under the parent's session id with its own system
prompt and first message), so per-conversation cursors never mix.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Mapping
from typing import Any, NamedTuple

import orjson

from sidecar.protocols.conversation import Conversation

_CC_SESSION = re.compile(r"_session_([0-9a-fA-F-]{8,})")
_FIRST_ID_HEADERS = ("x-tierline-session", "x-claude-code-session-id")
_HARNESS_ID_HEADERS = (
    "x-session-id",
    "x-session-affinity",
    "session_id",
    "session-id",
    "conversation_id",
)
_ID_HEADERS = frozenset({*_FIRST_ID_HEADERS, *_HARNESS_ID_HEADERS})
_HEADER_KEYS = frozenset({*_ID_HEADERS, "user-agent", "x-app", "originator", "x-openai-subagent"})
_HEAD = 1500  # how much of the system prompt names the harness


class Identity(NamedTuple):
    session_id: str
    thread: str  # session_id + conversation fingerprint: key for per-conversation state
    harness: str  # claude_code | opencode | codex | aider | openhands | sdk | unknown
    source: str  # which signal gave the session id


def wanted(low: str, extra: frozenset[str] = frozenset()) -> bool:
    """Is a header (lower-case name) one the router reads? (see ``lower_headers``)"""
    return low in _HEADER_KEYS or low.startswith("x-tierline-") or low in extra


def lower_headers(
    headers: Mapping[str, str], extra: frozenset[str] = frozenset()
) -> dict[str, str]:
    """The few headers the router reads, with lower-case names: the harness and session
    headers, every ``x-tierline-*`` one, and ``extra`` (lower-case names: the headers
    ``[[routing.rules]]`` match on). A name given twice: the last value."""
    out: dict[str, str] = {}
    for key, value in headers.items():
        low = key.lower()
        if wanted(low, extra):
            out[low] = value
    return out


def _claude_user_id(body: Mapping[str, Any]) -> str | None:
    meta = body.get("metadata")
    uid = meta.get("user_id") if isinstance(meta, Mapping) else None
    if not isinstance(uid, str) or not uid:
        return None
    if uid.startswith("{"):
        try:
            data = orjson.loads(uid)
        except orjson.JSONDecodeError:
            return None
        sid = data.get("session_id") if isinstance(data, dict) else None
        return sid if isinstance(sid, str) and sid else None
    m = _CC_SESSION.search(uid)
    return m.group(1) if m else None


def head_marks(head: str) -> frozenset[str]:
    """The harnesses a system prompt's head (its first 1500 characters) names (pure;
    callers may memoize it by ``head``)."""
    marks = []
    if "Claude Code" in head or "Claude Agent SDK" in head:
        marks.append("claude_code")
    if "You are opencode" in head:
        marks.append("opencode")
    if "You are Codex" in head or "Codex CLI" in head:
        marks.append("codex")
    if "SEARCH/REPLACE" in head:
        marks.append("aider")
    if "You are OpenHands agent" in head:
        marks.append("openhands")
    return frozenset(marks)


def harness_of(h: Mapping[str, str], marks: frozenset[str]) -> str:
    """The harness from the headers (``lower_headers``) and the system prompt's
    ``head_marks``; first match wins, in this order."""
    ua = h.get("user-agent", "").lower()
    if (
        "x-claude-code-session-id" in h
        or ua.startswith("claude-cli")
        or h.get("x-app") == "cli"
        or "claude_code" in marks
    ):
        return "claude_code"
    if "opencode" in ua or "x-session-affinity" in h or "opencode" in marks:
        return "opencode"
    if (
        "codex" in ua
        or "codex" in h.get("originator", "")
        or "x-openai-subagent" in h
        or "codex" in marks
    ):
        return "codex"
    if "aider" in marks or "aider" in ua:
        return "aider"
    if "openhands" in marks or "openhands" in ua:  # UA is LiteLLM's or the SDK's
        return "openhands"
    if "openai/" in ua or "anthropic/" in ua or "python" in ua or "node" in ua or "httpx" in ua:
        return "sdk"
    return "unknown"


def detect_harness(h: Mapping[str, str], system: str, body: Mapping[str, Any]) -> str:
    return harness_of(h, head_marks(system[:_HEAD]))


def fingerprint(conv: Conversation) -> str:
    """Stable 8-hex-digit hash of the system prompt head and first user message."""
    system = conv.system
    crc = zlib.crc32(system[:2048].encode("utf-8", "replace"), len(system))
    crc = zlib.crc32(conv.first_user_text()[:2048].encode("utf-8", "replace"), crc)
    return "%08x" % crc  # noqa: UP031 (cheaper than a format spec: ~1k instructions)


def _explicit_id(h: Mapping[str, str], body: Mapping[str, Any]) -> tuple[str, str] | None:
    ids = not _ID_HEADERS.isdisjoint(h)  # (usually none, or one)
    if ids:
        for key in _FIRST_ID_HEADERS:
            if h.get(key):
                return h[key], key
    uid = _claude_user_id(body) if "metadata" in body else None
    if uid:
        return uid, "metadata.user_id"
    if ids:
        for key in _HARNESS_ID_HEADERS:
            if h.get(key):
                return h[key], key
    cache_key = body.get("prompt_cache_key")
    if isinstance(cache_key, str) and cache_key:
        return cache_key, "prompt_cache_key"
    return None


def identify(
    body: Mapping[str, Any],
    headers: Mapping[str, str],
    conv: Conversation,
    harness: str | None = None,
) -> Identity:
    """Session id, conversation thread key and harness for one request.

    ``headers`` should come from ``lower_headers``; ``harness``: ``detect_harness``'s
    answer when the caller has it.
    """
    fp = fingerprint(conv)
    found = _explicit_id(headers, body)
    sid, source = found if found else ("h:" + fp, "hash")
    if harness is None:
        harness = detect_harness(headers, conv.system, body)
    # tuple.__new__: the NamedTuple without its generated __new__'s Python frame (~2k instructions)
    return tuple.__new__(Identity, (sid, sid + "/" + fp, harness, source))
