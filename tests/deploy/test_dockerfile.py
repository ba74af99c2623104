"""The Dockerfile (unbuilt here: no Docker engine): its contract with the chart."""

from __future__ import annotations

import json
import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def _instructions() -> list[tuple[str, str]]:
    text = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    lines = [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.startswith("#")]
    return [(ln.split(None, 1)[0].upper(), ln.split(None, 1)[1]) for ln in lines]


def test_small_python_base_non_root_user_matching_the_chart() -> None:
    ins = _instructions()
    froms = [arg for op, arg in ins if op == "FROM"]
    assert all(re.match(r"python:3\.1\d-slim", f) for f in froms)
    (user,) = [arg for op, arg in ins if op == "USER"]
    uid = int(user.split(":")[0])
    assert uid != 0
    values = yaml.safe_load((ROOT / "helm" / "tierline" / "values.yaml").read_text())
    assert values["securityContext"]["runAsUser"] == uid
    assert values["podSecurityContext"]["runAsUser"] == uid


def test_entrypoint_is_tierline_serve_with_mounted_config() -> None:
    ins = _instructions()
    last = dict(ins)
    assert json.loads(last["ENTRYPOINT"]) == ["tierline"]
    assert json.loads(last["CMD"]) == ["serve"]  # the chart passes "serve ..." / "webhook ..."
    assert any("TIERLINE_CONFIG=/etc/tierline/tierline.toml" in a for op, a in ins if op == "ENV")
    assert any("pip install" in a and a.rstrip().endswith(".") for op, a in ins if op == "RUN")
