"""Whether the tests run in CI, decided in one place.

Under CI a missing server or tool (Prometheus, promtool, redis-server, an agent
CLI) fails the test instead of skipping it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

_TRUE = ("1", "true", "yes")


def in_ci(env: Mapping[str, str] | None = None) -> bool:
    """True when ``CI`` (from ``env``, default the process environment) is 1, true or yes,
    in any case (GitHub Actions, GitLab and most CI services set ``CI=true``)."""
    value = (os.environ if env is None else env).get("CI", "")
    return value.strip().lower() in _TRUE
