"""What a request leaves for after its response: run a moment later, in one batch.

Once the client's last bytes are written, what is left of a request (the tap reading a
stream that went out verbatim, freezing the ``Call``, ``router.observe``, the
observers: telemetry and the access log) feeds only telemetry and session state. Run at
once, it keeps this process on the CPU for a quarter of a millisecond or so, just when
the client was woken to read its response; a client on the same machine (the agent in
the same pod, sharing its cores) is often woken on this very CPU (a loopback write
wakes the reader "in sync", expecting the writer to wait next) and then waits for it.
So the work is queued and run ``DELAY`` seconds later, when the event loop has slept,
in arrival order and in one batch (on a busy loop, several requests' worth at once),
each in the context it was queued from (the request's: its span, the recorder's
context variables).

Whatever reads what it produces calls ``flush`` first, which runs the queue at once: a
request before routing (the session state ``observe`` writes), ``/metrics``, and the
app's cleanup, before telemetry and the session store close. Measured in
bench/RESULTS.md (overhead, "Fourth pass").
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
from collections.abc import Callable
from typing import Any

_log = logging.getLogger("tierline.ingress")

DELAY = 0.0005  # seconds; the event loop sleeps at least 1 ms (epoll's unit) when idle


class Afterwards:
    """A FIFO of calls run ``delay`` seconds after the first of them was added, or at
    ``flush``."""

    __slots__ = ("_delay", "_pending", "_handle")

    def __init__(self, delay: float = DELAY) -> None:
        self._delay = delay
        self._pending: list[tuple[contextvars.Context, Callable[..., None], tuple[Any, ...]]] = []
        self._handle: asyncio.TimerHandle | None = None

    def __len__(self) -> int:
        return len(self._pending)

    def add(self, fn: Callable[..., None], *args: Any) -> None:
        """Queue ``fn(*args)``, to run in the current context (from the running loop); it
        should not raise (logged if it does)."""
        if not self._pending:
            self._handle = asyncio.get_running_loop().call_later(self._delay, self._run)
        self._pending.append((contextvars.copy_context(), fn, args))

    def flush(self) -> None:
        """Run everything queued, now."""
        if self._pending:
            self._run()

    def _run(self) -> None:
        while self._pending:  # (a call that queues more runs in this pass too)
            batch, self._pending = self._pending, []
            for context, fn, args in batch:
                try:
                    context.run(fn, *args)
                except Exception:
                    _log.exception("work after the response failed")
        if self._handle is not None:  # the timer that fired, or one still to fire
            self._handle.cancel()
            self._handle = None
