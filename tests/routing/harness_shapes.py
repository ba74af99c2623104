"""Request bodies and headers the way each harness sends them (for the labelled cases).

A conversation is written once in a neutral form -- ``U(text)`` (the human),
``A(text)`` (assistant prose), ``T(tool, args, result, error)`` (a tool call
and its result) -- and rendered in a harness's wire shape: Claude Code and
OpenCode-on-Anthropic (Messages), OpenCode and aider (chat completions), Codex
(Responses API input items), plain SDK calls. System prompts are shortened
excerpts of the real ones (first sentences kept verbatim where known).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import orjson
from tool_outputs import cc_result, codex_exec, codex_patch, file_lines, oc_result

CC_SYSTEM = (
    "You are Claude Code, Anthropic's official CLI for Claude.\n"
    "You are an interactive CLI tool that helps users with software engineering tasks. Use the "
    "instructions below and the tools available to you to assist the user.\n"
    "IMPORTANT: Assist with defensive security tasks only. ...\n# Tone and style\nYou should be "
    "concise, direct, and to the point. ...\n# Doing tasks\nThe user will primarily request you "
    "perform software engineering tasks. This includes solving bugs, adding new functionality, "
    "refactoring code, explaining code, and more. ...\n" + "x" * 1200
)
CC_TASK_SYSTEM = (
    "You are an agent for Claude Code, Anthropic's official CLI for Claude. Given the user's "
    "message, you should use the tools available to complete the task. Do what has been asked; "
    "nothing more, nothing less."
)
CC_EXPLORE_SYSTEM = (
    "You are a file search specialist for Claude Code, Anthropic's official CLI for Claude. You "
    "excel at thoroughly navigating and exploring codebases."
)
CC_TOPIC_SYSTEM = (
    "Analyze if this message indicates a new conversation topic. If it does, extract a 2-3 word "
    "title that captures the new topic. Format your response as a JSON object with two fields: "
    "'isNewTopic' (boolean) and 'title' (string, or null if isNewTopic is false)."
)
CC_PREFIX_SYSTEM = (
    "Your task is to process Bash commands that an AI coding agent wants to run. This policy "
    "spec defines how to determine the prefix of a Bash command:"
)
CC_SUMMARY_USER = (
    "Your task is to create a detailed summary of the conversation so far, paying close attention "
    "to the user's explicit requests and your previous actions."
)
OC_SYSTEM = (
    "You are opencode, an interactive CLI tool that helps users with software engineering tasks. "
    "Use the instructions below and the tools available to you to assist the user.\n" + "y" * 800
)
OC_TITLE_SYSTEM = (
    "You are a title generator. You output ONLY a thread title. Nothing else.\n<task>Generate a "
    "brief title that would help the user find this conversation later.</task>"
)
OC_SUMMARY_USER = (
    "Provide a detailed prompt for continuing our conversation above. Focus on information that "
    "would be helpful for continuing the conversation, including what we did, what we're doing, "
    "which files we're working on, and what we're going to do next."
)
CODEX_INSTRUCTIONS = (
    "You are Codex, based on GPT-5. You are running as a coding agent in the Codex CLI on a "
    "user's computer.\n## General\n- When searching for text or files, prefer using `rg` or "
    "`rg --files`. ...\n" + "z" * 900
)
AIDER_SYSTEM = (
    "Act as an expert software developer.\nAlways use best practices when coding.\nRespect and "
    "use existing conventions, libraries, etc that are already present in the code base.\n"
    "Once you understand the request you MUST:\n1. Decide if you need to propose *SEARCH/REPLACE* "
    "edits to any files that haven't been added to the chat. ...\n"
    "Every *SEARCH/REPLACE block* must use this format: ..."
)

CC_TOOLS = ["Task", "Bash", "Glob", "Grep", "Read", "Edit", "Write", "TodoWrite", "WebFetch"]
# Claude Code 2.1.x (/work/plan/samples): the subagent tool is ``Agent``.
CC2_TOOLS = ["Agent", "Bash", "Edit", "NotebookEdit", "Read", "Skill", "TaskCreate", "TaskList",
             "TaskUpdate", "WebFetch", "WebSearch", "Write"]  # fmt: skip
OC_TOOLS = ["bash", "edit", "write", "read", "grep", "glob", "list", "task", "todowrite"]


@dataclass(frozen=True)
class U:
    text: str


@dataclass(frozen=True)
class A:
    text: str


@dataclass(frozen=True)
class T:
    """A tool call and its result. ``result`` None (or the old stubs "ok"/"...") means what
    the harness really returns for that tool (tool_outputs.py); for ``read`` a given
    result is the file's content, rendered with the harness's line numbers."""

    tool: str  # read | edit | write | bash | grep | glob | task
    arg: str  # path, command, pattern or (task) the subagent's prompt
    result: str | None = None
    error: bool = False


Turn = U | A | T


def _uuid(seed: str, n: int = 0) -> str:
    h = hashlib.sha1(f"{seed}/{n}".encode()).hexdigest()
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:32]}"


def _cc_args(t: T, agent_tool: str = "Task") -> tuple[str, dict[str, Any]]:
    if t.tool == "read":
        return "Read", {"file_path": t.arg}
    if t.tool == "edit":
        lines = [ln for ln in file_lines(t.arg) if ln.strip()]
        old = lines[len(lines) // 2]
        return "Edit", {"file_path": t.arg, "old_string": old, "new_string": old + "  # updated"}
    if t.tool == "write":
        return "Write", {"file_path": t.arg, "content": "\n".join(file_lines(t.arg)) + "\n"}
    if t.tool == "grep":
        return "Grep", {"pattern": t.arg, "output_mode": "files_with_matches"}
    if t.tool == "glob":
        return "Glob", {"pattern": t.arg}
    if t.tool == "task":
        return agent_tool, {
            "description": t.arg[:40], "prompt": t.arg, "subagent_type": "general-purpose"
        }  # fmt: skip
    return "Bash", {"command": t.arg, "description": "Run " + t.arg.split()[0]}


def _oc_args(t: T) -> tuple[str, dict[str, Any]]:
    name, args = _cc_args(t)
    if "file_path" in args:
        args = {"filePath": args.pop("file_path"), **args}
    return name.lower(), args


def anthropic_messages(
    turns: list[Turn], reminder: bool, seed: str, agent_tool: str = "Task"
) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for i, turn in enumerate(turns):
        if isinstance(turn, U):
            blocks: list[dict[str, Any]] = []
            if reminder and i == 0:
                blocks.append({
                    "type": "text",
                    "text": "<system-reminder>\nAs you answer the user's questions, you can use "
                    "the following context:\n# claudeMd\n...\n</system-reminder>",
                })  # fmt: skip
            blocks.append({"type": "text", "text": turn.text})
            out.append({"role": "user", "content": blocks})
        elif isinstance(turn, A):
            out.append({"role": "assistant", "content": [{"type": "text", "text": turn.text}]})
        else:
            name, args = _cc_args(turn, agent_tool)
            tid = "toolu_" + _uuid(seed, i).replace("-", "")[:24]
            out.append({
                "role": "assistant",
                "content": [{"type": "tool_use", "id": tid, "name": name, "input": args}],
            })  # fmt: skip
            result: dict[str, Any] = {
                "type": "tool_result",
                "tool_use_id": tid,
                "content": cc_result(
                    turn.tool, turn.arg, turn.result, turn.error, v2=agent_tool == "Agent"
                ),
            }
            if turn.error:
                result["is_error"] = True
            out.append({"role": "user", "content": [result]})
    return out


def openai_messages(system: str, turns: list[Turn], seed: str, oc: bool) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = [{"role": "system", "content": system}] if system else []
    for i, turn in enumerate(turns):
        if isinstance(turn, U):
            out.append({"role": "user", "content": turn.text})
        elif isinstance(turn, A):
            out.append({"role": "assistant", "content": turn.text})
        else:
            name, args = _oc_args(turn) if oc else _cc_args(turn)
            cid = "call_" + _uuid(seed, i).replace("-", "")[:24]
            fn = {"name": name, "arguments": orjson.dumps(args).decode()}
            out.append({
                "role": "assistant",
                "content": None,
                "tool_calls": [{"id": cid, "type": "function", "function": fn}],
            })  # fmt: skip
            if oc:
                text = oc_result(turn.tool, turn.arg, turn.result, turn.error)
            else:
                text = cc_result(turn.tool, turn.arg, turn.result, turn.error)
            out.append({"role": "tool", "tool_call_id": cid, "content": text})
    return out


def responses_input(turns: list[Turn], seed: str) -> list[dict[str, Any]]:
    env = (
        "<environment_context>\n  <cwd>/home/dev/project</cwd>\n  <approval_policy>on-request"
        "</approval_policy>\n  <sandbox_mode>workspace-write</sandbox_mode>\n"
        "</environment_context>"
    )
    out: list[dict[str, Any]] = [
        {"type": "message", "role": "user", "content": [{"type": "input_text", "text": env}]}
    ]
    for i, turn in enumerate(turns):
        cid = "call_" + _uuid(seed, i).replace("-", "")[:24]
        if isinstance(turn, U):
            out.append({
                "type": "message", "role": "user",
                "content": [{"type": "input_text", "text": turn.text}],
            })  # fmt: skip
        elif isinstance(turn, A):
            out.append({
                "type": "message", "role": "assistant",
                "content": [{"type": "output_text", "text": turn.text}],
            })  # fmt: skip
        elif turn.tool in ("edit", "write"):
            verb = "Add" if turn.tool == "write" else "Update"
            body = "\n".join("+" + ln for ln in file_lines(turn.arg)[:6])
            patch = f"*** Begin Patch\n*** {verb} File: {turn.arg}\n@@\n{body}\n*** End Patch\n"
            out.append(
                {"type": "custom_tool_call", "call_id": cid, "name": "apply_patch", "input": patch}
            )
            output = turn.result if turn.result not in (None, "ok", "...") else None
            output = output or codex_patch(turn.arg, turn.tool == "write")
            out.append({"type": "custom_tool_call_output", "call_id": cid, "output": output})
        else:
            cmd = turn.arg if turn.tool == "bash" else f"rg -n '{turn.arg}'"
            given = turn.result
            if turn.tool == "read":
                cmd = f"sed -n '1,200p' {turn.arg}"
                given = "\n".join(file_lines(turn.arg, turn.result))
            args = orjson.dumps({"cmd": cmd, "workdir": "/home/dev/project"}).decode()
            out.append(
                {"type": "function_call", "call_id": cid, "name": "exec_command", "arguments": args}
            )
            text = codex_exec(cmd, given, turn.error, seed)
            out.append({"type": "function_call_output", "call_id": cid, "output": text})
    return out


def claude_code(
    turns: list[Turn],
    seed: str,
    *,
    model: str = "claude-sonnet-4-5",
    system: str = CC_SYSTEM,
    max_tokens: int = 32000,
    tools: list[str] | None = None,
) -> tuple[str, dict[str, str], dict[str, Any]]:
    session = _uuid(seed)
    body: dict[str, Any] = {
        "model": model,
        "max_tokens": max_tokens,
        "system": [
            {"type": "text", "text": "You are Claude Code, Anthropic's official CLI for Claude."},
            {"type": "text", "text": system, "cache_control": {"type": "ephemeral"}},
        ]
        if system == CC_SYSTEM
        else [{"type": "text", "text": system}],
        "messages": anthropic_messages(turns, system == CC_SYSTEM, seed),
        "tools": [{"name": t, "input_schema": {"type": "object"}} for t in (tools or CC_TOOLS)],
        "metadata": {"user_id": f"user_{'ab' * 32}_account_{_uuid('acct')}_session_{session}"},
        "stream": True,
    }
    headers = {
        "user-agent": "claude-cli/2.0.14 (external, cli)",
        "x-app": "cli",
        "anthropic-version": "2023-06-01",
        "anthropic-beta": "claude-code-20250219,interleaved-thinking-2025-05-14",
    }
    return "anthropic", headers, body


CC2_REMINDER = (
    "<system-reminder>\nAs you answer the user's questions, you can use the following context:\n"
    "# currentDate\nToday's date is 2026-11-21.\n\n      IMPORTANT: this context may or may not be "
    "relevant to your tasks. You should not respond to this context unless it is highly relevant "
    "to your task.\n</system-reminder>\n\n"
)
CC2_AGENTS = (
    "Available agent types for the Agent tool:\n- claude: Catch-all for any task that doesn't fit "
    "a more specific agent. (Tools: *)\n- Explore: Read-only search agent for broad fan-out "
    "searches. (Tools: All tools except Agent, Edit, Write, NotebookEdit)\n- Plan: Software "
    "architect agent for designing implementation plans. (Tools: All tools except Agent, Edit, "
    "Write, NotebookEdit)\n"
)


def claude_code2(
    turns: list[Turn], seed: str, *, model: str = "claude-opus-4-8"
) -> tuple[str, dict[str, str], dict[str, Any]]:
    """Claude Code 2.1.x, shaped like /work/plan/samples/claude_code_2.1.197_first_request.json:
    the session in a header and in ``metadata.user_id`` (a JSON string), a billing header
    block first in ``system``, adaptive thinking, a mid-conversation ``system`` message
    listing the agent types, the ``Agent`` subagent tool."""
    session = _uuid(seed)
    messages = anthropic_messages(turns, False, seed, agent_tool="Agent")
    first = messages[0]["content"]
    first.insert(0, {"type": "text", "text": CC2_REMINDER})
    first[-1] = {**first[-1], "cache_control": {"type": "ephemeral"}}
    messages.insert(1, {"role": "system", "content": CC2_AGENTS})
    user_id = orjson.dumps({"device_id": "9e" * 32, "account_uuid": "", "session_id": session})
    body: dict[str, Any] = {
        "model": model,
        "messages": messages,
        "system": [
            {"type": "text", "text": "x-anthropic-billing-header: cc_version=2.1.197.123; "
             "cc_entrypoint=cli;"},
            {"type": "text", "text": "You are Claude Code, Anthropic's official CLI for Claude.",
             "cache_control": {"type": "ephemeral"}},
            {"type": "text", "text": CC_SYSTEM.split("\n", 1)[1]},
        ],
        "tools": [{"name": t, "input_schema": {"type": "object"}} for t in CC2_TOOLS],
        "metadata": {"user_id": user_id.decode()},
        "max_tokens": 64000,
        "thinking": {"type": "adaptive"},
        "context_management": {"edits": [{"type": "clear_thinking_20251015", "keep": "all"}]},
        "output_config": {"effort": "high"},
        "stream": True,
    }  # fmt: skip
    headers = {
        "user-agent": "claude-cli/2.1.197 (external, cli)",
        "x-app": "cli",
        "x-claude-code-session-id": session,
        "anthropic-version": "2023-06-01",
        "anthropic-beta": "claude-code-20250219,context-1m-2025-08-07,interleaved-thinking-"
        "2025-05-14,context-management-2025-06-27,mid-conversation-system-2026-04-07",
    }
    return "anthropic", headers, body


def opencode(
    turns: list[Turn], seed: str, *, model: str = "auto", system: str = OC_SYSTEM
) -> tuple[str, dict[str, str], dict[str, Any]]:
    body: dict[str, Any] = {
        "model": model,
        "messages": openai_messages(system, turns, seed, oc=True),
        "tools": [
            {"type": "function", "function": {"name": t, "parameters": {}}} for t in OC_TOOLS
        ],
        "max_tokens": 32000,
        "stream": True,
    }
    headers = {
        "user-agent": "opencode/0.15.8 ai-sdk/provider-utils/3.0.9",
        "x-session-affinity": _uuid(seed),
    }
    return "openai", headers, body


def codex(
    turns: list[Turn], seed: str, *, model: str = "gpt-5-codex", subagent: str | None = None
) -> tuple[str, dict[str, str], dict[str, Any]]:
    conv = _uuid(seed)
    body: dict[str, Any] = {
        "model": model,
        "instructions": CODEX_INSTRUCTIONS,
        "input": responses_input(turns, seed),
        "tools": [
            {"type": "function", "name": "exec_command", "parameters": {}},
            {"type": "function", "name": "write_stdin", "parameters": {}},
            {"type": "custom", "name": "apply_patch"},
            {"type": "function", "name": "update_plan", "parameters": {}},
        ],
        "reasoning": {"effort": "medium", "summary": "auto"},
        "store": False,
        "stream": True,
        "prompt_cache_key": conv,
    }
    headers = {
        "user-agent": "codex_cli_rs/0.46.0 (Ubuntu 24.4.0; x86_64) xterm-256color",
        "originator": "codex_cli_rs",
        "session_id": conv,
    }
    if subagent:
        headers["x-openai-subagent"] = subagent
    return "responses", headers, body


def aider(
    turns: list[Turn], seed: str, *, model: str = "gpt-4.1", system: str = AIDER_SYSTEM
) -> tuple[str, dict[str, str], dict[str, Any]]:
    body = {
        "model": model,
        "messages": openai_messages(system, turns, seed, oc=False),
        "stream": True,
    }
    return "openai", {"user-agent": "litellm/1.77.5"}, body


def sdk_openai(
    text: str | list[Turn], *, model: str = "gpt-4o", system: str = ""
) -> tuple[str, dict[str, str], dict[str, Any]]:
    turns: list[Turn] = [U(text)] if isinstance(text, str) else text
    body = {"model": model, "messages": openai_messages(system, turns, str(turns[0]), oc=False)}
    return "openai", {"user-agent": "OpenAI/Python 1.109.1"}, body


def sdk_anthropic(
    text: str, *, model: str = "claude-sonnet-4-5", system: str = ""
) -> tuple[str, dict[str, str], dict[str, Any]]:
    body: dict[str, Any] = {
        "model": model, "max_tokens": 1024, "messages": [{"role": "user", "content": text}]
    }  # fmt: skip
    if system:
        body["system"] = system
    return "anthropic", {"user-agent": "Anthropic/Python 0.69.0"}, body
