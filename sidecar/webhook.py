"""`tierline webhook`: the Kubernetes mutating admission webhook that injects tierline.

The API server POSTs an ``admission.k8s.io/v1`` AdmissionReview to ``/mutate`` over
TLS. For a Pod annotated ``tierline.io/inject: "true"`` the answer carries a base64
JSONPatch (RFC 6902) that adds tierline as a *native sidecar* (an init container with
``restartPolicy: Always``, inserted first so it is ready before other init containers
and app containers start) and points the app containers at it with
``OPENAI_BASE_URL`` / ``ANTHROPIC_BASE_URL``.

Contract:

* Never blocks a pod: every well-formed review is answered ``allowed: true``; a pod
  that is not opted in, is already injected, or cannot be read gets no patch.
* Idempotent: a pod that already carries the sidecar (by container name or the
  ``tierline.io/status`` annotation) is left alone, so re-invocation is harmless.
* A body that is not an AdmissionReview with ``request.uid`` gets HTTP 400 (there is
  no uid to answer to).
* The patched pod is marked: annotation ``tierline.io/status: injected`` and label
  ``tierline.io/injected: "true"`` (what the chart's PodMonitor selects).
* Env vars an app container already sets are kept; ``tierline.io/set-env: "false"``
  skips them entirely.

Annotations read from the pod: ``tierline.io/inject``, ``tierline.io/config``
(ConfigMap holding ``tierline.toml``), ``tierline.io/secret`` (Secret whose keys become
the sidecar's environment, e.g. ``OPENROUTER_API_KEY``), ``tierline.io/tier`` (tier
lock, passed as ``TIERLINE_TIER``), ``tierline.io/set-env``.

``review_response`` and ``pod_patch`` are pure functions over dicts; the app and
``run`` are the I/O edge.
"""

from __future__ import annotations

import argparse
import base64
import json
import logging
import ssl
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

ANNOTATION_PREFIX = "tierline.io/"
INJECT = "tierline.io/inject"
CONFIG = "tierline.io/config"
SECRET = "tierline.io/secret"
TIER = "tierline.io/tier"
SET_ENV = "tierline.io/set-env"
STATUS = "tierline.io/status"
INJECTED_LABEL = "tierline.io/injected"  # pod label a PodMonitor selects on

CONFIG_MOUNT = "/etc/tierline"
CONFIG_FILE = "tierline.toml"
_TRUE = frozenset({"true", "yes", "1", "enabled", "on"})
_FALSE = frozenset({"false", "no", "0", "disabled", "off"})


@dataclass(frozen=True)
class SidecarSettings:
    """What the webhook injects; the chart renders these as JSON (``--settings``)."""

    image: str = "ghcr.io/tierline/tierline:0.1.0"
    image_pull_policy: str = "IfNotPresent"
    container_name: str = "tierline"
    proxy_port: int = 8787
    admin_port: int = 8788
    config_map: str = "tierline-config"
    secret: str = "tierline-keys"
    resources: Mapping[str, Any] = field(default_factory=dict)
    env: tuple[tuple[str, str], ...] = ()  # extra sidecar env, e.g. OTLP endpoint
    run_as_user: int = 10001

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> SidecarSettings:
        """Build from the chart's camelCase JSON; unknown keys are an error."""
        keys = {
            "image": "image",
            "imagePullPolicy": "image_pull_policy",
            "containerName": "container_name",
            "proxyPort": "proxy_port",
            "adminPort": "admin_port",
            "configMap": "config_map",
            "secret": "secret",
            "resources": "resources",
            "runAsUser": "run_as_user",
        }
        unknown = set(data) - set(keys) - {"env"}
        if unknown:
            raise ValueError(f"unknown webhook settings: {sorted(unknown)}")
        kwargs: dict[str, Any] = {keys[k]: v for k, v in data.items() if k in keys}
        env = data.get("env") or {}
        if not isinstance(env, Mapping):
            raise ValueError("webhook settings: env must be a mapping")
        kwargs["env"] = tuple((str(k), str(v)) for k, v in sorted(env.items()))
        return cls(**kwargs)


class MalformedReview(ValueError):
    """The body is not an AdmissionReview request we can answer."""


def _truthy(value: str | None) -> bool:
    return value is not None and value.strip().lower() in _TRUE


def _falsy(value: str | None) -> bool:
    return value is not None and value.strip().lower() in _FALSE


def _escape(key: str) -> str:
    """JSON Pointer escaping (RFC 6901) for map keys such as annotation names."""
    return key.replace("~", "~0").replace("/", "~1")


def _sidecar_env(settings: SidecarSettings, annotations: Mapping[str, str]) -> list[Any]:
    """Config path, pod identity for OTel resource attributes, tier lock, chart extras."""
    env: list[dict[str, Any]] = [
        {"name": "TIERLINE_CONFIG", "value": f"{CONFIG_MOUNT}/{CONFIG_FILE}"},
        {"name": "POD_NAMESPACE", "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}}},
        {"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
        {
            "name": "OTEL_RESOURCE_ATTRIBUTES",
            "value": "k8s.namespace.name=$(POD_NAMESPACE),k8s.pod.name=$(POD_NAME)",
        },
    ]
    tier = annotations.get(TIER, "").strip()
    if tier:
        env.append({"name": "TIERLINE_TIER", "value": tier})
    env.extend({"name": k, "value": v} for k, v in settings.env)
    return env


def _probes() -> dict[str, Any]:
    """Startup/readiness on the admin listener's /readyz, liveness on /healthz."""
    ready = {"httpGet": {"path": "/readyz", "port": "tierline-admin"}}
    return {
        "startupProbe": {**ready, "periodSeconds": 1, "failureThreshold": 60},
        "readinessProbe": {**ready, "periodSeconds": 10},
        "livenessProbe": {
            "httpGet": {"path": "/healthz", "port": "tierline-admin"},
            "periodSeconds": 20,
        },
    }


def sidecar_container(settings: SidecarSettings, annotations: Mapping[str, str]) -> dict[str, Any]:
    """The native-sidecar container for a pod with these annotations.

    Same shape as the chart's ``tierline.sidecar`` template (a test compares them).
    """
    config = f"{CONFIG_MOUNT}/{CONFIG_FILE}"
    secret = annotations.get(SECRET) or settings.secret
    proxy_port = str(settings.proxy_port)
    container: dict[str, Any] = {
        "name": settings.container_name,
        "image": settings.image,
        "imagePullPolicy": settings.image_pull_policy,
        "restartPolicy": "Always",
        "args": ["serve", "--config", config, "--host", "127.0.0.1", "--port", proxy_port],
        "env": _sidecar_env(settings, annotations),
        "envFrom": [{"secretRef": {"name": secret, "optional": True}}],
        "ports": [{"name": "tierline-admin", "containerPort": settings.admin_port}],
        **_probes(),
        "securityContext": {
            "runAsNonRoot": True,
            "runAsUser": settings.run_as_user,
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "capabilities": {"drop": ["ALL"]},
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        "volumeMounts": [
            {"name": "tierline-config", "mountPath": CONFIG_MOUNT, "readOnly": True},
            {"name": "tierline-tmp", "mountPath": "/tmp"},
        ],
    }
    if settings.resources:
        container["resources"] = dict(settings.resources)
    return container


def _volumes(settings: SidecarSettings, annotations: Mapping[str, str]) -> list[dict[str, Any]]:
    name = annotations.get(CONFIG) or settings.config_map
    return [
        {"name": "tierline-config", "configMap": {"name": name}},
        {"name": "tierline-tmp", "emptyDir": {}},
    ]


def _is_injected(pod: Mapping[str, Any], settings: SidecarSettings) -> bool:
    meta = pod.get("metadata") or {}
    if (meta.get("annotations") or {}).get(STATUS) == "injected":
        return True
    spec = pod.get("spec") or {}
    containers = [*(spec.get("initContainers") or []), *(spec.get("containers") or [])]
    names = {c.get("name") for c in containers}
    return settings.container_name in names


def _env_patch(pod: Mapping[str, Any], settings: SidecarSettings) -> list[dict[str, Any]]:
    """Base-URL env for each app container, keeping any value it already sets."""
    base = f"http://127.0.0.1:{settings.proxy_port}"
    wanted = (("OPENAI_BASE_URL", f"{base}/v1"), ("ANTHROPIC_BASE_URL", base))
    ops: list[dict[str, Any]] = []
    for i, container in enumerate((pod.get("spec") or {}).get("containers") or []):
        existing = container.get("env")
        have = {e.get("name") for e in existing or []}
        add = [{"name": k, "value": v} for k, v in wanted if k not in have]
        if not add:
            continue
        if existing is None:
            ops.append({"op": "add", "path": f"/spec/containers/{i}/env", "value": add})
        else:
            ops.extend(
                {"op": "add", "path": f"/spec/containers/{i}/env/-", "value": e} for e in add
            )
    return ops


def pod_patch(pod: Mapping[str, Any], settings: SidecarSettings) -> list[dict[str, Any]]:
    """The JSONPatch injecting tierline into ``pod``; empty when nothing should change."""
    meta = pod.get("metadata") or {}
    annotations: Mapping[str, str] = meta.get("annotations") or {}
    spec = pod.get("spec") or {}
    if not _truthy(annotations.get(INJECT)) or _is_injected(pod, settings):
        return []
    ops: list[dict[str, Any]] = []
    sidecar = sidecar_container(settings, annotations)
    if spec.get("initContainers"):
        ops.append({"op": "add", "path": "/spec/initContainers/0", "value": sidecar})
    else:
        ops.append({"op": "add", "path": "/spec/initContainers", "value": [sidecar]})
    volumes = _volumes(settings, annotations)
    if spec.get("volumes") is None:
        ops.append({"op": "add", "path": "/spec/volumes", "value": volumes})
    else:
        ops.extend({"op": "add", "path": "/spec/volumes/-", "value": v} for v in volumes)
    if not _falsy(annotations.get(SET_ENV)):
        ops.extend(_env_patch(pod, settings))
    ops.extend(_mark(meta, "annotations", STATUS, "injected"))
    ops.extend(_mark(meta, "labels", INJECTED_LABEL, "true"))
    return ops


def _mark(meta: Mapping[str, Any], section: str, key: str, value: str) -> list[dict[str, Any]]:
    """Set ``metadata.<section>[key]``, creating the map when the pod has none."""
    if meta.get(section) is None:
        return [{"op": "add", "path": f"/metadata/{section}", "value": {key: value}}]
    return [{"op": "add", "path": f"/metadata/{section}/{_escape(key)}", "value": value}]


def review_response(review: Any, settings: SidecarSettings) -> dict[str, Any]:
    """Answer an AdmissionReview v1; raises MalformedReview when it has no request uid."""
    if not isinstance(review, dict) or review.get("kind") != "AdmissionReview":
        raise MalformedReview("body is not an AdmissionReview")
    request = review.get("request")
    if not isinstance(request, dict) or not isinstance(request.get("uid"), str):
        raise MalformedReview("AdmissionReview has no request.uid")
    response: dict[str, Any] = {"uid": request["uid"], "allowed": True}
    pod = request.get("object")
    kind = (request.get("kind") or {}).get("kind")
    if kind != "Pod" or not isinstance(pod, dict) or not isinstance(pod.get("spec"), dict):
        response["warnings"] = ["tierline webhook: not a Pod, nothing injected"]
    else:
        try:
            ops = pod_patch(pod, settings)
        except (AttributeError, TypeError, KeyError):  # fields of the wrong JSON type
            ops = []
            response["warnings"] = ["tierline webhook: unreadable Pod, nothing injected"]
        if ops:
            response["patchType"] = "JSONPatch"
            response["patch"] = base64.b64encode(json.dumps(ops).encode()).decode("ascii")
    return {
        "apiVersion": review.get("apiVersion", "admission.k8s.io/v1"),
        "kind": "AdmissionReview",
        "response": response,
    }


SETTINGS_KEY = web.AppKey("settings", SidecarSettings)
_log = logging.getLogger("tierline.webhook")


async def _mutate(request: web.Request) -> web.Response:
    try:
        review = await request.json()
        body = review_response(review, request.app[SETTINGS_KEY])
    except (ValueError, MalformedReview) as exc:
        _log.warning({"event": "admission_rejected", "error": str(exc)})
        return web.json_response({"error": str(exc)}, status=400)
    req = review["request"]
    obj = req.get("object")
    meta = obj.get("metadata") if isinstance(obj, dict) else None
    meta = meta if isinstance(meta, dict) else {}
    _log.info(
        {
            "event": "admission",
            "namespace": req.get("namespace"),
            "pod": meta.get("name") or meta.get("generateName"),
            "injected": "patch" in body["response"],
        }
    )
    return web.json_response(body)


async def _healthz(request: web.Request) -> web.Response:
    return web.Response(text="ok\n")


def build_webhook_app(settings: SidecarSettings) -> web.Application:
    """The webhook's aiohttp app: ``POST /mutate``, ``GET /healthz``, ``GET /readyz``."""
    app = web.Application(client_max_size=4 * 1024 * 1024)
    app[SETTINGS_KEY] = settings
    app.router.add_post("/mutate", _mutate)
    app.router.add_get("/healthz", _healthz)
    app.router.add_get("/readyz", _healthz)
    return app


def tls_context(cert: str, key: str) -> ssl.SSLContext:
    """Server TLS context (TLS 1.2+) from PEM cert and key files."""
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(cert, key)
    return ctx


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Register ``tierline webhook`` options on its subparser."""
    parser.add_argument("--cert", required=True, help="TLS certificate (PEM)")
    parser.add_argument("--key", required=True, help="TLS private key (PEM)")
    parser.add_argument("--host", default="0.0.0.0")
    parser.add_argument("--port", type=int, default=8443)
    parser.add_argument("--settings", help="JSON file: what to inject (image, ports, ...)")


def run(args: argparse.Namespace) -> int:
    """Serve the webhook until interrupted; returns the exit code."""
    settings = SidecarSettings()
    if args.settings:
        with open(args.settings, encoding="utf-8") as f:
            settings = SidecarSettings.from_json(json.load(f))
    _log.info({"event": "webhook_listening", "url": f"https://{args.host}:{args.port}/mutate"})
    web.run_app(
        build_webhook_app(settings),
        host=args.host,
        port=args.port,
        ssl_context=tls_context(args.cert, args.key),
        print=None,
    )
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Standalone entry (``python -m sidecar.webhook``); the CLI calls ``run``."""
    parser = argparse.ArgumentParser(prog="tierline webhook")
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    raise SystemExit(main())
