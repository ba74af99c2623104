"""What the client is told about the attempts: response headers and the exhausted error.

Pure functions of the per-request ``Call`` and the plan; no I/O.
"""

from __future__ import annotations

from aiohttp import web

from sidecar.errors import InvalidRequest, RateLimited, TierlineError, UpstreamFailed
from sidecar.routing.plan import RoutePlan
from sidecar.upstream.call import Call

REQUEST_ID = web.RequestKey("tierline.request_id", str)  # set by the ingress middleware


def response_headers(request: web.Request, call: Call, plan: RoutePlan) -> dict[str, str]:
    """``x-tierline-*`` headers naming what answered (or was tried) for this request."""
    headers = {
        "x-tierline-attempts": str(len(call.attempts)),
        "x-tierline-route": plan.route_header,
    }
    if call.model is not None:
        headers["x-tierline-model"] = call.model.name
        headers["x-tierline-provider"] = call.provider or ""
    if plan.tier:
        headers["x-tierline-tier"] = plan.tier
    request_id = request.get(REQUEST_ID)
    if request_id:
        headers["x-request-id"] = request_id
        if call.protocol == "anthropic":  # Anthropic SDKs expose it as ``_request_id``
            headers["request-id"] = request_id
    return headers


def exhausted(call: Call, plan: RoutePlan | None = None) -> TierlineError:
    """One error listing every attempt (provider, status, reason; no secrets).

    Its headers still carry the decision (``x-tierline-tier``, ``x-tierline-route``)
    so a failed request can be told apart per tier; ``x-tierline-model`` and
    ``-provider`` stay absent because no model answered (the message lists each).
    """
    lines = []
    for a in call.attempts:
        status = str(a.status) if a.status is not None else "-"
        detail = f": {a.message}" if a.message else ""
        lines.append(f"{a.model} via {a.provider} -> {status} {a.reason}{detail}")
    reasons = {a.reason for a in call.attempts}
    cls: type[TierlineError] = UpstreamFailed
    if reasons and reasons <= {"rate_limited", "cooldown"} and "rate_limited" in reasons:
        cls = RateLimited
    elif reasons == {"context_length"}:
        cls = InvalidRequest
    summary = "no candidate model could answer" if call.attempts else "no candidate models"
    message = f"{summary} ({len(call.attempts)} attempts): " + "; ".join(lines)
    headers = {"x-should-retry": "false", "x-tierline-attempts": str(len(call.attempts))}
    if plan is not None:
        headers["x-tierline-route"] = plan.route_header
        if plan.tier:
            headers["x-tierline-tier"] = plan.tier
    return cls(message, code="upstream_exhausted", headers=headers)
