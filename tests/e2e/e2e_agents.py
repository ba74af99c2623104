"""What each real agent is asked to do, how it is started, and what the fake answers.

Every scenario is the same small coding session, in the agent's own tool names:
write ``greet.py`` (``WRITTEN``), edit one line of it (``EDIT_OLD`` ->
``EDIT_NEW``), commit it with git, then answer ``FINAL_TEXT``. The fake provider
plays the model with scripted tool calls; the agent really executes them.
``EXPECTED_*`` is what tierline must have counted from those tool calls.

Imported by ``driver.py`` (inside the namespace) and by the tests (expectations).
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sidecar.config import Config, parse_config

FILE = "greet.py"
WRITTEN = 'def greet(name):\n    return "Hello, " + name\n\n\nprint(greet("world"))\n'
EDIT_OLD = '    return "Hello, " + name'
EDIT_NEW = '    return f"Hello, {name}!"'
FINAL = WRITTEN.replace(EDIT_OLD, EDIT_NEW)
COMMIT_MESSAGE = "Add greet.py"
FINAL_TEXT = "Done: greet.py written, edited and committed."
PROMPT = (
    f"Create {FILE} with a greet function, make it use an f-string, and commit it "
    f"with the message '{COMMIT_MESSAGE}'."
)
EXPECTED_ADDED = WRITTEN.count("\n") + 1  # the write, then the edited line
EXPECTED_REMOVED = 1
EXPECTED_COMMITS = 1

FAKE_MODEL = "fake-agent"  # what tierline sends upstream for every agent request
FAKE_MODELS = (FAKE_MODEL,)
FAKE_KEY = "sk-fake-upstream"
CLIENT_KEY = "sk-agent-client"


def tierline_config(fake_url: str) -> Config:
    """One OpenAI-kind provider (the fake) and one model; every name goes to ``auto``."""
    data: dict[str, Any] = {
        "server": {"first_byte_timeout": 30.0, "stall_timeout": 30.0, "deadline": 60.0},
        "providers": {
            "fake": {"kind": "openai", "base_url": fake_url + "/v1", "api_keys": ["env:FAKE_KEY"]}
        },
        "models": {
            "agent-model": {
                "provider": "fake",
                "upstream": FAKE_MODEL,
                "context_window": 200000,
                "prices": {"input": 1.0, "output": 4.0, "cache_read": 0.1},
            }
        },
        "routing": {"default_model": "agent-model", "aliases": {"*": "auto"}},
        "telemetry": {"enabled": False},  # no OTLP export; /metrics still serves the counts
    }
    return parse_config(data, {"FAKE_KEY": FAKE_KEY})


def prepare_repo(workdir: Path) -> None:
    """A fresh git repository with one commit, a local identity, and a private HOME."""
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "README.md").write_text("# e2e\n")
    for argv in (
        ["git", "init", "-q", "-b", "main"],
        ["git", "config", "user.name", "tierline e2e"],
        ["git", "config", "user.email", "e2e@tierline.invalid"],
        ["git", "config", "commit.gpgsign", "false"],
        ["git", "add", "README.md"],
        ["git", "commit", "-q", "-m", "init"],
    ):
        subprocess.run(argv, cwd=workdir, check=True)
    home(workdir).mkdir(exist_ok=True)


def home(workdir: Path) -> Path:
    """The agent's HOME: outside the repository, next to it."""
    return workdir.parent / (workdir.name + "-home")


def base_env(workdir: Path) -> dict[str, str]:
    """A minimal environment: no inherited credentials, proxies or OTEL settings."""
    keep = ("PATH", "LANG", "LC_ALL", "TERM", "TMPDIR", "SYSTEMROOT")
    env = {k: os.environ[k] for k in keep if k in os.environ}
    h = str(home(workdir))
    env.update(
        HOME=h,
        XDG_CONFIG_HOME=h + "/.config",
        XDG_DATA_HOME=h + "/.local/share",
        XDG_CACHE_HOME=h + "/.cache",
        XDG_STATE_HOME=h + "/.local/state",
        GIT_AUTHOR_NAME="tierline e2e",
        GIT_AUTHOR_EMAIL="e2e@tierline.invalid",
        GIT_COMMITTER_NAME="tierline e2e",
        GIT_COMMITTER_EMAIL="e2e@tierline.invalid",
        NO_COLOR="1",
        CI="true",
    )
    return env


Command = tuple[list[str], dict[str, str]]


@dataclass(frozen=True)
class Scenario:
    """How to run one agent: its scripted replies and its command line."""

    replies: Callable[[Path], list[dict[str, Any]]]
    command: Callable[[Path, Path, str], Command]


# --- Claude Code -------------------------------------------------------------------------


def tool_call(name: str, **arguments: Any) -> dict[str, Any]:
    """One scripted reply: a single tool call (the fake's ``/_fake/script`` item)."""
    return {"tool_calls": [{"name": name, "arguments": arguments}]}


def claude_replies(workdir: Path) -> list[dict[str, Any]]:
    path = str(workdir / FILE)
    commit = f"git add {FILE} && git commit -m '{COMMIT_MESSAGE}'"
    return [
        tool_call("Write", file_path=path, content=WRITTEN),
        tool_call("Edit", file_path=path, old_string=EDIT_OLD, new_string=EDIT_NEW),
        tool_call("Bash", command=commit, description="Commit greet.py"),
        {"text": FINAL_TEXT},
    ]


def claude_command(workdir: Path, bin_dir: Path, tierline_url: str) -> Command:
    env = base_env(workdir)
    env.update(
        ANTHROPIC_BASE_URL=tierline_url,
        ANTHROPIC_API_KEY=CLIENT_KEY,
        CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC="1",
        DISABLE_AUTOUPDATER="1",
        DISABLE_TELEMETRY="1",
        DISABLE_ERROR_REPORTING="1",
        CLAUDE_CODE_ENABLE_TELEMETRY="0",
    )
    argv = [
        str(bin_dir / "claude"),
        "-p",
        PROMPT,
        "--output-format",
        "json",
        "--allowedTools",
        "Write",
        "Edit",
        "Bash(git:*)",
    ]
    return argv, env


SCENARIOS: dict[str, Scenario] = {
    "claude": Scenario(claude_replies, claude_command),
}
