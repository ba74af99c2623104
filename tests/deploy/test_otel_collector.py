"""otel/collector.yaml: every pipeline names defined components of known types (for
the collector-contrib version the file names), and the chart deploys the same file.
No collector binary runs here, so this is a structural check.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "otel" / "collector.yaml"
CHART_COPY = ROOT / "helm" / "tierline" / "files" / "collector.yaml"

# Component types shipped in otelcol-contrib v0.147.0 that this file may use
# (otlp_http / otlp_grpc are the exporter names since v0.144.0).
KNOWN = {
    "receivers": {"otlp", "prometheus"},
    "processors": {"memory_limiter", "batch", "resource", "attributes", "transform",
                   "deltatocumulative", "k8sattributes"},
    "exporters": {"prometheus", "otlp_http", "otlp_grpc", "prometheusremotewrite", "debug"},
    "extensions": {"health_check", "pprof", "zpages"},
}  # fmt: skip


def _load() -> dict:
    return yaml.safe_load(CONFIG.read_text())


def test_names_a_contrib_version() -> None:
    assert re.search(r"opentelemetry-collector-contrib v0\.1\d\d\.\d+", CONFIG.read_text())


def test_pipelines_reference_defined_components() -> None:
    cfg = _load()
    pipelines = cfg["service"]["pipelines"]
    assert set(pipelines) == {"metrics", "logs", "traces"}
    for name, pipeline in pipelines.items():
        assert pipeline["receivers"] and pipeline["exporters"], name
        for section in ("receivers", "processors", "exporters"):
            for component in pipeline.get(section, []):
                assert component in cfg[section], f"{name}: {section} {component} undefined"
    for ext in cfg["service"].get("extensions", []):
        assert ext in cfg["extensions"]
    for section, known in KNOWN.items():
        for component in cfg.get(section, {}):
            assert component.split("/")[0] in known, f"unknown {section} type: {component}"


def test_pipeline_shape() -> None:
    cfg = _load()
    p = cfg["service"]["pipelines"]
    for pipeline in p.values():
        assert pipeline["receivers"] == ["otlp"]
        assert pipeline["processors"][0] == "memory_limiter"  # must come first
        assert pipeline["processors"][-1] == "batch"
    assert p["metrics"]["exporters"] == ["prometheus"]
    assert p["logs"]["exporters"] == ["otlp_http/loki"]
    assert p["traces"]["exporters"] == ["otlp_grpc/tempo"]
    prom = cfg["exporters"]["prometheus"]
    hours = int(prom["metric_expiration"].rstrip("h"))
    assert hours >= 24
    assert prom["resource_to_telemetry_conversion"]["enabled"] is True
    assert "/otlp" in cfg["exporters"]["otlp_http/loki"]["endpoint"]


def test_chart_deploys_the_same_file() -> None:
    assert CHART_COPY.read_bytes() == CONFIG.read_bytes()
