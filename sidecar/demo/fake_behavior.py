"""How the fake provider decides what to do with one request (pure, no I/O).

The behaviour spec is the ``x-fake-behavior`` header followed by the model
name; keywords are matched as whole words (letters around a keyword break the
match, so ``author`` is not ``auth``). See ``sidecar.demo.fake_provider`` for
the full contract; this module only turns a spec string into a ``Behavior``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Literal

Shape = Literal["text", "tool", "echo", "disconnect", "stall"]
ErrorKind = Literal[
    "ratelimit", "server", "overloaded", "context", "auth", "forbidden", "notfound", "badrequest"
]


@dataclass(frozen=True)
class Behavior:
    """One request's behaviour.

    ``error`` set means the reply is an HTTP error with ``status``; when
    ``fail_times`` is set the error applies only to the first N requests for
    the same model (the caller keeps the count) and later ones succeed with
    ``shape``. ``context_limit`` > 0 makes the ``context`` error conditional on
    the prompt being larger than that many tokens.
    """

    shape: Shape = "text"
    error: ErrorKind | None = None
    status: int = 200
    delay_ms: int = 0
    stall_ms: int = 0
    cut_after: int = 2  # events sent before a disconnect / stall
    fail_times: int | None = None
    retry_after: str = "1"
    chunks: int | None = None
    context_limit: int = 0

    def succeeded(self) -> Behavior:
        """The same behaviour with the error removed (after ``fail_times``)."""
        return replace(self, error=None, status=200, fail_times=None)


_ERROR_STATUS: dict[str, int] = {
    "ratelimit": 429,
    "overloaded": 529,
    "context": 400,
    "auth": 401,
    "forbidden": 403,
    "notfound": 404,
    "badrequest": 400,
}

_KEY_ERRORS: tuple[tuple[str, ErrorKind], ...] = (
    ("bad-key", "auth"),
    ("limited-key", "ratelimit"),
    ("forbidden-key", "forbidden"),
)


def _word(pattern: str) -> re.Pattern[str]:
    return re.compile(rf"(?<![a-z]){pattern}(?![a-z])")


_NUM = r"(?:-(\d+))?"
_RE_SLOW = _word(rf"slow{_NUM}")
_RE_STALL = _word(rf"stall{_NUM}")
_RE_DISCONNECT = _word(rf"disconnect{_NUM}")
_RE_AFTER = _word(r"(?<!retry-)after-(\d+)")
_RE_CHUNKS = _word(r"chunks-(\d+)")
_RE_FAIL = _word(r"fail-(\d+)")
_RE_RETRY_AFTER = _word(r"retry-after-(\d+(?:\.\d+)?)")
_RE_ERROR_STATUS = _word(r"error(\d{3})")
_RE_CONTEXT = _word(rf"context{_NUM}")
_RE_RATELIMIT_ONCE = _word(r"ratelimit-once")
_RE_SIMPLE = {name: _word(name + r"(?:\d{3})?") for name in _ERROR_STATUS}
_RE_TOOL = _word(r"tools?")
_RE_ECHO = _word(r"echo")


def _num(match: re.Match[str] | None, default: int) -> int:
    if match is None or match.group(1) is None:
        return default
    return int(match.group(1))


def _error_of(spec: str) -> tuple[ErrorKind | None, int, int | None, int]:
    """(error kind, status, implied fail_times, context limit) named by ``spec``."""
    if _RE_RATELIMIT_ONCE.search(spec):
        return "ratelimit", 429, 1, 0
    status_match = _RE_ERROR_STATUS.search(spec)
    if status_match:
        status = int(status_match.group(1))
        return ("overloaded" if status == 529 else "server"), status, None, 0
    context = _RE_CONTEXT.search(spec)
    if context:
        return "context", 400, None, _num(context, 0)
    for name, pattern in _RE_SIMPLE.items():
        if name != "context" and pattern.search(spec):
            return name, _ERROR_STATUS[name], None, 0  # type: ignore[return-value]
    return None, 200, None, 0


def _shape_of(spec: str) -> tuple[Shape, int]:
    disconnect = _RE_DISCONNECT.search(spec)
    if disconnect:
        return "disconnect", _num(disconnect, 2)
    stall = _RE_STALL.search(spec)
    if stall:
        return "stall", _num(_RE_AFTER.search(spec), 2)
    if _RE_TOOL.search(spec):
        return "tool", 2
    if _RE_ECHO.search(spec):
        return "echo", 2
    return "text", 2


def parse_behavior(spec: str, api_key: str = "", fail_times: str | None = None) -> Behavior:
    """Turn a behaviour spec (header + model name) and the request's API key into a Behavior.

    A key containing ``bad-key`` / ``limited-key`` / ``forbidden-key`` wins over
    the spec (401 / 429 / 403), as a real provider checks the key first.
    ``fail_times`` is the ``x-fake-fail-times`` header value, if any.
    """
    spec = spec.lower()
    error, status, implied_fail, context_limit = _error_of(spec)
    fail_match = _RE_FAIL.search(spec)
    fails = implied_fail
    if fail_match:
        fails = int(fail_match.group(1))
    if fail_times is not None and fail_times.strip().isdigit():
        fails = int(fail_times.strip())
    if fails is not None and error is None:
        error, status = "server", 503
    shape, cut_after = _shape_of(spec)
    stall = _RE_STALL.search(spec)
    retry_after = _RE_RETRY_AFTER.search(spec)
    behavior = Behavior(
        shape=shape,
        error=error,
        status=status,
        delay_ms=_num(_RE_SLOW.search(spec), 1000) if _RE_SLOW.search(spec) else 0,
        stall_ms=_num(stall, 30_000) if stall else 0,
        cut_after=cut_after,
        fail_times=fails,
        retry_after=retry_after.group(1) if retry_after else "1",
        chunks=_num(_RE_CHUNKS.search(spec), 0) or None,
        context_limit=context_limit,
    )
    for marker, kind in _KEY_ERRORS:
        if marker in api_key:
            return replace(behavior, error=kind, status=_ERROR_STATUS[kind], fail_times=None)
    return behavior
