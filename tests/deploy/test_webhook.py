"""`tierline webhook` over real HTTPS on loopback: AdmissionReview in, JSONPatch out.

The patch is applied to the pod with the ``jsonpatch`` package (RFC 6902), and the
result is checked as the kubelet would see it: a native sidecar first among the init
containers, base URLs on app containers, the ConfigMap/Secret named by annotations.
"""

from __future__ import annotations

import asyncio
import base64
import copy
import json
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import jsonpatch
import pytest
from aiohttp import web

from sidecar.webhook import SidecarSettings, build_webhook_app, tls_context

SETTINGS = SidecarSettings(
    image="registry.example/tierline:test",
    proxy_port=8787,
    admin_port=9464,
    resources={"requests": {"cpu": "50m", "memory": "96Mi"}},
    env=(("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318"),),
)


def _pod(annotations: dict[str, str] | None = None, **spec: Any) -> dict[str, Any]:
    meta: dict[str, Any] = {"generateName": "agent-", "namespace": "agents"}
    if annotations is not None:
        meta["annotations"] = annotations
    spec.setdefault("containers", [{"name": "agent", "image": "agent:1"}])
    return {"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": spec}


def _review(pod: dict[str, Any], uid: str = "b1f6c2e4-0000-4000-8000-000000000001") -> dict:
    return {
        "apiVersion": "admission.k8s.io/v1",
        "kind": "AdmissionReview",
        "request": {
            "uid": uid,
            "kind": {"group": "", "version": "v1", "kind": "Pod"},
            "resource": {"group": "", "version": "v1", "resource": "pods"},
            "namespace": "agents",
            "operation": "CREATE",
            "object": pod,
        },
    }


@pytest.fixture
async def webhook(tls_files: tuple[Path, Path]) -> AsyncIterator[tuple[str, ssl.SSLContext]]:
    """The webhook app on an HTTPS loopback port; yields (base URL, client TLS context)."""
    cert, key = tls_files
    runner = web.AppRunner(build_webhook_app(SETTINGS))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=tls_context(str(cert), str(key)))
    await site.start()
    port = runner.addresses[0][1]
    client_ctx = ssl.create_default_context(cafile=str(cert))
    try:
        yield f"https://127.0.0.1:{port}", client_ctx
    finally:
        await runner.cleanup()


async def _post(webhook: tuple[str, ssl.SSLContext], body: bytes) -> tuple[int, Any]:
    url, ctx = webhook
    async with aiohttp.ClientSession() as session:
        async with session.post(
            f"{url}/mutate", data=body, headers={"content-type": "application/json"}, ssl=ctx
        ) as resp:
            return resp.status, await resp.json()


def _apply(pod: dict[str, Any], response: dict[str, Any]) -> dict[str, Any]:
    assert response["patchType"] == "JSONPatch"
    ops = json.loads(base64.b64decode(response["patch"]))
    return jsonpatch.apply_patch(copy.deepcopy(pod), ops)


def _env(container: dict[str, Any]) -> dict[str, Any]:
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in container.get("env", [])}


async def test_annotated_pod_gets_native_sidecar_and_base_urls(webhook) -> None:
    pod = _pod(
        {"tierline.io/inject": "true", "tierline.io/tier": "quick",
         "tierline.io/config": "team-routing", "tierline.io/secret": "team-keys"},
        initContainers=[{"name": "migrate", "image": "migrate:1"}],
        containers=[
            {"name": "agent", "image": "agent:1"},
            {"name": "tool", "image": "tool:1",
             "env": [{"name": "OPENAI_BASE_URL", "value": "https://mine.example/v1"}]},
        ],
    )  # fmt: skip
    status, body = await _post(webhook, json.dumps(_review(pod)).encode())
    assert status == 200
    response = body["response"]
    assert body["kind"] == "AdmissionReview" and body["apiVersion"] == "admission.k8s.io/v1"
    assert response["uid"] == "b1f6c2e4-0000-4000-8000-000000000001"
    assert response["allowed"] is True
    out = _apply(pod, response)

    spec = out["spec"]
    assert [c["name"] for c in spec["initContainers"]] == ["tierline", "migrate"]
    side = spec["initContainers"][0]
    assert side["restartPolicy"] == "Always"
    assert side["image"] == "registry.example/tierline:test"
    assert side["args"][side["args"].index("--host") + 1] == "127.0.0.1"
    assert side["startupProbe"]["httpGet"] == {"path": "/readyz", "port": "tierline-admin"}
    assert side["ports"] == [{"name": "tierline-admin", "containerPort": 9464}]
    assert side["envFrom"] == [{"secretRef": {"name": "team-keys", "optional": True}}]
    assert side["resources"] == {"requests": {"cpu": "50m", "memory": "96Mi"}}
    sc = side["securityContext"]
    assert sc["runAsNonRoot"] and sc["readOnlyRootFilesystem"]
    assert sc["capabilities"] == {"drop": ["ALL"]} and sc["allowPrivilegeEscalation"] is False
    env = _env(side)
    assert env["TIERLINE_TIER"] == "quick"
    assert env["TIERLINE_CONFIG"] == "/etc/tierline/tierline.toml"
    assert env["OTEL_EXPORTER_OTLP_ENDPOINT"] == "http://collector:4318"
    volumes = {v["name"]: v for v in spec["volumes"]}
    assert volumes["tierline-config"]["configMap"] == {"name": "team-routing"}

    agent, tool = spec["containers"]
    assert _env(agent) == {
        "OPENAI_BASE_URL": "http://127.0.0.1:8787/v1",
        "ANTHROPIC_BASE_URL": "http://127.0.0.1:8787",
    }
    assert _env(tool)["OPENAI_BASE_URL"] == "https://mine.example/v1"  # kept
    assert _env(tool)["ANTHROPIC_BASE_URL"] == "http://127.0.0.1:8787"
    assert out["metadata"]["annotations"]["tierline.io/status"] == "injected"
    assert out["metadata"]["labels"] == {"tierline.io/injected": "true"}


async def test_defaults_and_set_env_false(webhook) -> None:
    pod = _pod({"tierline.io/inject": "true", "tierline.io/set-env": "false"},
               volumes=[{"name": "work", "emptyDir": {}}])  # fmt: skip
    status, body = await _post(webhook, json.dumps(_review(pod)).encode())
    out = _apply(pod, body["response"])
    side = out["spec"]["initContainers"][0]
    assert "TIERLINE_TIER" not in _env(side)
    assert side["envFrom"][0]["secretRef"]["name"] == "tierline-keys"
    names = [v["name"] for v in out["spec"]["volumes"]]
    assert names == ["work", "tierline-config", "tierline-tmp"]
    assert out["spec"]["volumes"][1]["configMap"] == {"name": "tierline-config"}
    assert "env" not in out["spec"]["containers"][0]


@pytest.mark.parametrize("annotations", [None, {}, {"tierline.io/inject": "false"}])
async def test_pod_not_opted_in_is_allowed_unchanged(webhook, annotations) -> None:
    status, body = await _post(webhook, json.dumps(_review(_pod(annotations))).encode())
    assert status == 200
    assert body["response"]["allowed"] is True
    assert "patch" not in body["response"]


async def test_already_injected_pod_is_left_alone(webhook) -> None:
    pod = _pod({"tierline.io/inject": "true"})
    status, body = await _post(webhook, json.dumps(_review(pod)).encode())
    injected = _apply(pod, body["response"])
    # Re-invocation (reinvocationPolicy, or a pod created from an injected spec).
    status, body = await _post(webhook, json.dumps(_review(injected)).encode())
    assert status == 200 and body["response"]["allowed"] is True
    assert "patch" not in body["response"]
    # Same when only the container is present (a user included tierline.sidecar).
    manual = _pod({"tierline.io/inject": "true"},
                  initContainers=[{"name": "tierline", "image": "x", "restartPolicy": "Always"}])
    status, body = await _post(webhook, json.dumps(_review(manual)).encode())
    assert "patch" not in body["response"]


@pytest.mark.parametrize(
    "body",
    [
        b"{not json",
        b"[]",
        json.dumps({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview"}).encode(),
        json.dumps({"kind": "AdmissionReview", "request": {"object": {}}}).encode(),
        json.dumps({"kind": "Pod"}).encode(),
    ],
)
async def test_malformed_review_is_400(webhook, body: bytes) -> None:
    status, payload = await _post(webhook, body)
    assert status == 400
    assert "error" in payload


async def test_non_pod_object_is_allowed_with_warning(webhook) -> None:
    review = _review({"metadata": {}})
    review["request"]["kind"] = {"group": "apps", "version": "v1", "kind": "Deployment"}
    status, body = await _post(webhook, json.dumps(review).encode())
    assert status == 200 and body["response"]["allowed"] is True
    assert "patch" not in body["response"] and body["response"]["warnings"]


@pytest.mark.parametrize(
    "obj",
    [[], "pod", {"metadata": [], "spec": {}}, {"spec": None},
     {"metadata": {"annotations": ["x"]}, "spec": {}},
     {"metadata": {"annotations": {"tierline.io/inject": "true"}}, "spec": {"containers": "x"}}],
)  # fmt: skip
async def test_unreadable_pod_is_allowed_unchanged(webhook, obj) -> None:
    """A review with a uid but a pod we cannot read: never block, never patch."""
    status, body = await _post(webhook, json.dumps(_review(obj)).encode())
    assert status == 200 and body["response"]["allowed"] is True
    assert "patch" not in body["response"]


def test_settings_from_chart_json() -> None:
    s = SidecarSettings.from_json(
        {"image": "img:1", "proxyPort": 9000, "adminPort": 9001,
         "env": {"OTEL_EXPORTER_OTLP_HEADERS": "a=b"}, "resources": {}}
    )  # fmt: skip
    assert (s.image, s.proxy_port, s.admin_port) == ("img:1", 9000, 9001)
    assert s.env == (("OTEL_EXPORTER_OTLP_HEADERS", "a=b"),)
    with pytest.raises(ValueError, match="unknown"):
        SidecarSettings.from_json({"imagee": "typo"})


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_tierline_webhook_command_serves_tls(tls_files, tmp_path: Path) -> None:
    """`tierline webhook --cert --key --settings` (the chart's command line) end to end."""
    cert, key = tls_files
    settings = tmp_path / "settings.json"
    settings.write_text(json.dumps({"image": "img:cli", "adminPort": 8788}))
    port = _free_port()
    with (tmp_path / "stderr").open("wb") as stderr:
        proc = subprocess.Popen(
            [sys.executable, "-m", "sidecar", "webhook", "--cert", str(cert), "--key", str(key),
             "--host", "127.0.0.1", "--port", str(port), "--settings", str(settings)],
            stdout=subprocess.DEVNULL, stderr=stderr,
        )  # fmt: skip
    ctx = ssl.create_default_context(cafile=str(cert))
    base = f"https://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 15
        async with aiohttp.ClientSession() as session:
            while True:  # poll readiness, bounded
                assert proc.poll() is None, (tmp_path / "stderr").read_text()
                try:
                    async with session.get(f"{base}/readyz", ssl=ctx) as resp:
                        if resp.status == 200:
                            break
                except aiohttp.ClientConnectionError:
                    pass
                assert time.monotonic() < deadline, "webhook did not come up"
                await asyncio.sleep(0.05)
        pod = _pod({"tierline.io/inject": "true"})
        status, body = await _post((base, ctx), json.dumps(_review(pod)).encode())
        assert status == 200
        side = _apply(pod, body["response"])["spec"]["initContainers"][0]
        assert side["image"] == "img:cli"
        assert side["ports"] == [{"name": "tierline-admin", "containerPort": 8788}]
    finally:
        proc.terminate()
        proc.wait(timeout=10)
