"""What each real agent is asked to do, how it is started, and what the fake answers.

Every scenario is the same small coding session, in the agent's own tool names:
write ``greet.py`` (``WRITTEN``), try an edit whose old text is not in the file
(``MISSING``: the agent reports a failure), edit one line (``EDIT_OLD`` ->
``EDIT_NEW``), commit it with git, then answer ``FINAL_TEXT``. The fake provider
plays the model with scripted tool calls; the agent really executes them.
``EXPECTED_*`` is what tierline must have counted from those tool calls.

Imported by ``driver.py`` (inside the namespace) and by the tests (expectations).
"""

from __future__ import annotations

import json
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
MISSING = "    return greeting  # not in the file"  # an edit that must fail and count nothing
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
EXPECTED_ACCEPTED_EDITS = 2  # the write and the good edit; the failed edit is no decision

FAKE_MODEL = "fake-agent"  # what tierline sends upstream for every agent turn
SIDE_MODEL = "side-model"  # a configured model agents name for side requests (titles)
FAKE_SIDE_MODEL = "fake-side"  # its upstream id: answers plain text, takes no script
FAKE_MODELS = (FAKE_MODEL, FAKE_SIDE_MODEL)
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
            },
            SIDE_MODEL: {"provider": "fake", "upstream": FAKE_SIDE_MODEL},
        },
        "routing": {
            "default_model": "agent-model",
            "tiers": {tier: ["agent-model"] for tier in ("reasoning", "coding", "quick")},
            "aliases": {"*": "auto"},
        },
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
        tool_call("Edit", file_path=path, old_string=MISSING, new_string=EDIT_NEW),
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


# --- OpenCode ----------------------------------------------------------------------------


def opencode_replies(workdir: Path) -> list[dict[str, Any]]:
    path = str(workdir / FILE)
    commit = f"git add {FILE} && git commit -m '{COMMIT_MESSAGE}'"
    return [
        tool_call("write", filePath=path, content=WRITTEN),
        tool_call("edit", filePath=path, oldString=MISSING, newString=EDIT_NEW),
        tool_call("edit", filePath=path, oldString=EDIT_OLD, newString=EDIT_NEW),
        tool_call("bash", command=commit, description="Commit greet.py"),
        {"text": FINAL_TEXT},
    ]


def opencode_config(tierline_url: str) -> dict[str, Any]:
    """opencode.json: a custom OpenAI-compatible provider at tierline, nothing else."""
    return {
        "$schema": "https://opencode.ai/config.json",
        "provider": {
            "tierline": {
                "npm": "@ai-sdk/openai-compatible",
                "name": "tierline",
                "options": {"baseURL": tierline_url + "/v1", "apiKey": CLIENT_KEY},
                "models": {"auto": {"name": "tierline auto"}, SIDE_MODEL: {"name": "side"}},
            }
        },
        "model": "tierline/auto",
        "small_model": f"tierline/{SIDE_MODEL}",
        "enabled_providers": ["tierline"],
        "autoupdate": False,
        "share": "disabled",
        "permission": {"edit": "allow", "bash": "allow", "external_directory": "allow"},
    }


def opencode_command(workdir: Path, bin_dir: Path, tierline_url: str) -> Command:
    env = base_env(workdir)
    config = json.dumps(opencode_config(tierline_url))
    (home(workdir) / "opencode.json").write_text(config)
    env.update(
        OPENCODE_CONFIG=str(home(workdir) / "opencode.json"),
        OPENCODE_DISABLE_AUTOUPDATE="1",
        OPENCODE_DISABLE_MODELS_FETCH="1",
        OPENCODE_DISABLE_LSP_DOWNLOAD="1",
        OPENCODE_DISABLE_SHARE="1",
        OPENCODE_DISABLE_DEFAULT_PLUGINS="1",
        OPENCODE_DISABLE_CLAUDE_CODE="1",
        OPENCODE_DISABLE_PROJECT_CONFIG="1",
    )
    argv = [str(bin_dir / "opencode"), "run", "--model", "tierline/auto", PROMPT]
    return argv, env


# --- Codex CLI ---------------------------------------------------------------------------


def codex_patch(body: str) -> str:
    """``apply_patch`` run through Codex's shell tool (Codex intercepts and applies it)."""
    return f"apply_patch <<'PATCH'\n*** Begin Patch\n{body}*** End Patch\nPATCH"


def codex_replies(workdir: Path) -> list[dict[str, Any]]:
    """Codex's tools for a model it has no metadata for: ``exec_command`` ({cmd})."""
    added = "".join("+" + line + "\n" for line in WRITTEN.splitlines())
    update = f"*** Update File: {FILE}\n@@\n-{EDIT_OLD}\n+{EDIT_NEW}\n"
    bad = f"*** Update File: {FILE}\n@@\n-{MISSING}\n+{EDIT_NEW}\n"
    commit = f"git add {FILE} && git commit -m '{COMMIT_MESSAGE}'"
    return [
        tool_call("exec_command", cmd=codex_patch(f"*** Add File: {FILE}\n{added}")),
        tool_call("exec_command", cmd=codex_patch(bad)),
        tool_call("exec_command", cmd=codex_patch(update)),
        tool_call("exec_command", cmd=commit),
        {"text": FINAL_TEXT},
    ]


def codex_config(tierline_url: str, model: str = "auto") -> str:
    """$CODEX_HOME/config.toml: a custom Responses-API provider at tierline, offline."""
    return f"""\
model = "{model}"
model_provider = "tierline"
approval_policy = "never"
sandbox_mode = "danger-full-access"
check_for_update_on_startup = false

[model_providers.tierline]
name = "tierline"
base_url = "{tierline_url}/v1"
env_key = "TIERLINE_API_KEY"
wire_api = "responses"

[features]
apply_patch_freeform = true

[analytics]
enabled = false

[otel]
exporter = "none"
"""


def codex_command(workdir: Path, bin_dir: Path, tierline_url: str, model: str = "auto") -> Command:
    env = base_env(workdir)
    codex_home = home(workdir) / ".codex"
    codex_home.mkdir(exist_ok=True)
    (codex_home / "config.toml").write_text(codex_config(tierline_url, model))
    env.update(CODEX_HOME=str(codex_home), TIERLINE_API_KEY=CLIENT_KEY)
    argv = [str(bin_dir / "codex"), "exec", "--ephemeral", "--color", "never", PROMPT]
    return argv, env


KNOWN_CODEX_MODEL = "gpt-6.1-sol"  # a name Codex 0.169 has metadata for


def codex_exec(script: str) -> dict[str, Any]:
    """A call of Codex's freeform ``exec`` tool (JavaScript; nested tools on ``tools``)."""
    return tool_call("exec", input=script)


def codex_known_replies(workdir: Path) -> list[dict[str, Any]]:
    """Codex's tools for a model it knows: declared in an ``additional_tools`` input item;
    ``exec`` runs JavaScript calling ``tools.apply_patch`` and ``tools.exec_command``."""

    def patch(body: str) -> str:
        text = f"*** Begin Patch\n{body}*** End Patch\n"
        return f"text(await tools.apply_patch({json.dumps(text)}));"

    added = "".join("+" + line + "\n" for line in WRITTEN.splitlines())
    commit = f"git add {FILE} && git commit -m '{COMMIT_MESSAGE}'"
    run = f"text(JSON.stringify(await tools.exec_command({{cmd: {json.dumps(commit)}}})));"
    return [
        codex_exec(patch(f"*** Add File: {FILE}\n{added}")),
        codex_exec(patch(f"*** Update File: {FILE}\n@@\n-{MISSING}\n+{EDIT_NEW}\n")),
        codex_exec(patch(f"*** Update File: {FILE}\n@@\n-{EDIT_OLD}\n+{EDIT_NEW}\n")),
        codex_exec(run),
        {"text": FINAL_TEXT},
    ]


def codex_known_command(workdir: Path, bin_dir: Path, tierline_url: str) -> Command:
    return codex_command(workdir, bin_dir, tierline_url, KNOWN_CODEX_MODEL)


SCENARIOS: dict[str, Scenario] = {
    "claude": Scenario(claude_replies, claude_command),
    "opencode": Scenario(opencode_replies, opencode_command),
    "codex": Scenario(codex_replies, codex_command),
    "codex-known": Scenario(codex_known_replies, codex_known_command),
}
