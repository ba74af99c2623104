"""A bounded queue of deferred telemetry items drained by one exporter thread.

Why not the SDK's batch processors: on the event loop they copy each record,
build a context and run per-record bookkeeping, which cost more per request
than tierline's own work; and they want a finished record, so everything a
record holds has to be built on the loop. Here ``put`` is a gate check and a
deque append; the item is whatever the producer deferred (say, the finished
exchange), and ``export`` turns a batch of items into records and sends them,
on the exporter thread.

Contract: ``put`` never blocks and never raises; past ``Gate`` capacity (items
queued or being exported) an item is dropped and counted, as is every item of
a failed export. The thread wakes every ``delay_s`` or as soon as a full batch
(``max_batch``) waits. ``flush`` and ``shutdown`` block (call them from a
worker thread); after ``shutdown``, ``put`` drops. One exporter call at a time.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

from opentelemetry.context import _SUPPRESS_INSTRUMENTATION_KEY, attach, detach, set_value

from sidecar.telemetry.queues import Gate

_log = logging.getLogger("tierline.telemetry")
T = TypeVar("T")


class Batcher(Generic[T]):
    """One signal's queue and exporter thread (see the module docstring)."""

    def __init__(
        self,
        name: str,
        export: Callable[[Sequence[T]], bool],
        gate: Gate,
        max_batch: int,
        delay_s: float,
    ) -> None:
        self._export = export
        self._gate = gate
        self._max_batch = max(1, max_batch)
        self._delay_s = delay_s
        self._queue: deque[T] = deque()
        self._wake = threading.Event()
        self._exporting = threading.Lock()
        self._stopped = False
        self._thread = threading.Thread(target=self._run, name=f"tierline-{name}", daemon=True)
        self._thread.start()

    def put(self, item: T) -> None:
        """Queue one item (event loop): dropped and counted when the gate is full."""
        if self._stopped:
            self._gate.drop(1)
            return
        if not self._gate.admit():
            return
        queue = self._queue
        queue.append(item)
        if len(queue) >= self._max_batch and not self._wake.is_set():
            self._wake.set()

    def flush(self) -> bool:
        """Blocking: export everything queued now; False if an export failed."""
        return self._drain()

    def shutdown(self, timeout_s: float = 30.0) -> None:
        """Blocking: stop the thread, export what is left. Idempotent."""
        if self._stopped:
            return
        self._stopped = True
        self._wake.set()
        self._thread.join(timeout_s)
        self._drain()

    def _run(self) -> None:
        while not self._stopped:
            self._wake.wait(self._delay_s)
            self._wake.clear()
            self._drain()

    def _drain(self) -> bool:
        ok = True
        token = attach(set_value(_SUPPRESS_INSTRUMENTATION_KEY, True))  # as the SDK's workers
        try:
            with self._exporting:
                queue = self._queue
                while queue:
                    batch = [queue.popleft() for _ in range(min(self._max_batch, len(queue)))]
                    ok = self._send(batch) and ok
        finally:
            detach(token)
        return ok

    def _send(self, batch: list[T]) -> bool:
        self._gate.release(len(batch))
        try:
            ok = self._export(batch)
        except Exception:  # noqa: BLE001 - a failed export is a drop, never a crash
            _log.exception("telemetry export failed")
            ok = False
        if not ok:
            self._gate.drop(len(batch))
        return ok
