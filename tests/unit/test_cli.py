"""The ``tierline`` command line: --version, check, models, serve, logging options."""

from __future__ import annotations

import json
import logging
import os
import socket
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from sidecar import __version__
from sidecar.cli import main

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = str(ROOT / "examples" / "tierline.toml")
EXAMPLE_ENV = {
    "ANTHROPIC_API_KEY": "sk-ant-secret",
    "OPENROUTER_API_KEY": "sk-or-secret",
}
LOCAL = """
[providers.local]
kind = "openai"
base_url = "http://127.0.0.1:9/v1"

[models.small]
provider = "local"
upstream = "qwen2.5-coder:7b"
context_window = 32768
prices = { input = 0.1, output = 0.2 }
"""


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    """main() installs a root handler; take it away again after each test."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.fixture
def example_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in EXAMPLE_ENV.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("TIERLINE_CONFIG", raising=False)


@pytest.fixture
def local_config(tmp_path: Path) -> str:
    path = tmp_path / "tierline.toml"
    path.write_text(LOCAL, encoding="utf-8")
    return str(path)


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sidecar", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **(env or {})},
        check=False,
    )


def test_version_from_python_m_sidecar() -> None:
    done = run("--version")
    assert done.returncode == 0
    assert done.stdout.strip() == f"tierline {__version__}"


def test_no_command_prints_help_and_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    assert "serve" in capsys.readouterr().err


def test_check_example_ok(example_env: None, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "--config", EXAMPLE]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"ok: {EXAMPLE} is valid")
    assert "providers (3):" in out and "models (4):" in out
    assert "kimi-k2.5 -> openrouter/moonshotai/kimi-k2.5" in out
    assert "default model: kimi-k2.5;" in out
    assert "secret" not in out


def test_check_failing_lists_each_key_path(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for key in EXAMPLE_ENV:
        monkeypatch.delenv(key, raising=False)
    assert main(["check", "--config", EXAMPLE]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.splitlines()
    assert lines[0] == "tierline: invalid configuration (2 errors):"
    assert lines[1:] == [
        "  providers.anthropic.api_keys[0]: environment variable ANTHROPIC_API_KEY is not set",
        "  providers.openrouter.api_keys[0]: environment variable OPENROUTER_API_KEY is not set",
    ]


def test_check_failing_without_traceback(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text('[server]\nprot = 1\n[auth]\n[routing]\ndefault_model = "nope"\n', "utf-8")
    done = run("check", "--config", str(path))
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert "  auth: [auth] is not supported yet" in done.stderr
    assert "  server.prot: unknown key (did you mean 'port'?)" in done.stderr
    assert "  routing.default_model: unknown model 'nope'" in done.stderr


def test_check_config_from_environment(
    local_config: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("TIERLINE_CONFIG", local_config)
    assert main(["check"]) == 0
    assert f"ok: {local_config} is valid" in capsys.readouterr().out


def test_check_without_any_config(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("TIERLINE_CONFIG", raising=False)
    assert main(["check"]) == 1
    err = capsys.readouterr().err
    assert "config: no configuration file: pass --config FILE or set TIERLINE_CONFIG" in err


def test_check_unreadable_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "--config", str(tmp_path / "none.toml")]) == 1
    assert "none.toml: cannot read the file" in capsys.readouterr().err


def test_models_table(local_config: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["models", "--config", local_config]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == [
        "model", "provider", "upstream", "context", "in", "$/M", "out", "$/M", "cache", "r/w", "$/M"
    ]  # fmt: skip
    assert lines[1].split() == ["small", "*", "local", "qwen2.5-coder:7b", "32,768", "0.1", "0.2",
                                "-/-"]  # fmt: skip


def test_models_json(example_env: None, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["models", "--json", "--config", EXAMPLE]) == 0
    models = {m["name"]: m for m in json.loads(capsys.readouterr().out)}
    assert models["kimi-k2.5"]["upstream"] == "moonshotai/kimi-k2.5"
    assert models["kimi-k2.5"]["prices"]["input"] == 0.6
    assert models["kimi-k2.5"]["default"] is True
    assert models["anthropic:claude-opus-4-7"]["provider"] == "anthropic"


def test_literal_key_warning_is_one_json_log_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "t.toml"
    path.write_text('[providers.openai]\napi_keys = ["sk-literal-secret"]\n', "utf-8")
    assert main(["check", "--config", str(path)]) == 0
    err = capsys.readouterr().err
    [line] = err.splitlines()
    record = json.loads(line)
    assert record["level"] == "warning" and record["logger"] == "tierline.config"
    assert record["key"] == "providers.openai.api_keys[0]"
    assert "secret" not in err


@pytest.mark.parametrize(
    "argv",
    [
        ["--log-format", "text", "check", "--config", "{p}"],
        ["check", "--log-format", "text", "--config", "{p}"],
    ],
    ids=["before", "after"],
)
def test_log_format_text_before_or_after_the_command(
    tmp_path: Path, argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "t.toml"
    path.write_text('[providers.openai]\napi_keys = ["sk-literal"]\n', "utf-8")
    assert main([a.format(p=path) for a in argv]) == 0
    err = capsys.readouterr().err
    assert " WARNING tierline.config: providers.openai.api_keys[0]: literal key" in err
    assert not err.lstrip().startswith("{")


def test_log_level_error_hides_warnings(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "t.toml"
    path.write_text('[providers.openai]\napi_keys = ["sk-literal"]\n', "utf-8")
    assert main(["--log-level", "error", "check", "--config", str(path)]) == 0
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize(
    "argv",
    [["serve", "--port", "70000"], ["serve", "--port", "x"], ["--log-format", "xml", "check"]],
)
def test_bad_command_line_exits_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    assert "usage: tierline" in capsys.readouterr().err


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def test_serve_listens_answers_and_stops_on_sigterm(local_config: str) -> None:
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "sidecar", "serve", "--config", local_config, "--port", str(port)],
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stderr is not None
        for line in proc.stderr:  # wait for the listening log line, not a sleep
            record = json.loads(line)
            if record.get("event") == "listening":
                break
        assert record["url"] == f"http://127.0.0.1:{port}"
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=10) as resp:
            assert resp.status == 200
        proc.terminate()
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if proc.stderr is not None:
            proc.stderr.close()


def test_serve_port_taken_is_a_clear_error(local_config: str) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        done = run("serve", "--config", local_config, "--port", str(port))
    assert done.returncode == 1
    assert f"tierline: cannot serve on 127.0.0.1:{port}:" in done.stderr
    assert "Traceback" not in done.stderr


def test_models_without_config_prints_the_catalog_ranking(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("TIERLINE_CONFIG", raising=False)
    assert main(["models"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("no configuration (--config FILE or TIERLINE_CONFIG)")
    assert "reasoning:" in out and "coding:" in out and "quick:" in out
    assert "unavailable  in/out/cache $/M" in out
    assert main(["models", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert set(rows) == {"reasoning", "coding", "quick"}
    kimi = next(r for r in rows["coding"] if r["model"] == "kimi-k2.5")
    assert kimi["available"] is None and kimi["candidate"] is None and kimi["input"] > 0
