"""The README's `helm install` commands render: their --set values go through Helm's own
parser and template engine (no cluster here, so install itself is not run)."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import helm_python as helm
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]


def _install_commands() -> list[list[str]]:
    docs = (ROOT / "README.md").read_text() + (ROOT / "helm/tierline/README.md").read_text()
    commands = []
    for block in re.findall(r"```sh\n(.*?)```", docs, flags=re.S):
        for command in block.replace("\\\n", " ").splitlines():
            if command.strip().startswith("helm install"):
                commands.append(shlex.split(command, comments=True))
    return commands


def _values(argv: list[str]) -> dict:
    values: dict = {}
    for flag, arg in zip(argv, argv[1:], strict=False):
        if flag == "--set":
            parsed = helm.parse_set_string(arg)
            for key, value in parsed.items():
                if isinstance(value, dict) and isinstance(values.get(key), dict):
                    values[key] = {**values[key], **value}
                else:
                    values[key] = value
    return values


COMMANDS = _install_commands()


def test_readme_has_install_commands() -> None:
    assert len(COMMANDS) >= 3


@pytest.mark.parametrize("argv", COMMANDS, ids=lambda a: " ".join(a[2:8]))
def test_install_command_renders(argv: list[str]) -> None:
    assert argv[:2] == ["helm", "install"] and argv[3] == "./helm/tierline"
    values = _values(argv)
    with helm.Chart.load(ROOT / "helm" / "tierline") as chart:
        chart.validate_schema(values)
        out = chart.render(values, name=argv[2], namespace="tierline", is_install=True)
    manifests = [t for name, t in out.items() if not name.endswith("NOTES.txt")]
    kinds = {d["kind"] for text in manifests for d in yaml.safe_load_all(text) if d}
    if values.get("injection", {}).get("enabled"):
        assert "MutatingWebhookConfiguration" in kinds
    else:
        assert "Deployment" in kinds
