"""Thinking as a fit requirement, with the real Claude Code 2.1.197 first request.

Claude Code sends ``thinking: {type: "adaptive"}`` on every request ("think if
useful"): a model without thinking still fits (translation drops the field for
it). ``{type: "enabled", budget_tokens: N}`` stays a requirement.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sidecar.cli import main

SAMPLE = Path(__file__).parents[1] / "fixtures" / "claude_code_2.1.197_first_request.body.json"

CONFIG = """
[providers.openrouter]
api_keys = ["env:TL_FIT_KEY"]
[providers.anthropic]
api_keys = ["env:TL_FIT_KEY"]
[models.kimi]
provider = "openrouter"
upstream = "moonshotai/kimi-k2.5"
thinking = false
[models.sonnet]
provider = "anthropic"
upstream = "claude-sonnet-4-6"
thinking = true
[routing.tiers]
reasoning = ["kimi", "sonnet"]
coding = ["kimi", "sonnet"]
quick = ["kimi", "sonnet"]
"""


def _explain(
    tmp_path: Path, body: dict[str, object], capsys: pytest.CaptureFixture[str]
) -> dict[str, object]:
    cfg = tmp_path / "tierline.toml"
    cfg.write_text(CONFIG, encoding="utf-8")
    req = tmp_path / "request.json"
    req.write_text(json.dumps(body), encoding="utf-8")
    assert main(["explain", "--config", str(cfg), "--json", str(req)]) == 0
    out: dict[str, object] = json.loads(capsys.readouterr().out)
    return out


def test_adaptive_thinking_keeps_non_thinking_models(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TL_FIT_KEY", "k")
    body = json.loads(SAMPLE.read_text(encoding="utf-8"))
    assert body["thinking"] == {"type": "adaptive"}
    out = _explain(tmp_path, body, capsys)
    assert out["harness"] == "claude_code"
    assert out["candidates"] == ["kimi", "sonnet"]
    assert "no thinking" not in str(out["reason"])


def test_enabled_thinking_is_a_requirement(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TL_FIT_KEY", "k")
    body = json.loads(SAMPLE.read_text(encoding="utf-8"))
    body["thinking"] = {"type": "enabled", "budget_tokens": 8000}
    out = _explain(tmp_path, body, capsys)
    assert out["candidates"] == ["sonnet"]
    assert "skipped kimi (no thinking)" in str(out["reason"])
