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
from dataclasses import dataclass
from typing import Any

import orjson

from sidecar.protocols.conversation import Conversation

_CC_SESSION = re.compile(r"_session_([0-9a-fA-F-]{8,})")
_HARNESS_ID_HEADERS = (
    "x-session-id",
    "x-session-affinity",
    "session_id",
    "session-id",
    "conversation_id",
)
_HEADER_KEYS = (
    "x-tierline-session",
    "x-claude-code-session-id",
    "x-session-id",
    "x-session-affinity",
    "session_id",
    "session-id",
    "conversation_id",
    "user-agent",
    "x-app",
    "originator",
    "x-openai-subagent",
)


@dataclass(frozen=True)
class Identity:
    session_id: str
    thread: str  # session_id + conversation fingerprint: key for per-conversation state
    harness: str  # claude_code | opencode | codex | aider | openhands | sdk | unknown
    source: str  # which signal gave the session id


def lower_headers(
    headers: Mapping[str, str], extra: frozenset[str] = frozenset()
) -> dict[str, str]:
    """The few headers the router reads, with lower-case names: the harness and session
    headers, every ``x-tierline-*`` one, and ``extra`` (lower-case names: the headers
    ``[[routing.rules]]`` match on)."""
    out: dict[str, str] = {}
    for key, value in headers.items():
        low = key.lower()
        if low in _HEADER_KEYS or low.startswith("x-tierline-") or low in extra:
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


def detect_harness(h: Mapping[str, str], system: str, body: Mapping[str, Any]) -> str:
    ua = h.get("user-agent", "").lower()
    head = system[:1500]
    if (
        "x-claude-code-session-id" in h
        or ua.startswith("claude-cli")
        or h.get("x-app") == "cli"
        or "Claude Code" in head
        or "Claude Agent SDK" in head
    ):
        return "claude_code"
    if "opencode" in ua or "x-session-affinity" in h or "You are opencode" in head:
        return "opencode"
    if "codex" in ua or "codex" in h.get("originator", "") or "x-openai-subagent" in h:
        return "codex"
    if "You are Codex" in head or "Codex CLI" in head:
        return "codex"
    if "SEARCH/REPLACE" in head or "aider" in ua:
        return "aider"
    if "You are OpenHands agent" in head or "openhands" in ua:  # UA is LiteLLM's or the SDK's
        return "openhands"
    if any(s in ua for s in ("openai/", "anthropic/", "python", "node", "httpx")):
        return "sdk"
    return "unknown"


def fingerprint(conv: Conversation) -> str:
    """Stable 8-hex-digit hash of the system prompt head and first user message."""
    system = conv.system
    crc = zlib.crc32(system[:2048].encode("utf-8", "replace"), len(system))
    crc = zlib.crc32(conv.first_user_text()[:2048].encode("utf-8", "replace"), crc)
    return f"{crc:08x}"


def _explicit_id(h: Mapping[str, str], body: Mapping[str, Any]) -> tuple[str, str] | None:
    for key in ("x-tierline-session", "x-claude-code-session-id"):
        if h.get(key):
            return h[key], key
    uid = _claude_user_id(body)
    if uid:
        return uid, "metadata.user_id"
    for key in _HARNESS_ID_HEADERS:
        if h.get(key):
            return h[key], key
    cache_key = body.get("prompt_cache_key")
    if isinstance(cache_key, str) and cache_key:
        return cache_key, "prompt_cache_key"
    return None


def identify(body: Mapping[str, Any], headers: Mapping[str, str], conv: Conversation) -> Identity:
    """Session id, conversation thread key and harness for one request.

    ``headers`` should come from ``lower_headers``.
    """
    fp = fingerprint(conv)
    found = _explicit_id(headers, body)
    sid, source = found if found else (f"h:{fp}", "hash")
    harness = detect_harness(headers, conv.system, body)
    return Identity(session_id=sid, thread=f"{sid}/{fp}", harness=harness, source=source)
