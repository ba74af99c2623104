"""Fixtures for the real-agent end-to-end tests.

``agent_run(agent, tmp_path)`` runs ``driver.py`` for one agent (installed by
``cd tests/e2e && npm install``, part of scripts/test.sh) and returns its JSON
result. The driver runs under ``unshare -n`` (a loopback-only network
namespace: tierline, the fake provider and the agent all live in it) whenever
that is permitted (as root; else ``unshare -r -n``, in a user namespace);
otherwise it runs in the host namespace and the terminal summary says so. A
missing agent binary, ``node`` or ``git`` is a failure under
``CI=true`` and a skip elsewhere.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.ci import in_ci

HERE = Path(__file__).parent
BIN = HERE / "node_modules" / ".bin"
DRIVER = HERE / "driver.py"
AGENT_TIMEOUT_S = 90.0  # one agent run; the driver kills the agent after this
DRIVER_TIMEOUT_S = AGENT_TIMEOUT_S + 30.0
NOTES = pytest.StashKey[list[str]]()

RunAgent = Callable[[str, Path], dict[str, Any]]
_BINARIES = {"claude": "claude", "opencode": "opencode", "codex": "codex", "codex-known": "codex"}


def _netns_prefix() -> list[str]:
    """``unshare -n`` (root), else ``unshare -r -n`` (a user namespace), else [] (none)."""
    if shutil.which("unshare") is None or shutil.which("ip") is None:
        return []
    for prefix in (["unshare", "-n"], ["unshare", "-r", "-n"]):
        probe = subprocess.run(
            [*prefix, "ip", "link", "set", "lo", "up"], capture_output=True, timeout=10
        )
        if probe.returncode == 0:
            return prefix
    return []


def _missing(binary: str) -> list[str]:
    missing = [tool for tool in ("node", "git") if shutil.which(tool) is None]
    if not (BIN / binary).exists():
        missing.append(f"{BIN / binary} (run: cd tests/e2e && npm install)")
    return missing


@pytest.fixture(scope="session")
def netns(pytestconfig: pytest.Config) -> list[str]:
    prefix = _netns_prefix()
    if not prefix:
        pytestconfig.stash.setdefault(NOTES, []).append(
            "e2e agents: `unshare -n` is not permitted here; the agents ran WITHOUT a "
            "loopback-only network namespace (their update/telemetry switches are still off)"
        )
    return prefix


@pytest.fixture
def agent_run(netns: list[str], pytestconfig: pytest.Config) -> RunAgent:
    def run(agent: str, workdir: Path) -> dict[str, Any]:
        missing = _missing(_BINARIES[agent])
        if missing:
            message = f"{agent}: missing {', '.join(missing)}"
            if in_ci():
                pytest.fail(message)
            pytest.skip(message)
        argv = [sys.executable, str(DRIVER), agent, str(workdir), "--bin", str(BIN)]
        argv += ["--timeout", str(AGENT_TIMEOUT_S)]
        if netns:
            argv = [*netns, *argv, "--netns"]
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=DRIVER_TIMEOUT_S)
        assert proc.returncode == 0, f"driver failed:\n{proc.stderr[-4000:]}"
        result: dict[str, Any] = json.loads(proc.stdout)
        where = f"loopback-only netns ({' '.join(netns)})" if netns else "host network (no netns)"
        pytestconfig.stash.setdefault(NOTES, []).append(
            f"e2e {agent}: exit {result['returncode']} in {result['seconds']} s, "
            f"{len(result['requests'])} model requests, {where}"
        )
        return result

    return run


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    notes = config.stash.get(NOTES, [])
    if notes:
        terminalreporter.section("real agents end to end")
        for note in notes:
            terminalreporter.write_line(note)
