"""Real coding agents end to end through tierline (issue 5, point 6).

Each test runs one agent CLI non-interactively (see ``e2e_agents``) against
tierline, which routes its requests (``auto``) to an OpenAI-protocol fake
provider answering with scripted tool calls. The agent really writes
``greet.py``, edits it and runs ``git commit`` in a temporary repository. The
test checks the file, the commit, what reached the provider, and that
tierline's ``/metrics`` counted the lines added and removed and the commit.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import e2e_agents as sc
import pytest
from prometheus_client.parser import text_string_to_metric_families

pytestmark = pytest.mark.slow
RunAgent = Callable[[str, Path], dict[str, Any]]  # the ``agent_run`` fixture (conftest.py)


def metric(result: dict[str, Any], name: str, **labels: str) -> float:
    """Sum of the samples of ``name`` whose labels include ``labels``."""
    total = 0.0
    text = "\n".join(result["metrics"]) + "\n"
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                total += sample.value
    return total


def git(workdir: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=workdir, check=True, capture_output=True, text=True
    ).stdout.strip()


def check_session(result: dict[str, Any], workdir: Path) -> None:
    """What every agent's session must have done, seen from the repo, the fake and tierline."""
    context = json.dumps({k: result[k] for k in ("returncode", "stdout", "stderr")})[-3000:]
    assert not result["timed_out"], context
    assert result["returncode"] == 0, context
    # The files and the commit, as the agent made them.
    assert (workdir / sc.FILE).read_text() == sc.FINAL
    assert git(workdir, "log", "-1", "--format=%s") == sc.COMMIT_MESSAGE
    assert git(workdir, "show", "--format=", "--name-only", "HEAD") == sc.FILE
    assert git(workdir, "status", "--porcelain", "--", sc.FILE) == ""
    assert git(workdir, "show", f"HEAD:{sc.FILE}") == sc.FINAL.rstrip("\n")
    # Every model call went through tierline to the OpenAI-protocol fake; the script ran out.
    requests = result["requests"]
    assert requests and {r["path"] for r in requests} == {"/v1/chat/completions"}
    chats = [r for r in requests if r["model"] == sc.FAKE_MODEL]
    assert {r["model"] for r in requests} <= {sc.FAKE_MODEL, sc.FAKE_SIDE_MODEL}
    scripted = sc.SCENARIOS[result["agent"]].replies(workdir)
    assert result["scripts_left"] == 0 and len(chats) == len(scripted)
    assert result["inbound"][-1] == "GET /metrics"
    # tierline counted the session's productivity from the agent's own tool calls.
    lines = "tierline_lines_of_code_count_total"
    assert metric(result, lines, type="added", language="python") == sc.EXPECTED_ADDED
    assert metric(result, lines, type="removed", language="python") == sc.EXPECTED_REMOVED
    assert metric(result, "tierline_commit_count_total") == sc.EXPECTED_COMMITS
    decisions = "tierline_code_edit_tool_decision_total"
    assert metric(result, decisions, decision="accept") == sc.EXPECTED_ACCEPTED_EDITS
    assert metric(result, decisions, decision="reject") == 0
    assert metric(result, "tierline_requests_total", outcome="success") == len(requests)


def test_claude_code(agent_run: RunAgent, tmp_path: Path) -> None:
    """Claude Code (Anthropic Messages) -> tierline -> OpenAI Chat Completions fake."""
    workdir = tmp_path / "repo"
    result = agent_run("claude", workdir)
    check_session(result, workdir)
    final = json.loads(result["stdout"])
    assert final["result"] == sc.FINAL_TEXT
    assert final["is_error"] is False and final["num_turns"] == 5
    # Usage reached Claude Code through the translation (stream_options.include_usage).
    assert final["usage"]["output_tokens"] > 0
    assert all(r["stream_options"] == {"include_usage": True} for r in result["requests"])
    assert {"Write", "Edit", "Bash"} <= set(result["requests"][0]["tools"])
    assert result["inbound"][0] == "HEAD /"
    assert result["inbound"][1:-1] == ["POST /v1/messages?beta=true"] * 5


def test_opencode(agent_run: RunAgent, tmp_path: Path) -> None:
    """OpenCode (a custom @ai-sdk/openai-compatible provider) -> tierline -> the fake.

    OpenCode names its small model (session titles) ``side-model``; the scripted
    turns are keyed to the main model, so the title request cannot take one.
    """
    workdir = tmp_path / "repo"
    result = agent_run("opencode", workdir)
    check_session(result, workdir)
    assert sc.FINAL_TEXT in result["stdout"]
    main = [r for r in result["requests"] if r["model"] == sc.FAKE_MODEL]
    assert all(r["stream_options"] == {"include_usage": True} for r in main)
    assert {"write", "edit", "bash"} <= set(main[0]["tools"])
    assert set(result["inbound"][:-1]) == {"POST /v1/chat/completions"}


def test_codex(agent_run: RunAgent, tmp_path: Path) -> None:
    """Codex CLI (a custom provider, ``wire_api = "responses"``) -> tierline's
    ``/v1/responses`` -> Chat Completions fake; ``apply_patch`` runs through
    Codex's ``exec_command`` tool, which is what Codex offers a model it has no
    metadata for."""
    workdir = tmp_path / "repo"
    result = agent_run("codex", workdir)
    check_session(result, workdir)
    assert sc.FINAL_TEXT in result["stdout"]
    assert result["inbound"][:-1] == ["POST /v1/responses"] * 5
    assert "exec_command" in result["requests"][0]["tools"]


def test_codex_with_a_model_it_knows(agent_run: RunAgent, tmp_path: Path) -> None:
    """Codex CLI naming a model it has metadata for (``gpt-6.1-sol``) declares its tools
    in an ``additional_tools`` input item, not in ``tools``: the freeform ``exec``
    (JavaScript calling ``tools.apply_patch`` / ``tools.exec_command``) and namespaced
    tools. They must reach the provider as function tools, and the model's ``exec``
    calls must come back as ``custom_tool_call`` items that Codex runs.

    tierline's signals read the nested ``tools.apply_patch`` / ``tools.exec_command``
    calls inside ``exec`` and settle them from its output: the same lines, edits and
    commit as the other agents (the failed patch counts nothing)."""
    workdir = tmp_path / "repo"
    result = agent_run("codex-known", workdir)
    context = json.dumps({k: result[k] for k in ("returncode", "stdout", "stderr")})[-3000:]
    assert not result["timed_out"] and result["returncode"] == 0, context
    assert (workdir / sc.FILE).read_text() == sc.FINAL
    assert git(workdir, "log", "-1", "--format=%s") == sc.COMMIT_MESSAGE
    assert git(workdir, "show", f"HEAD:{sc.FILE}") == sc.FINAL.rstrip("\n")
    assert sc.FINAL_TEXT in result["stdout"]
    requests = result["requests"]
    assert result["scripts_left"] == 0 and len(requests) == 5
    assert {"exec", "clock__sleep", "collaboration__spawn_agent"} <= set(requests[0]["tools"])
    assert all(r["tools"] == requests[0]["tools"] for r in requests)
    assert result["inbound"][:-1] == ["POST /v1/responses"] * 5
    lines = "tierline_lines_of_code_count_total"
    assert metric(result, lines, type="added", language="python") == sc.EXPECTED_ADDED
    assert metric(result, lines, type="removed", language="python") == sc.EXPECTED_REMOVED
    assert metric(result, "tierline_commit_count_total", model="agent-model") == sc.EXPECTED_COMMITS
    decisions = "tierline_code_edit_tool_decision_total"
    assert metric(result, decisions, decision="accept", tool_name="apply_patch") == (
        sc.EXPECTED_ACCEPTED_EDITS
    )
    assert metric(result, decisions, decision="reject") == 0
