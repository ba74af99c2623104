"""A deadline for the running task: ``asyncio.timeout``'s contract for one hot path.

``asyncio.timeout`` costs about 10 us a use here (a ``Timeout`` object, its state
machine, a ``TimerHandle``, measured against a bare ``call_at``/``cancel`` at about 3 us);
dispatch uses two per streamed request (the first-byte deadline and the stall
watchdog). ``Expiry`` keeps the contract with one handle: when the deadline passes (or
``expire`` is called) the task is cancelled, and the ``with`` block it guards raises
``TimeoutError``; a cancellation from anywhere else (the client left) still propagates
as ``CancelledError``, as with ``asyncio.timeout`` (the same ``uncancel`` count check).
A synchronous ``with`` around the awaits: entering and leaving suspend nothing.
"""

from __future__ import annotations

import asyncio
from types import TracebackType
from typing import Any


class Expiry:
    """Cancel ``task`` at loop time ``when`` (None: only when ``expire`` is called)."""

    __slots__ = ("_task", "_handle", "_cancelling", "expired")

    def __init__(
        self, loop: asyncio.AbstractEventLoop, task: asyncio.Task[Any] | None, when: float | None
    ) -> None:
        if task is None:
            raise RuntimeError("Expiry guards a task: call it from one")
        self._task = task
        self._handle = loop.call_at(when, self.expire) if when is not None else None
        self._cancelling = 0
        self.expired = False

    def __enter__(self) -> Expiry:
        self._cancelling = self._task.cancelling()
        return self

    def expire(self) -> None:
        """Cancel the task now (at most once)."""
        if not self.expired:
            self.expired = True
            self._handle = None
            self._task.cancel()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None
        if self.expired and self._task.uncancel() <= self._cancelling:
            if exc_type is asyncio.CancelledError:
                raise TimeoutError from exc
