"""Generate tierline's Grafana dashboards (``python grafana/build.py``).

The JSON in ``grafana/dashboards/`` and its copy in ``helm/tierline/dashboards/`` is
committed; ``tests/deploy/test_dashboards.py`` fails when it differs from what this
script produces (``--check`` does the same from the command line).

Every metric a query uses is looked up by its OTel name in ``sidecar.telemetry.names``
and translated to its Prometheus form the way opentelemetry-exporter-prometheus and the
Collector's ``prometheus`` exporter do it (dots -> ``_``, unit suffix, ``_total`` on
counters). Template variables: ``datasource``, ``namespace``, ``pod``, ``model``,
``tier``, ``provider``; a filter is applied only to metrics that carry that label.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OUT_DIRS = (ROOT / "grafana" / "dashboards", ROOT / "helm" / "tierline" / "dashboards")
RULE_FILES = (ROOT / "grafana" / "alerts" / "tierline-alerts.yaml",
              ROOT / "helm" / "tierline" / "files" / "tierline-alerts.yaml")  # fmt: skip
DS = {"type": "prometheus", "uid": "${datasource}"}
POD = ("namespace", "pod")  # labels every scraped series has in Kubernetes

# Units Prometheus spells out; annotations like {request} and the unit 1 are dropped.
_UNIT_SUFFIX = {"s": "seconds", "ms": "milliseconds", "By": "bytes", "USD": "USD",
                "tokens": "tokens", "count": "count"}  # fmt: skip


@dataclass(frozen=True)
class Metric:
    """One instrument: OTel name (a value in the names module), kind, unit, labels."""

    otel: str
    kind: str  # counter | histogram
    unit: str
    labels: tuple[str, ...]
    aliases: tuple[tuple[str, str], ...] = ()  # (template variable, label) where they differ

    @property
    def prom(self) -> str:
        """Prometheus family name (without ``_bucket``/``_sum``/``_count``)."""
        name = self.otel.replace(".", "_")
        suffix = _UNIT_SUFFIX.get(self.unit, "")
        if suffix and not name.endswith("_" + suffix):
            name += "_" + suffix
        return name + "_total" if self.kind == "counter" else name

    def sel(self, suffix: str = "", **extra: str) -> str:
        """``name{filters}`` with the template-variable filters this metric supports."""
        filters = [f'{lbl}=~"${lbl}"' for lbl in (*POD, *self.labels) if lbl in VARIABLES]
        filters += [f'{lbl}=~"${var}"' for var, lbl in self.aliases]
        filters += [f'{k}="{v}"' for k, v in extra.items()]
        return f"{self.prom}{suffix}{{{','.join(filters)}}}"


VARIABLES = ("namespace", "pod", "model", "tier", "provider")
GENAI_PROVIDER = (("provider", "gen_ai_provider_name"),)

M = {
    "requests": Metric("tierline.requests", "counter", "{request}",
                       ("tier", "model", "provider", "outcome")),
    "tokens": Metric("tierline.token.usage", "counter", "tokens",
                     ("type", "model", "provider", "tier")),
    "cost": Metric("tierline.cost.usage", "counter", "USD", ("model", "provider", "tier")),
    "baseline": Metric("tierline.cost.baseline", "counter", "USD", ("model", "provider", "tier")),
    "decision": Metric("tierline.route.decision", "counter", "{decision}",
                       ("tier", "method", "profile")),
    "override": Metric("tierline.route.override", "counter", "{override}", ("kind",)),
    "tag": Metric("tierline.route.tag", "counter", "{tag}", ("tag",)),
    "confidence": Metric("tierline.route.confidence", "histogram", "1", ()),
    "fallback": Metric("tierline.fallback.count", "counter", "count",
                       ("reason", "from_provider", "to_provider")),
    "attempts": Metric("tierline.upstream.attempts", "histogram", "{attempt}", ()),
    "error": Metric("tierline.upstream.error", "counter", "{error}", ("provider", "error_type")),
    "cooldown": Metric("tierline.upstream.cooldown", "counter", "{cooldown}", ("provider",)),
    "exhausted": Metric("tierline.plan.exhausted", "counter", "{plan}", ("tier",)),
    "dropped": Metric("tierline.telemetry.dropped", "counter", "{item}", ("signal",)),
    "loc": Metric("tierline.lines_of_code.count", "counter", "count",
                  ("type", "language", "model")),
    "commit": Metric("tierline.commit.count", "counter", "count", ("model",)),
    "pr": Metric("tierline.pull_request.count", "counter", "count", ("model",)),
    "edit": Metric("tierline.code_edit_tool.decision", "counter", "{decision}",
                   ("tool_name", "decision", "language")),
    # GenAI histograms: gen_ai.provider.name is the configured provider; the model label
    # is the upstream id (gen_ai.request.model), so only $provider applies.
    "duration": Metric("gen_ai.client.operation.duration", "histogram", "s",
                       ("gen_ai_provider_name", "gen_ai_request_model"), GENAI_PROVIDER),
    "ttfc": Metric("gen_ai.client.operation.time_to_first_chunk", "histogram", "s",
                   ("gen_ai_provider_name", "gen_ai_request_model"), GENAI_PROVIDER),
}  # fmt: skip

RATE = "$__rate_interval"
RANGE = "$__range"


def rate(m: Metric, by: str = "", window: str = RATE, suffix: str = "", **extra: str) -> str:
    group = f" by ({by})" if by else ""
    return f"sum{group} (rate({m.sel(suffix, **extra)}[{window}]))"


def inc(m: Metric, by: str = "", window: str = RANGE, suffix: str = "", **extra: str) -> str:
    group = f" by ({by})" if by else ""
    return f"sum{group} (increase({m.sel(suffix, **extra)}[{window}]))"


def quantile(q: float, m: Metric, by: str = "") -> str:
    group = ", ".join(x for x in ("le", by) if x)
    return f"histogram_quantile({q}, {rate(m, group, suffix='_bucket')})"


@dataclass(frozen=True)
class Panel:
    """A panel: title, type, targets (expr, legend), unit, width/height."""

    title: str
    targets: tuple[tuple[str, str], ...]
    kind: str = "timeseries"
    unit: str = "short"
    w: int = 12
    h: int = 8
    description: str = ""


def _target(ref: int, expr: str, legend: str, instant: bool) -> dict[str, Any]:
    return {
        "refId": chr(ord("A") + ref),
        "datasource": DS,
        "expr": expr,
        "legendFormat": legend or "__auto",
        "range": not instant,
        "instant": instant,
    }


def _panel(pid: int, p: Panel, x: int, y: int) -> dict[str, Any]:
    instant = p.kind in ("stat", "bargauge", "table", "piechart")
    out: dict[str, Any] = {
        "id": pid,
        "type": p.kind,
        "title": p.title,
        "description": p.description,
        "datasource": DS,
        "gridPos": {"h": p.h, "w": p.w, "x": x, "y": y},
        "targets": [_target(i, e, lg, instant) for i, (e, lg) in enumerate(p.targets)],
        "fieldConfig": {"defaults": {"unit": p.unit}, "overrides": []},
        "options": {},
    }
    if p.kind == "stat":
        reduce = {"calcs": ["lastNotNull"], "fields": "", "values": False}
        out["options"] = {"reduceOptions": reduce, "colorMode": "value", "graphMode": "none"}
    elif p.kind == "bargauge":
        out["options"] = {"orientation": "horizontal", "displayMode": "gradient",
                          "reduceOptions": {"calcs": ["lastNotNull"], "values": False}}  # fmt: skip
    elif p.kind == "timeseries":
        out["options"] = {"legend": {"displayMode": "list", "placement": "bottom"},
                          "tooltip": {"mode": "multi"}}  # fmt: skip
    return out


def _variable(name: str, label: str, metric: Metric, parent: str = "") -> dict[str, Any]:
    selector = metric.prom + (f'{{{parent}=~"${parent}"}}' if parent else "")
    query = f"label_values({selector}, {name})"
    return {
        "name": name,
        "label": label,
        "type": "query",
        "datasource": DS,
        "query": {"query": query, "refId": f"{name}-variable"},
        "definition": query,
        "refresh": 2,
        "includeAll": True,
        "allValue": ".*",
        "multi": True,
        "current": {"selected": True, "text": ["All"], "value": ["$__all"]},
        "sort": 1,
    }


def _templating() -> list[dict[str, Any]]:
    req = M["requests"]
    return [
        {
            "name": "datasource",
            "label": "Prometheus",
            "type": "datasource",
            "query": "prometheus",
            "current": {},
            "refresh": 1,
        },
        _variable("namespace", "Namespace", req),
        _variable("pod", "Pod", req, parent="namespace"),
        _variable("model", "Model", req),
        _variable("tier", "Tier", req),
        _variable("provider", "Provider", req),
    ]


def dashboard(uid: str, title: str, description: str, rows: Sequence[Sequence[Panel]]) -> dict:
    """A complete dashboard; panels laid out row by row on the 24-column grid."""
    panels: list[dict[str, Any]] = []
    y = 0
    for row in rows:
        x = 0
        for p in row:
            panels.append(_panel(len(panels) + 1, p, x, y))
            x += p.w
        y += max(p.h for p in row)
    return {
        "uid": uid,
        "title": title,
        "description": description,
        "tags": ["tierline", "llm"],
        "timezone": "browser",
        "editable": True,
        "graphTooltip": 1,
        "schemaVersion": 39,
        "version": 1,
        "refresh": "30s",
        "time": {"from": "now-6h", "to": "now"},
        "annotations": {"list": []},
        "links": [{"type": "dashboards", "tags": ["tierline"], "asDropdown": True,
                   "title": "tierline", "includeVars": True, "keepTime": True}],  # fmt: skip
        "templating": {"list": _templating()},
        "panels": panels,
    }


def overview() -> dict[str, Any]:
    cost, base, req, tok = M["cost"], M["baseline"], M["requests"], M["tokens"]
    return dashboard("tierline-overview", "tierline / Overview",
        "Spend, savings against the baseline model, tokens, requests.", [
        [Panel("Spend", ((inc(cost), "USD"),), "stat", "currencyUSD", 6, 4),
         Panel("Baseline cost", ((inc(base), "baseline USD"),), "stat", "currencyUSD", 6, 4,
               "What the baseline model would have cost for the same tokens."),
         Panel("Savings", ((f"{inc(base)} - {inc(cost)}", "saved USD"),), "stat",
               "currencyUSD", 6, 4),
         Panel("Savings vs baseline", ((f"1 - {inc(cost)} / {inc(base)}", "saved"),), "stat",
               "percentunit", 6, 4)],
        [Panel("Spend rate by model", ((f"3600 * {rate(cost, 'model')}", "{{model}}"),),
               unit="currencyUSD", description="USD per hour."),
         Panel("Spend by model and tier", ((inc(cost, "model, tier"), "{{model}} / {{tier}}"),),
               "bargauge", "currencyUSD")],
        [Panel("Tokens by type", ((rate(tok, "type"), "{{type}}"),), unit="short"),
         Panel("Tokens by model", ((rate(tok, "model"), "{{model}}"),), unit="short")],
        [Panel("Requests by tier", ((rate(req, "tier"), "{{tier}}"),), unit="reqps", w=8),
         Panel("Requests by model", ((rate(req, "model"), "{{model}}"),), unit="reqps", w=8),
         Panel("Requests by outcome", ((inc(req, "outcome"), "{{outcome}}"),), "bargauge",
               "short", w=8)],
    ])  # fmt: skip


def routing() -> dict[str, Any]:
    dec, ovr, tag, conf, fb, req = (M[k] for k in
                                    ("decision", "override", "tag", "confidence", "fallback",
                                     "requests"))  # fmt: skip
    return dashboard("tierline-routing", "tierline / Routing",
        "Which tier and model each request got, why, and how often routing had to fall back.", [
        [Panel("Decisions by tier", ((rate(dec, "tier"), "{{tier}}"),), w=8),
         Panel("Decisions by method", ((rate(dec, "method"), "{{method}}"),), w=8),
         Panel("Decisions by profile", ((inc(dec, "profile"), "{{profile}}"),), "bargauge",
               w=8)],
        [Panel("Overrides by kind", ((rate(ovr, "kind"), "{{kind}}"),),
               description="Header, directive or config overrides of the classifier."),
         Panel("Classifier confidence", ((quantile(0.5, conf), "p50"),
                                         (quantile(0.9, conf), "p90")), unit="percentunit")],
        [Panel("Tags", ((inc(tag, "tag"), "{{tag}}"),), "bargauge"),
         Panel("Fallbacks by reason", ((rate(fb, "reason"), "{{reason}}"),))],
        [Panel("Fallbacks between providers",
               ((inc(fb, "from_provider, to_provider"), "{{from_provider}} → {{to_provider}}"),),
               "bargauge"),
         Panel("Fallback share of requests", ((f"{rate(fb)} / {rate(req)}", "fallbacks"),),
               unit="percentunit")],
    ])  # fmt: skip


def reliability() -> dict[str, Any]:
    err, dur, ttfc, att, cd, ex, dr, req = (M[k] for k in
        ("error", "duration", "ttfc", "attempts", "cooldown", "exhausted", "dropped",
         "requests"))  # fmt: skip
    errors = M["requests"].sel(outcome="error")
    return dashboard("tierline-reliability", "tierline / Reliability",
        "Upstream errors, latency, time to first token, retries, cooldowns, telemetry drops.", [
        [Panel("Upstream errors by provider and type",
               ((rate(err, "provider, error_type"), "{{provider}} {{error_type}}"),), w=16),
         Panel("Failed requests", ((f"sum(rate({errors}[{RATE}])) / {rate(req)}", "failed"),),
               unit="percentunit", w=8)],
        [Panel("Request latency", ((quantile(0.5, dur), "p50"), (quantile(0.95, dur), "p95"),
                                   (quantile(0.99, dur), "p99")), unit="s", w=8),
         Panel("Time to first token", ((quantile(0.5, ttfc), "p50"),
                                       (quantile(0.95, ttfc), "p95")), unit="s", w=8,
               description="Streaming requests only."),
         Panel("p95 latency by upstream model",
               ((quantile(0.95, dur, "gen_ai_request_model"), "{{gen_ai_request_model}}"),),
               unit="s", w=8)],
        [Panel("Attempts per request", ((quantile(0.95, att), "p95"),
               (f"{rate(att, suffix='_sum')} / {rate(att, suffix='_count')}", "mean")), w=8),
         Panel("Cooldowns by provider", ((inc(cd, "provider"), "{{provider}}"),), "bargauge",
               w=8, description="Candidates skipped because their provider was resting."),
         Panel("Exhausted plans by tier", ((inc(ex, "tier"), "{{tier}}"),), "bargauge", w=8,
               description="Requests where every candidate failed.")],
        [Panel("Telemetry dropped", ((inc(dr, "signal"), "{{signal}}"),), "bargauge", w=24, h=6,
               description="Log records, metrics or spans lost to full export queues.")],
    ])  # fmt: skip


def productivity() -> dict[str, Any]:
    loc, commit, pr, edit, cost = (M[k] for k in ("loc", "commit", "pr", "edit", "cost"))
    accepted = edit.sel(decision="accept")
    added = loc.sel(type="added")
    accept_rate = f"sum(increase({accepted}[{RANGE}])) / {inc(edit)}"
    return dashboard("tierline-productivity", "tierline / Productivity",
        "What the agents got done: lines, commits, pull requests, edit acceptance, and cost.", [
        [Panel("Commits", ((inc(commit), "commits"),), "stat", w=6, h=4),
         Panel("Pull requests", ((inc(pr), "pull requests"),), "stat", w=6, h=4),
         Panel("Edit accept rate", ((accept_rate, "accepted"),), "stat", "percentunit", 6, 4),
         Panel("Lines added", ((f"sum(increase({added}[{RANGE}]))", "added"),), "stat", w=6,
               h=4)],
        [Panel("Lines by language", ((inc(loc, "language, type"), "{{language}} {{type}}"),),
               "bargauge"),
         Panel("Lines by model", ((rate(loc, "model, type"), "{{model}} {{type}}"),))],
        [Panel("Commits and pull requests by model",
               ((inc(commit, "model"), "commits {{model}}"), (inc(pr, "model"), "PRs {{model}}")),
               "bargauge"),
         Panel("Edit decisions by tool", ((inc(edit, "tool_name, decision"),
                                           "{{tool_name}} {{decision}}"),), "bargauge")],
        [Panel("Cost per accepted line",
               ((f"{inc(cost)} / sum(increase({added}[{RANGE}]))", "USD/line"),), "stat",
               "currencyUSD", description="Spend divided by lines added by accepted edits."),
         Panel("Cost per commit", ((f"{inc(cost)} / {inc(commit)}", "USD/commit"),), "stat",
               "currencyUSD")],
    ])  # fmt: skip


def _alert(name: str, expr: str, for_: str, severity: str, summary: str, desc: str) -> dict:
    return {
        "alert": name,
        "expr": expr,
        "for": for_,
        "labels": {"severity": severity, "app_kubernetes_io_name": "tierline"},
        "annotations": {"summary": summary, "description": desc},
    }


def alert_rules() -> dict[str, Any]:
    """Prometheus rule groups (plain rules file and the chart's PrometheusRule spec)."""
    fb, req, err = M["fallback"].prom, M["requests"].prom, M["error"].prom
    ex, dr = M["exhausted"].prom, M["dropped"].prom
    return {"groups": [{"name": "tierline", "rules": [
        _alert("TierlineHighFallbackRate",
               f"sum by (namespace) (rate({fb}[10m])) / sum by (namespace) (rate({req}[10m]))"
               " > 0.2", "10m", "warning",
               "More than 20% of tierline requests fall back to another candidate",
               "{{ $labels.namespace }}: {{ $value | humanizePercentage }} of requests needed a"
               " fallback over 10m; check the Reliability dashboard for the failing provider."),
        _alert("TierlineUpstreamErrorRate",
               f"sum by (namespace, provider) (rate({err}[5m]))"
               f" / on (namespace) group_left sum by (namespace) (rate({req}[5m])) > 0.1",
               "5m", "warning", "Upstream provider {{ $labels.provider }} is failing",
               "{{ $labels.namespace }}: {{ $labels.provider }} errors amount to"
               " {{ $value | humanizePercentage }} of requests over 5m."),
        _alert("TierlineAllCandidatesExhausted",
               f"sum by (namespace, tier) (increase({ex}[10m])) > 0", "0m", "critical",
               "tierline ran out of candidates for tier {{ $labels.tier }}",
               "{{ $labels.namespace }}: {{ $value }} requests for tier {{ $labels.tier }} failed"
               " on every candidate in the last 10m; agents saw errors."),
        _alert("TierlineTelemetryDropped",
               f"sum by (namespace, signal) (increase({dr}[15m])) > 0", "0m", "warning",
               "tierline is dropping {{ $labels.signal }} telemetry",
               "{{ $labels.namespace }}: {{ $value }} {{ $labels.signal }} items dropped in 15m"
               " (export queue full or collector unreachable)."),
    ]}]}  # fmt: skip


def render_rules() -> str:
    import yaml  # dev/test dependency only

    header = "# Generated by grafana/build.py; edit the builder, not this file.\n"
    return header + yaml.safe_dump(alert_rules(), sort_keys=False, width=100)


DASHBOARDS = {
    "tierline-overview.json": overview,
    "tierline-routing.json": routing,
    "tierline-reliability.json": reliability,
    "tierline-productivity.json": productivity,
}


def render() -> dict[str, str]:
    """File name -> JSON text (stable key order, trailing newline)."""
    return {name: json.dumps(fn(), indent=2) + "\n" for name, fn in DASHBOARDS.items()}


def panel_queries(board: dict[str, Any]) -> Iterable[tuple[str, str]]:
    """(panel title, expr) for every target of a dashboard."""
    for p in board["panels"]:
        for t in p.get("targets", []):
            yield p["title"], t["expr"]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if the JSON is stale")
    args = parser.parse_args(argv)
    wanted = {out / name: text for out in OUT_DIRS for name, text in render().items()}
    wanted.update({path: render_rules() for path in RULE_FILES})
    stale = []
    for path, text in wanted.items():
        if path.exists() and path.read_text() == text:
            continue
        stale.append(path)
        if not args.check:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
    for path in stale:
        print(("stale: " if args.check else "wrote: ") + str(path.relative_to(ROOT)))
    return 1 if (args.check and stale) else 0


if __name__ == "__main__":
    sys.exit(main())
