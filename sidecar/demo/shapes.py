"""Requests shaped as Claude Code and OpenCode send them (pure data, no I/O).

Claude Code (2.x) talks Anthropic Messages: ``POST /v1/messages?beta=true``,
``anthropic-beta`` flags, ``x-app: cli``, a two-block system prompt with
``cache_control``, ``metadata.user_id`` carrying the session, its tool set
(Bash, Read, Edit, Write, Glob, Grep, TodoWrite) and tool results as
``tool_result`` blocks in the next user message; it always streams.
OpenCode (through the AI SDK's OpenAI-compatible provider) talks Chat
Completions: system messages first, ``tools`` as functions, ``stream`` with
``stream_options.include_usage``, tool results as ``role: tool`` messages, and
an ``x-session-id`` header.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

CLAUDE_CODE_VERSION = "2.0.14"
OPENCODE_VERSION = "0.15.2"
CLAUDE_SESSION = "5f0c3a52-7d1e-4c59-9a8e-2b6d1c0e4f17"
CLAUDE_USER_ID = (
    "user_3b1f0e8c2a9d47b6a1c5e2f4d6b8a0c1e3f5a7b9c2d4e6f8a0b1c3d5e7f9a1b3"
    f"_account__session_{CLAUDE_SESSION}"
)
OPENCODE_SESSION = "ses_6a1e2c9b4ffe8QmZ3kTt1yV0aJ"

_CC_SYSTEM_INTRO = "You are Claude Code, Anthropic's official CLI for Claude."
_CC_SYSTEM = (
    "You are an interactive CLI tool that helps users with software engineering tasks. "
    "Use the instructions below and the tools available to you to assist the user.\n\n"
    "# Tone and style\nYou should be concise, direct, and to the point.\n\n"
    "# Doing tasks\nUse the TodoWrite tool to plan the task if required. Use the available "
    "search tools to understand the codebase. Implement the solution using all tools "
    "available to you. Verify the solution if possible with tests.\n\n"
    "<env>\nWorking directory: /home/dev/shop\nIs directory a git repo: Yes\n"
    "Platform: linux\nToday's date: 2026-11-21\n</env>\n"
    "You are powered by the model named Opus 4.5."
)
_CC_TOPIC = (
    "Analyze if this message indicates a new conversation topic. If it does, extract a 2-3 "
    "word title that captures the new topic. Format your response as a JSON object with two "
    "fields: 'isNewTopic' (boolean) and 'title' (string, or null)."
)


def _schema(required: Sequence[str], **props: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": dict(props),
        "required": list(required),
        "additionalProperties": False,
        "$schema": "http://json-schema.org/draft-07/schema#",
    }


_S = {"type": "string"}
_N = {"type": "number"}
_B = {"type": "boolean"}

CLAUDE_CODE_TOOLS: tuple[dict[str, Any], ...] = (
    {
        "name": "Bash",
        "description": "Executes a given bash command in a persistent shell session.",
        "input_schema": _schema(["command"], command=_S, timeout=_N, description=_S),
    },
    {
        "name": "Glob",
        "description": "Fast file pattern matching tool that works with any codebase size.",
        "input_schema": _schema(["pattern"], pattern=_S, path=_S),
    },
    {
        "name": "Grep",
        "description": "A powerful search tool built on ripgrep.",
        "input_schema": _schema(["pattern"], pattern=_S, path=_S, glob=_S),
    },
    {
        "name": "Read",
        "description": "Reads a file from the local filesystem.",
        "input_schema": _schema(["file_path"], file_path=_S, offset=_N, limit=_N),
    },
    {
        "name": "Edit",
        "description": "Performs exact string replacements in files.",
        "input_schema": _schema(
            ["file_path", "old_string", "new_string"],
            file_path=_S,
            old_string=_S,
            new_string=_S,
            replace_all=_B,
        ),
    },
    {
        "name": "Write",
        "description": "Writes a file to the local filesystem.",
        "input_schema": _schema(["file_path", "content"], file_path=_S, content=_S),
    },
    {
        "name": "TodoWrite",
        "description": "Use this tool to create and manage a structured task list.",
        "input_schema": _schema(["todos"], todos={"type": "array", "items": {"type": "object"}}),
    },
)

OPENCODE_TOOLS: tuple[dict[str, Any], ...] = tuple(
    {"type": "function", "function": {"name": name, "description": desc, "parameters": params}}
    for name, desc, params in (
        (
            "bash",
            "Executes a bash command",
            _schema(["command", "description"], command=_S, description=_S),
        ),
        ("read", "Reads a file", _schema(["filePath"], filePath=_S, offset=_N, limit=_N)),
        (
            "edit",
            "Performs exact string replacements in files",
            _schema(
                ["filePath", "oldString", "newString"], filePath=_S, oldString=_S, newString=_S
            ),
        ),
        ("write", "Writes a file", _schema(["filePath", "content"], filePath=_S, content=_S)),
        ("grep", "Searches file contents", _schema(["pattern"], pattern=_S, path=_S)),
    )
)


def claude_code_headers(api_key: str) -> dict[str, str]:
    """The headers Claude Code sends on every Messages request."""
    return {
        "accept": "application/json",
        "anthropic-beta": (
            "claude-code-20250219,interleaved-thinking-2025-05-14,"
            "fine-grained-tool-streaming-2025-05-14"
        ),
        "anthropic-dangerous-direct-browser-access": "true",
        "anthropic-version": "2023-06-01",
        "content-type": "application/json",
        "user-agent": f"claude-cli/{CLAUDE_CODE_VERSION} (external, cli)",
        "x-api-key": api_key,
        "x-app": "cli",
        "x-stainless-lang": "js",
        "x-stainless-package-version": "0.60.0",
        "x-stainless-runtime": "node",
        "x-stainless-retry-count": "0",
        "x-stainless-timeout": "600",
    }


def claude_code_body(
    model: str, messages: Sequence[Mapping[str, Any]], *, background: bool = False
) -> dict[str, Any]:
    """A Claude Code main-loop request (or a background one: no tools, small budget).

    The last content block of the last message carries ``cache_control``, as
    Claude Code marks the conversation tail for prompt caching.
    """
    tail = [dict(m) for m in messages]
    content = tail[-1]["content"]
    if isinstance(content, list) and content:
        tail[-1]["content"] = [
            *content[:-1],
            {**content[-1], "cache_control": {"type": "ephemeral"}},
        ]
    body: dict[str, Any] = {
        "model": model,
        "messages": tail,
        "system": [
            {"type": "text", "text": _CC_SYSTEM_INTRO, "cache_control": {"type": "ephemeral"}},
            {"type": "text", "text": _CC_SYSTEM, "cache_control": {"type": "ephemeral"}},
        ],
        "metadata": {"user_id": CLAUDE_USER_ID},
        "max_tokens": 512 if background else 32000,
        "stream": True,
    }
    if background:
        body["system"] = [
            {"type": "text", "text": _CC_SYSTEM_INTRO},
            {"type": "text", "text": _CC_TOPIC},
        ]
    else:
        body["tools"] = [dict(t) for t in CLAUDE_CODE_TOOLS]
        body["temperature"] = 1
    return body


def claude_user(text: str) -> dict[str, Any]:
    reminder = (
        "<system-reminder>\nAs you answer the user's questions, you can use the following "
        "context: the repository uses pytest.\n</system-reminder>"
    )
    return {
        "role": "user",
        "content": [{"type": "text", "text": reminder}, {"type": "text", "text": text}],
    }


def claude_tool_result(tool_use_id: str, text: str, *, is_error: bool = False) -> dict[str, Any]:
    block: dict[str, Any] = {"tool_use_id": tool_use_id, "type": "tool_result", "content": text}
    if is_error:
        block["is_error"] = True
    return {"role": "user", "content": [block]}


def opencode_headers(api_key: str) -> dict[str, str]:
    return {
        "authorization": f"Bearer {api_key}",
        "content-type": "application/json",
        "user-agent": f"opencode/{OPENCODE_VERSION} ai-sdk/provider-utils/3.0.9 runtime/bun/1.2.21",
        "x-session-id": OPENCODE_SESSION,
    }


_OPENCODE_SYSTEM = (
    "You are opencode, an interactive CLI tool that helps users with software engineering "
    "tasks. Use the instructions below and the tools available to you to assist the user.\n"
    "<env>\n  Working directory: /home/dev/shop\n  Is directory a git repo: yes\n"
    "  Platform: linux\n</env>"
)


def opencode_body(
    model: str, messages: Sequence[Mapping[str, Any]], *, title: bool = False
) -> dict[str, Any]:
    """An OpenCode agent-loop request, or its non-streaming title request."""
    if title:
        system = "You are a title generator. You output ONLY a thread title. Nothing else."
        return {
            "model": model,
            "max_tokens": 1500,
            "messages": [{"role": "system", "content": system}, *messages],
        }
    return {
        "model": model,
        "max_tokens": 32000,
        "temperature": 0,
        "messages": [{"role": "system", "content": _OPENCODE_SYSTEM}, *messages],
        "tools": [dict(t) for t in OPENCODE_TOOLS],
        "tool_choice": "auto",
        "stream": True,
        "stream_options": {"include_usage": True},
    }


def opencode_tool_result(tool_call_id: str, text: str) -> dict[str, Any]:
    return {"role": "tool", "tool_call_id": tool_call_id, "content": text}
