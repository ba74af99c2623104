"""The demo's scripted agent sessions: what the fake model answers, what the agent replies.

A ``Turn`` is one request: the fake provider's scripted reply for it (queued
just before the request is sent), and the tool result the agent sends back on
the next request. The sessions are pure data; ``sidecar.demo.run`` plays them.

Claude Code (asking for opus, as it does by default) is handed a crash: the
router sends the diagnosis (a traceback: the debugger profile) to the reasoning
tier (opus), then the routine fix to the coding tier (kimi-k2.5): an edit that
is accepted, a second one the user rejects, a test run, a commit. Its background
title request goes to the quick tier. The test run meets an outage of the
coding model's provider (``outage``: the upstream model id that answers 529 on
every attempt while the turn is played), so tierline falls back. OpenCode
(model ``auto``) then adds a test, commits and opens a pull request over Chat
Completions (coding tier), and the user asks for a review of it (reviewer:
reasoning tier).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

Harness = Literal["claude-code", "opencode"]


@dataclass(frozen=True)
class Turn:
    harness: Harness
    label: str  # what the agent is doing, for the table
    asked: str  # model name the agent sends
    reply: Mapping[str, Any]  # fake script item: {"text": ...} or {"tool_calls": [...]}
    tool_result: str | None = None  # the agent's answer to the reply's tool call
    rejected: bool = False  # the tool result is a user rejection (is_error)
    user: str | None = None  # a new user message starting this turn
    kind: Literal["main", "background", "title"] = "main"
    outage: str | None = None  # upstream model id failing during this turn
    extra: Mapping[str, Any] = field(default_factory=dict)


def _call(name: str, **arguments: Any) -> dict[str, Any]:
    return {"tool_calls": [{"name": name, "arguments": arguments}]}


_CONFIG_PY = "/home/dev/shop/app/config.py"
_OLD = "def load(path):\n    return json.load(open(path))\n"
_NEW = (
    "def load(path: str) -> dict:\n"
    "    with open(path) as fh:\n"
    "        data = json.load(fh)\n"
    "    if not isinstance(data, dict):\n"
    '        raise ValueError(f"{path}: expected an object")\n'
    "    return data\n"
)
_CC_MODEL = "claude-opus-4-5-20251101"  # Claude Code's default model
_CC_HAIKU = "claude-haiku-4-5-20251001"
_BUG = (
    "`python -m shop` crashes on startup:\n\n"
    "Traceback (most recent call last):\n"
    '  File "/home/dev/shop/shop/__main__.py", line 9, in <module>\n'
    '    port = cfg.get("port", 8000)\n'
    "AttributeError: 'list' object has no attribute 'get'\n\n"
    "Find the root cause before changing anything."
)
_DIAGNOSIS = (
    "Root cause: settings.json holds a JSON list, and app/config.py load() returns whatever "
    "json.load gives, so cfg.get fails far from the file. Fix: make load() reject a top "
    "level that is not an object, naming the file."
)
_FIX = "Fix it: make load() reject config files that are not JSON objects."
_READ_RESULT = (
    "     1\u2192import json\n     2\u2192\n     3\u2192def load(path):\n"
    "     4\u2192    return json.load(open(path))\n"
)
_EDIT_RESULT = (
    f"The file {_CONFIG_PY} has been updated. Here's the result of running `cat -n` on a "
    "snippet of the edited file:\n     3\u2192def load(path: str) -> dict:"
)
_REJECT = (
    "The user doesn't want to proceed with this tool use. The tool use was rejected (eg. if it "
    "was a file edit, the new_string was NOT written to the file). STOP what you are doing and "
    "wait for the user to tell you how to proceed."
)
_PYTEST = "....                                                   [100%]\n4 passed in 0.12s"
_COMMIT = "[main 8c1d2e4] Validate config input\n 1 file changed, 6 insertions(+), 2 deletions(-)"
_KIMI = "moonshotai/kimi-k2.5"  # the coding model's upstream id at OpenRouter

CLAUDE_CODE: tuple[Turn, ...] = (
    Turn(
        "claude-code",
        "topic title (background)",
        _CC_HAIKU,
        {"text": '{"isNewTopic": true, "title": "Startup crash"}'},
        user=_BUG,
        kind="background",
    ),
    Turn(
        "claude-code",
        "debug: read app/config.py",
        _CC_MODEL,
        _call("Read", file_path=_CONFIG_PY),
        tool_result=_READ_RESULT,
        user=_BUG,
    ),
    Turn("claude-code", "debug: root cause", _CC_MODEL, {"text": _DIAGNOSIS}),
    Turn(
        "claude-code",
        "edit load() (accepted)",
        _CC_MODEL,
        _call("Edit", file_path=_CONFIG_PY, old_string=_OLD, new_string=_NEW),
        tool_result=_EDIT_RESULT,
        user=_FIX,
    ),
    Turn(
        "claude-code",
        "edit imports (rejected)",
        _CC_MODEL,
        _call(
            "Edit",
            file_path=_CONFIG_PY,
            old_string="import json\n",
            new_string="import json\nimport os\n",
        ),
        tool_result=_REJECT,
        rejected=True,
    ),
    Turn(
        "claude-code",
        "run tests (provider outage)",
        _CC_MODEL,
        _call("Bash", command="python -m pytest -q", description="Run the tests"),
        tool_result=_PYTEST,
        outage=_KIMI,
    ),
    Turn(
        "claude-code",
        "git commit",
        _CC_MODEL,
        _call("Bash", command="git commit -am 'Validate config input'", description="Commit"),
        tool_result=_COMMIT,
    ),
    Turn(
        "claude-code",
        "final answer",
        _CC_MODEL,
        {"text": "Done: load() now rejects non-object JSON, tests pass, committed as 8c1d2e4."},
    ),
)

_TEST_PY = "/home/dev/shop/tests/test_config.py"
_TEST_BODY = (
    "import pytest\nfrom app.config import load\n\n\n"
    "def test_rejects_list(tmp_path):\n"
    "    p = tmp_path / 'c.json'\n    p.write_text('[]')\n"
    "    with pytest.raises(ValueError):\n        load(str(p))\n"
)
_REVIEW = (
    "One gap: an empty or truncated file raises json.JSONDecodeError, not ValueError; "
    "callers catching ValueError still work (it is a subclass). No other issue."
)
_OC_MODEL = "auto"  # OpenCode configured with a "tierline" provider and model "auto"

OPENCODE: tuple[Turn, ...] = (
    Turn(
        "opencode",
        "session title",
        _OC_MODEL,
        {"text": "Test for config validation"},
        user="Add a test for the new config validation, then open a PR.",
        kind="title",
    ),
    Turn(
        "opencode",
        "write tests/test_config.py",
        _OC_MODEL,
        _call("write", filePath=_TEST_PY, content=_TEST_BODY),
        tool_result="Wrote file successfully.",
        user="Add a test for the new config validation, then open a PR.",
    ),
    Turn(
        "opencode",
        "git commit",
        _OC_MODEL,
        _call(
            "bash",
            command="git add tests && git commit -m 'Test config validation'",
            description="Commit",
        ),
        tool_result="[main 4be91a0] Test config validation\n 1 file changed, 9 insertions(+)",
    ),
    Turn(
        "opencode",
        "open pull request",
        _OC_MODEL,
        _call("bash", command="gh pr create --fill", description="Open a PR"),
        tool_result="https://github.com/dev/shop/pull/42",
    ),
    Turn("opencode", "final answer", _OC_MODEL, {"text": "Opened PR #42 with the new test."}),
    Turn(
        "opencode",
        "review the PR",
        _OC_MODEL,
        {"text": _REVIEW},
        user="Review PR #42 for edge cases we missed.",
    ),
)

SESSION: tuple[Turn, ...] = CLAUDE_CODE + OPENCODE
