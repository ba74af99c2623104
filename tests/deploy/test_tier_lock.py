"""The tier lock the chart sets (annotation tierline.io/tier -> env TIERLINE_TIER) routes.

The app's router is built by ``build_router(config, env=...)``; a lock acts as an
``x-tierline-tier`` header on every request that does not carry one.
"""

from __future__ import annotations

from sidecar.demo.run import demo_config
from sidecar.routing.engine import build_router

BODY = {
    "model": "auto",
    "max_tokens": 64,
    "messages": [{"role": "user", "content": "Plan the database migration for the auth service"}],
}


def test_tierline_tier_locks_requests_without_a_header() -> None:
    config = demo_config("http://127.0.0.1:9")
    locked = build_router(config, env={"TIERLINE_TIER": "quick"})
    plan = locked.route("anthropic", dict(BODY), {})
    assert plan.tier == "quick"
    assert plan.candidates[0].name == "haiku"
    # A client's own header still wins.
    plan = locked.route("anthropic", dict(BODY), {"x-tierline-tier": "reasoning"})
    assert plan.tier == "reasoning"


def test_no_lock_without_the_variable() -> None:
    config = demo_config("http://127.0.0.1:9")
    free = build_router(config, env={})
    assert free.route("anthropic", dict(BODY), {}).tier != "quick"
    blank = build_router(config, env={"TIERLINE_TIER": "  "})
    assert blank.route("anthropic", dict(BODY), {}).tier != "quick"
