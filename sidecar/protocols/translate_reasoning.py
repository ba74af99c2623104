"""Signed reasoning across an OpenAI-compatible provider (OpenRouter's ``reasoning_details``).

OpenRouter serving Claude returns Claude's thinking as ``reasoning_details``
entries: ``{"type": "reasoning.text", "text", "signature", "format":
"anthropic-claude-v1", "index"}`` and, for redacted thinking,
``{"type": "reasoning.encrypted", "data", "format"}``; it takes them back on
assistant messages to continue the reasoning (required by Claude inside a tool
loop). For an Anthropic client they become ``thinking`` / ``redacted_thinking``
blocks whose signature is tagged with the provider that issued it
(``anthropic.tag_signature``, as on the identity path); on the way back only
blocks tagged with *this* provider are sent as ``reasoning_details``, with the
original signature. Blocks tagged for another provider, untagged signatures and
other formats (OpenAI's or Gemini's encrypted reasoning, summaries) are never
sent signed: their text stays plain reasoning, their opaque data is dropped.

Pure functions over wire dicts.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sidecar.protocols import anthropic as wa
from sidecar.protocols import openai as wo

CLAUDE_FORMAT = "anthropic-claude-v1"


def _claude(detail: Mapping[str, Any]) -> bool:
    return detail.get("format") in (CLAUDE_FORMAT, None)


def thinking_blocks(msg: Mapping[str, Any], provider: str) -> list[dict[str, Any]]:
    """Anthropic thinking blocks for a chat message's reasoning: from ``reasoning_details``
    when it carries Claude's signed or redacted thinking, else one unsigned block from
    the reasoning text (none when there is no reasoning)."""
    details = msg.get("reasoning_details")
    blocks: list[dict[str, Any]] = []
    signed = False
    for detail in details if isinstance(details, list) else []:
        if not isinstance(detail, Mapping):
            continue
        kind = detail.get("type")
        sig = detail.get("signature")
        if kind == "reasoning.text" and _claude(detail) and isinstance(sig, str) and sig:
            text = str(detail.get("text") or "")
            blocks.append(
                {"type": "thinking", "thinking": text, "signature": wa.tag_signature(sig, provider)}
            )
            signed = True
        elif kind == "reasoning.encrypted" and _claude(detail) and detail.get("data"):
            data = wa.tag_signature(str(detail["data"]), provider)
            blocks.append({"type": "redacted_thinking", "data": data})
            signed = True
        elif kind == "reasoning.text" and detail.get("text"):
            blocks.append({"type": "thinking", "thinking": str(detail["text"]), "signature": ""})
    if signed:
        return blocks
    text = wo.reasoning_text(msg)
    return [{"type": "thinking", "thinking": text, "signature": ""}] if text else []


def _own(value: Any, provider: str) -> str | None:
    """The original signature of a value tagged as issued by ``provider``; else None."""
    if not isinstance(value, str) or not value.startswith(wa.SIGNATURE_TAG):
        return None
    issuer, _, original = value[len(wa.SIGNATURE_TAG) :].partition(":")
    return original if issuer == provider and original else None


def reasoning_details(content: list[Any], provider: str) -> list[dict[str, Any]]:
    """``reasoning_details`` for an assistant turn's thinking blocks that ``provider``
    issued (tagged with its name); [] when there are none."""
    out: list[dict[str, Any]] = []
    for block in content:
        if not isinstance(block, Mapping):
            continue
        if block.get("type") == "thinking":
            sig = _own(block.get("signature"), provider)
            if sig:
                text = str(block.get("thinking") or "")
                out.append(
                    {"type": "reasoning.text", "text": text, "signature": sig,
                     "format": CLAUDE_FORMAT, "index": len(out)}
                )  # fmt: skip
        elif block.get("type") == "redacted_thinking":
            data = _own(block.get("data"), provider)
            if data:
                out.append(
                    {"type": "reasoning.encrypted", "data": data,
                     "format": CLAUDE_FORMAT, "index": len(out)}
                )  # fmt: skip
    return out


class StreamSignatures:
    """Per stream: the signature of Claude's thinking in ``reasoning_details`` deltas.

    ``feed(delta)`` returns the tagged signatures (for ``signature_delta`` on the open
    thinking block) and the tagged redacted-thinking data (one block each) it carries.
    """

    def __init__(self, provider: str) -> None:
        self._provider = provider

    def feed(self, delta: Mapping[str, Any]) -> tuple[list[str], list[str]]:
        details = delta.get("reasoning_details")
        signatures: list[str] = []
        redacted: list[str] = []
        for detail in details if isinstance(details, list) else []:
            if not isinstance(detail, Mapping) or not _claude(detail):
                continue
            sig = detail.get("signature")
            if detail.get("type") == "reasoning.text" and isinstance(sig, str) and sig:
                signatures.append(wa.tag_signature(sig, self._provider))
            elif detail.get("type") == "reasoning.encrypted" and detail.get("data"):
                redacted.append(wa.tag_signature(str(detail["data"]), self._provider))
        return signatures, redacted
