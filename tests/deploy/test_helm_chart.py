"""The Helm chart, rendered by Helm's own engine (helm-python-sdk), validated with
kubernetes-validate (strict) and checked mode by mode.

Scenarios are helm/tierline/ci/*.yaml. Kinds kubernetes-validate has no schema for
(Prometheus Operator and cert-manager CRDs) are checked for their required fields here.
"""

from __future__ import annotations

import base64
import functools
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import helm_python as helm
import jsonschema
import kubernetes_validate
import pytest
import referencing
import yaml
from cryptography import x509
from kubernetes_validate.utils import schema_contents

from sidecar.config import load_config
from sidecar.webhook import SidecarSettings, sidecar_container

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "helm" / "tierline"
SCENARIOS = sorted((CHART / "ci").glob("*.yaml"))
KUBE_VERSION = "1.33.0"  # native sidecars are GA from 1.33
# ... and the newest schemas kubernetes-validate ships.
VALIDATE_VERSIONS = (KUBE_VERSION, kubernetes_validate.latest_version())
RELEASE, NAMESPACE = "tl", "tierline"
CRD_KINDS = {"ServiceMonitor", "PodMonitor", "PrometheusRule", "Certificate", "Issuer"}
STANDARD_LABELS = ("app.kubernetes.io/name", "app.kubernetes.io/instance",
                   "app.kubernetes.io/managed-by", "helm.sh/chart")  # fmt: skip


@functools.cache
def _k8s_validator(
    kind: str, api_version: str, version: str = KUBE_VERSION
) -> jsonschema.protocols.Validator:
    """kubernetes-validate's strict schema for (kind, apiVersion), compiled once.

    Same files and procedure as ``kubernetes_validate.validate(doc, KUBE_VERSION,
    strict=True)``, which re-reads the large definitions file on every call.
    """
    schema_dir = f"kubernetes-json-schema/v{version}-local-strict"
    api = re.sub(r"^([^./]*)(?:\.[^/]*)?/", r"\1-", api_version)
    schema = schema_contents(f"{schema_dir}/{kind.lower()}-{api}.json", version)
    defs = schema_contents(f"{schema_dir}/_definitions.json", version)
    registry = referencing.Resource.from_contents(defs) @ (
        referencing.Resource.from_contents(schema) @ referencing.Registry()
    )
    return jsonschema.Draft202012Validator(schema, registry=registry)


def _values(path: Path) -> dict[str, Any]:
    return helm.values_from_yaml(path.read_text())


def render(values: dict[str, Any]) -> list[dict[str, Any]]:
    """Every manifest the chart renders for ``values`` (NOTES.txt excluded); a fresh copy."""
    return json.loads(_render_cached(json.dumps(values, sort_keys=True)))


@functools.cache
def _render_cached(values_json: str) -> str:
    # genCA makes RSA keys: render each scenario once per session.
    return json.dumps(_render(json.loads(values_json)))


def _render(values: dict[str, Any]) -> list[dict[str, Any]]:
    with helm.Chart.load(CHART) as chart:
        out = chart.render(values, name=RELEASE, namespace=NAMESPACE, is_install=True)
    docs = []
    for name, text in sorted(out.items()):
        if name.endswith("NOTES.txt"):
            continue
        docs += [d for d in yaml.safe_load_all(text) if d]
    return docs


def scenario(name: str) -> list[dict[str, Any]]:
    return render(_values(CHART / "ci" / f"{name}-values.yaml"))


def one(docs: list[dict], kind: str, name: str | None = None) -> dict[str, Any]:
    found = [d for d in docs if d["kind"] == kind and name in (None, d["metadata"]["name"])]
    assert len(found) == 1, (kind, name, [d["metadata"]["name"] for d in found])
    return found[0]


def kinds(docs: list[dict]) -> set[str]:
    return {d["kind"] for d in docs}


def pod_specs(docs: list[dict]) -> Iterator[tuple[str, dict[str, Any]]]:
    for d in docs:
        if d["kind"] in ("Deployment", "StatefulSet", "DaemonSet", "Job"):
            yield d["metadata"]["name"], d["spec"]["template"]["spec"]
        elif d["kind"] == "Pod":
            yield d["metadata"]["name"], d["spec"]


def env_of(container: dict[str, Any]) -> dict[str, Any]:
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in container.get("env", [])}


# ---- every scenario -----------------------------------------------------------------


def test_scenarios_exist() -> None:
    names = {p.name for p in SCENARIOS}
    assert {"default-values.yaml", "standalone-values.yaml", "injection-genca-values.yaml",
            "injection-certmanager-values.yaml", "sidecar-template-values.yaml"} <= names


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.stem)
def test_lint_strict(path: Path) -> None:
    report = helm.lint(str(CHART), _values(path), strict=True, namespace=NAMESPACE,
                       kube_version=f"v{KUBE_VERSION}")  # fmt: skip
    problems = [m for m in report["messages"] if m["severity"] >= 2]
    assert not problems and not report["errors"], (problems, report["errors"])


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.stem)
def test_manifests_validate(path: Path) -> None:
    docs = render(_values(path))
    assert docs
    for doc in docs:
        where = f"{path.stem}: {doc['kind']}/{doc['metadata']['name']}"
        if doc["kind"] in CRD_KINDS:
            _check_crd(doc, where)
            continue
        for version in VALIDATE_VERSIONS:
            validator = _k8s_validator(doc["kind"], doc["apiVersion"], version)
            errors = [e.message for e in validator.iter_errors(doc)]
            assert not errors, f"{where} (Kubernetes {version}): {errors}"
        for key in STANDARD_LABELS:
            assert key in doc["metadata"].get("labels", {}), f"{where}: label {key}"


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.stem)
def test_restricted_pods(path: Path) -> None:
    """Every container: non-root, read-only root fs, no capabilities, requests and limits."""
    for name, spec in pod_specs(render(_values(path))):
        assert spec["securityContext"]["runAsNonRoot"] is True, name
        assert spec["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault"
        assert spec.get("automountServiceAccountToken") is False, name
        for c in [*spec.get("initContainers", []), *spec["containers"]]:
            sc = c["securityContext"]
            assert sc["runAsNonRoot"] and sc["readOnlyRootFilesystem"], (name, c["name"])
            assert sc["allowPrivilegeEscalation"] is False, (name, c["name"])
            assert sc["capabilities"] == {"drop": ["ALL"]}, (name, c["name"])
            assert c["resources"]["requests"] and c["resources"]["limits"], (name, c["name"])
            assert "livenessProbe" in c or c["name"] in ("agent", "wget"), (name, c["name"])


def _check_crd(doc: dict[str, Any], where: str) -> None:
    """Required fields of the CRD kinds kubernetes-validate cannot check."""
    spec = doc["spec"]
    api = doc["apiVersion"]
    if doc["kind"] in ("ServiceMonitor", "PodMonitor"):
        assert api == "monitoring.coreos.com/v1", where
        assert spec["selector"]["matchLabels"], where
        key = "endpoints" if doc["kind"] == "ServiceMonitor" else "podMetricsEndpoints"
        for ep in spec[key]:
            assert ep["port"] == "tierline-admin" and ep["path"] == "/metrics", where
    elif doc["kind"] == "PrometheusRule":
        assert api == "monitoring.coreos.com/v1", where
        for group in spec["groups"]:
            assert group["name"] and group["rules"], where
            for rule in group["rules"]:
                assert rule["expr"] and ("alert" in rule) != ("record" in rule), where
    elif doc["kind"] == "Certificate":
        assert api == "cert-manager.io/v1", where
        assert spec["secretName"] and spec["issuerRef"]["name"] and spec["dnsNames"], where
    elif doc["kind"] == "Issuer":
        assert api == "cert-manager.io/v1", where
        assert {"selfSigned", "ca", "acme", "vault", "venafi"} & set(spec), where


def test_validator_agrees_with_kubernetes_validate() -> None:
    """The cached validator rejects what kubernetes-validate rejects (strict: unknown keys)."""
    dep = one(render({}), "Deployment")
    assert kubernetes_validate.validate(dep, KUBE_VERSION, strict=True)
    dep["spec"]["template"]["spec"]["containers"][0]["restartPolicyy"] = "Always"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(dep, KUBE_VERSION, strict=True)
    assert list(_k8s_validator("Deployment", "apps/v1").iter_errors(dep))


def test_schema_rejects_bad_values() -> None:
    with helm.Chart.load(CHART) as chart:
        chart.validate_schema(_values(CHART / "ci" / "full-values.yaml"))
        for bad in ({"injection": {"webhook": {"failurePolicy": "Sometimes"}}},
                    {"standalone": {"replicas": 3}},
                    {"ports": {"proxy": 70000, "admin": 8788}}):  # fmt: skip
            with pytest.raises(helm.HelmValuesError):
                chart.validate_schema(bad)


def test_config_must_open_the_admin_port_the_probes_use() -> None:
    with pytest.raises(helm.HelmRenderError, match="admin_port = 9999"):
        _render({"ports": {"proxy": 8787, "admin": 9999}})
    toml = '[server]\nadmin_host = "0.0.0.0"\nadmin_port = 9999  # probes\n'
    dep = one(render({"ports": {"admin": 9999}, "config": {"toml": toml}}), "Deployment")
    (c,) = dep["spec"]["template"]["spec"]["containers"]
    assert {"name": "tierline-admin", "containerPort": 9999} in c["ports"]


def test_image_tag_is_app_version() -> None:
    with helm.Chart.load(CHART) as chart:
        assert chart.values["image"]["tag"] == chart.metadata["appVersion"]


def test_default_config_is_a_valid_tierline_config(tmp_path: Path) -> None:
    with helm.Chart.load(CHART) as chart:
        values = chart.values
    path = tmp_path / "tierline.toml"
    path.write_text(values["config"]["toml"])
    config = load_config(str(path), {"OPENROUTER_API_KEY": "sk-test"})
    assert config.server.admin_port == values["ports"]["admin"]
    assert config.server.admin_host == "0.0.0.0"


# ---- modes ----------------------------------------------------------------------------


def test_default_is_a_standalone_gateway() -> None:
    docs = render({})
    assert kinds(docs) == {"ConfigMap", "Deployment", "Service", "ServiceAccount",
                           "PodDisruptionBudget", "Pod"}  # fmt: skip
    hook = one(docs, "Pod")  # `helm test`: /readyz through the Service
    assert hook["metadata"]["annotations"]["helm.sh/hook"] == "test"
    assert hook["spec"]["containers"][0]["command"][-1] == f"http://{RELEASE}-tierline:8788/readyz"
    dep = one(docs, "Deployment")
    assert dep["spec"]["replicas"] == 2
    (c,) = dep["spec"]["template"]["spec"]["containers"]
    assert c["args"][:3] == ["serve", "--config", "/etc/tierline/tierline.toml"]
    assert c["args"][c["args"].index("--host") + 1] == "0.0.0.0"
    assert c["startupProbe"]["httpGet"] == {"path": "/readyz", "port": "tierline-admin"}
    assert c["envFrom"] == [{"secretRef": {"name": "tierline-keys"}}]
    svc = one(docs, "Service")
    assert {p["name"] for p in svc["spec"]["ports"]} == {"http", "tierline-admin"}
    assert one(docs, "PodDisruptionBudget")["spec"]["minAvailable"] == 1


def test_standalone_with_monitoring() -> None:
    docs = scenario("standalone")
    dep = one(docs, "Deployment")
    assert "replicas" not in dep["spec"]  # the HPA owns it
    assert one(docs, "HorizontalPodAutoscaler")["spec"]["maxReplicas"] == 6
    (c,) = dep["spec"]["template"]["spec"]["containers"]
    env = env_of(c)
    assert env["OTEL_EXPORTER_OTLP_ENDPOINT"] == "https://otlp.example.com"
    assert env["OTEL_EXPORTER_OTLP_HEADERS"] == {"secretKeyRef": {"name": "otlp-auth",
                                                                  "key": "headers"}}
    assert c["envFrom"] == [{"secretRef": {"name": "team-llm-keys"}}]
    sm = one(docs, "ServiceMonitor")
    assert sm["metadata"]["labels"]["release"] == "kube-prometheus-stack"
    rule = one(docs, "PrometheusRule")
    plain = yaml.safe_load((ROOT / "grafana" / "alerts" / "tierline-alerts.yaml").read_text())
    assert rule["spec"] == plain
    alerts = {r["alert"] for g in rule["spec"]["groups"] for r in g["rules"]}
    assert alerts == {"TierlineHighFallbackRate", "TierlineUpstreamErrorRate",
                      "TierlineAllCandidatesExhausted", "TierlineTelemetryDropped"}  # fmt: skip
    _assert_dashboards(docs, "grafana_dashboard", "1", NAMESPACE)
    nps = [d for d in docs if d["kind"] == "NetworkPolicy"]
    assert len(nps) == 1 and nps[0]["spec"]["ingress"][1]["from"]


def _assert_dashboards(docs: list[dict], label: str, value: str, namespace: str) -> None:
    boards = [d for d in docs if d["kind"] == "ConfigMap" and label in d["metadata"]["labels"]]
    files = {p.name: p.read_text() for p in (ROOT / "grafana" / "dashboards").glob("*.json")}
    assert len(boards) == len(files) == 4
    for cm in boards:
        assert cm["metadata"]["labels"][label] == value
        assert cm["metadata"]["namespace"] == namespace
        ((fname, text),) = cm["data"].items()
        assert json.loads(text) == json.loads(files[fname])


def test_injection_with_generated_ca() -> None:
    docs = scenario("injection-genca")
    assert "HorizontalPodAutoscaler" not in kinds(docs)
    webhook_cfg = one(docs, "MutatingWebhookConfiguration")
    (hook,) = webhook_cfg["webhooks"]
    assert hook["failurePolicy"] == "Ignore" and hook["sideEffects"] == "None"
    assert hook["admissionReviewVersions"] == ["v1"]
    assert hook["clientConfig"]["service"]["path"] == "/mutate"
    assert hook["rules"][0]["resources"] == ["pods"]
    assert hook["namespaceSelector"]["matchExpressions"][0]["values"] == ["agents", "ci-runners"]
    assert hook["objectSelector"]["matchExpressions"][0]["key"] == "tierline.io/inject"
    # The caBundle is the CA that signed the serving certificate in the Secret.
    secret = one(docs, "Secret", f"{RELEASE}-tierline-webhook-tls")
    ca = x509.load_pem_x509_certificate(base64.b64decode(hook["clientConfig"]["caBundle"]))
    cert = x509.load_pem_x509_certificate(base64.b64decode(secret["data"]["tls.crt"]))
    cert.verify_directly_issued_by(ca)
    sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert f"{RELEASE}-tierline-webhook.{NAMESPACE}.svc" in sans.get_values_for_type(x509.DNSName)
    # The webhook runs `tierline webhook` with the settings the chart renders.
    dep = one(docs, "Deployment", f"{RELEASE}-tierline-webhook")
    (c,) = dep["spec"]["template"]["spec"]["containers"]
    assert c["args"][0] == "webhook"
    assert "--settings=/etc/tierline-webhook/settings/settings.json" in c["args"]
    settings_cm = one(docs, "ConfigMap", f"{RELEASE}-tierline-webhook-settings")
    settings = SidecarSettings.from_json(json.loads(settings_cm["data"]["settings.json"]))
    assert settings.image == "ghcr.io/tierline/tierline:0.1.0"
    assert (settings.proxy_port, settings.admin_port) == (8787, 8788)
    # Per-namespace sidecar ConfigMaps, same TOML as the release's.
    release_cm = one(docs, "ConfigMap", f"{RELEASE}-tierline-config")
    for ns in ("agents", "ci-runners"):
        cm = [d for d in docs if d["kind"] == "ConfigMap" and d["metadata"]["namespace"] == ns]
        assert len(cm) == 1 and cm[0]["metadata"]["name"] == "tierline-config"
        assert cm[0]["data"] == release_cm["data"]
    pm = one(docs, "PodMonitor")
    assert pm["spec"]["selector"]["matchLabels"] == {"tierline.io/injected": "true"}
    assert pm["spec"]["namespaceSelector"]["matchNames"] == ["agents", "ci-runners"]
    _assert_dashboards(docs, "grafana_dashboard_tierline", "yes", NAMESPACE)


def test_injection_with_cert_manager() -> None:
    docs = scenario("injection-certmanager")
    issuer, cert = one(docs, "Issuer"), one(docs, "Certificate")
    assert issuer["spec"] == {"selfSigned": {}}
    assert cert["spec"]["issuerRef"]["name"] == issuer["metadata"]["name"]
    assert cert["spec"]["secretName"] == f"{RELEASE}-tierline-webhook-tls"
    hook_cfg = one(docs, "MutatingWebhookConfiguration")
    assert hook_cfg["metadata"]["annotations"]["cert-manager.io/inject-ca-from"] == (
        f"{NAMESPACE}/{cert['metadata']['name']}"
    )
    (hook,) = hook_cfg["webhooks"]
    assert "caBundle" not in hook["clientConfig"]
    excluded = hook["namespaceSelector"]["matchExpressions"][0]
    assert excluded["operator"] == "NotIn" and NAMESPACE in excluded["values"]
    assert "Secret" not in kinds(docs)
    assert one(docs, "PodMonitor")["spec"]["namespaceSelector"] == {"any": True}


def test_injection_with_existing_issuer() -> None:
    docs = scenario("injection-issuer")
    assert "Issuer" not in kinds(docs)
    assert one(docs, "Certificate")["spec"]["issuerRef"]["kind"] == "ClusterIssuer"
    (hook,) = one(docs, "MutatingWebhookConfiguration")["webhooks"]
    assert hook["namespaceSelector"] == {"matchLabels": {"tierline.io/injection": "enabled"}}
    assert "PodDisruptionBudget" not in kinds(docs)  # one webhook replica


def test_named_template_matches_what_the_webhook_injects() -> None:
    """`tierline.sidecar` (Go template) and sidecar/webhook.py build the same container."""
    docs = scenario("sidecar-template")
    dep = one(docs, "Deployment", f"{RELEASE}-tierline-example-agent")
    spec = dep["spec"]["template"]["spec"]
    (side,) = spec["initContainers"]
    assert side["restartPolicy"] == "Always"
    with helm.Chart.load(CHART) as chart:
        values = chart.values
    env = {k: v for k, v in env_of(side).items() if k.startswith("OTEL_") and isinstance(v, str)}
    env.pop("OTEL_RESOURCE_ATTRIBUTES")
    settings = SidecarSettings(
        image=f"{values['image']['repository']}:{values['image']['tag']}",
        proxy_port=values["ports"]["proxy"], admin_port=values["ports"]["admin"],
        config_map=f"{RELEASE}-tierline-config", secret="tierline-keys",
        resources=values["sidecar"]["resources"], env=tuple(sorted(env.items())),
    )  # fmt: skip
    expected = sidecar_container(settings, {"tierline.io/tier": "quick"})
    assert side == expected
    volumes = {v["name"]: v for v in spec["volumes"]}
    assert volumes["tierline-config"]["configMap"]["name"] == f"{RELEASE}-tierline-config"
    agent_env = env_of(spec["containers"][0])
    assert agent_env["OPENAI_BASE_URL"] == "http://127.0.0.1:8787/v1"
    # The collector is deployed with the same otel/collector.yaml, and tierline exports to it.
    collector_cm = one(docs, "ConfigMap", f"{RELEASE}-tierline-collector")
    assert collector_cm["data"]["collector.yaml"] == (ROOT / "otel" / "collector.yaml").read_text()
    assert env_of(side)["OTEL_EXPORTER_OTLP_ENDPOINT"] == (
        f"http://{RELEASE}-tierline-collector.{NAMESPACE}.svc:4318"
    )


def test_full_scenario_renders_every_component() -> None:
    docs = scenario("full")
    assert {"Deployment", "Service", "MutatingWebhookConfiguration", "ServiceMonitor",
            "PodMonitor", "PrometheusRule", "NetworkPolicy", "PodDisruptionBudget"} <= kinds(docs)
    deployments = {d["metadata"]["name"] for d in docs if d["kind"] == "Deployment"}
    assert deployments == {f"{RELEASE}-tierline", f"{RELEASE}-tierline-webhook",
                           f"{RELEASE}-tierline-collector", f"{RELEASE}-tierline-example-agent"}
    boards = [d for d in docs if "grafana_dashboard" in d["metadata"].get("labels", {})]
    assert {d["metadata"]["namespace"] for d in boards} == {"monitoring"}
