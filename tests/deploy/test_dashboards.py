"""Dashboards and alert rules: generated output is current, structure is sound,
every metric a query names exists in the telemetry names module, and promtool
accepts the rules. (Queries against a real Prometheus: test_dashboards_prometheus.py.)
"""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from sidecar.telemetry import names
from tests.ci import in_ci

ROOT = Path(__file__).resolve().parents[2]
BUILDER = ROOT / "grafana" / "build.py"


def _load_builder() -> ModuleType:
    """grafana/build.py (a script, not a package) under a name that cannot clash."""
    spec = importlib.util.spec_from_file_location("tierline_grafana_build", BUILDER)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


build = _load_builder()

BOARDS = sorted((ROOT / "grafana" / "dashboards").glob("*.json"))
RULES = ROOT / "grafana" / "alerts" / "tierline-alerts.yaml"
EXPECTED = {"Overview", "Routing", "Reliability", "Productivity"}


def test_generated_files_are_current() -> None:
    """`python grafana/build.py --check` passes: committed JSON/YAML == builder output."""
    assert build.main(["--check"]) == 0, "run: python grafana/build.py"


def test_chart_carries_identical_copies() -> None:
    chart = ROOT / "helm" / "tierline"
    for board in BOARDS:
        assert (chart / "dashboards" / board.name).read_bytes() == board.read_bytes(), board.name
    assert (chart / "files" / RULES.name).read_bytes() == RULES.read_bytes()


def test_four_dashboards_as_the_issue_lists() -> None:
    titles = {json.loads(b.read_text())["title"].split(" / ")[1] for b in BOARDS}
    assert titles == EXPECTED


@pytest.mark.parametrize("path", BOARDS, ids=lambda p: p.stem)
def test_dashboard_structure(path: Path) -> None:
    board = json.loads(path.read_text())
    assert board["uid"] and len(board["uid"]) <= 40
    ids = [p["id"] for p in board["panels"]]
    assert len(ids) == len(set(ids)), "panel ids must be unique"
    variables = {v["name"]: v for v in board["templating"]["list"]}
    assert {"datasource", "namespace", "pod", "model", "tier", "provider"} <= set(variables)
    assert variables["datasource"]["type"] == "datasource"
    assert variables["datasource"]["query"] == "prometheus"
    for name in ("namespace", "pod", "model", "tier", "provider"):
        assert variables[name]["includeAll"] and variables[name]["allValue"] == ".*"
    # No hard-coded datasource uid anywhere: every datasource reference is the variable.
    refs = list(_datasource_refs(board))
    assert refs, "panels must name their datasource"
    for ref in refs:
        assert ref == {"type": "prometheus", "uid": "${datasource}"}, ref
    for panel in board["panels"]:
        grid = panel["gridPos"]
        assert 0 <= grid["x"] and grid["x"] + grid["w"] <= 24
        assert panel["targets"], panel["title"]
        refids = [t["refId"] for t in panel["targets"]]
        assert len(refids) == len(set(refids))
        for target in panel["targets"]:
            assert "vector(0)" not in target["expr"]


def _datasource_refs(node: object):
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "datasource" and isinstance(value, dict):
                yield value
            else:
                yield from _datasource_refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from _datasource_refs(item)


def _metric_names_in(expr: str) -> set[str]:
    return set(re.findall(r"\b((?:tierline|gen_ai)_[a-zA-Z0-9_]+)\s*[{\[]", expr))


def _known_prom_names() -> set[str]:
    """Prometheus family names of every builder metric whose OTel name is in names.py."""
    otel_names = {v for k, v in vars(names).items() if k.isupper() and isinstance(v, str)}
    out = set()
    for metric in build.M.values():
        assert metric.otel in otel_names, f"{metric.otel} is not in sidecar.telemetry.names"
        out |= {metric.prom + s for s in ("", "_bucket", "_sum", "_count")}
    return out


def test_queries_use_only_names_from_the_names_module() -> None:
    known = _known_prom_names()
    exprs = [t["expr"] for b in BOARDS for p in json.loads(b.read_text())["panels"]
             for t in p["targets"]]  # fmt: skip
    exprs += [r["expr"] for g in build.alert_rules()["groups"] for r in g["rules"]]
    for expr in exprs:
        used = _metric_names_in(expr)
        assert used, expr
        assert used <= known, (used - known, expr)


def test_promtool_accepts_the_rules() -> None:
    promtool = shutil.which("promtool")
    if promtool is None:
        if in_ci():
            pytest.fail("promtool missing (apt install prometheus)")
        pytest.skip("promtool not installed")
    result = subprocess.run([promtool, "check", "rules", str(RULES)],
                            capture_output=True, text=True, timeout=30)  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "4 rules found" in result.stdout
