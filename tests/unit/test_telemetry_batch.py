"""The exporter thread's queue: bounded, drop-counting, flushed and shut down on demand."""

from __future__ import annotations

import threading
from collections.abc import Sequence

from sidecar.telemetry.batch import Batcher
from sidecar.telemetry.queues import Gate

HOUR = 3600.0  # the thread never wakes on its timer during a test


class Sink:
    def __init__(self, ok: bool = True) -> None:
        self.batches: list[list[int]] = []
        self.ok = ok
        self.arrived = threading.Event()

    def __call__(self, batch: Sequence[int]) -> bool:
        self.batches.append(list(batch))
        self.arrived.set()
        return self.ok


def test_flush_exports_everything_in_order_in_bounded_batches() -> None:
    sink, gate = Sink(), Gate(100, "logs")
    batcher = Batcher("t", sink, gate, max_batch=40, delay_s=HOUR)
    for i in range(30):
        batcher.put(i)
    assert batcher.flush()
    batcher.shutdown()
    assert sum(sink.batches, []) == list(range(30))
    assert all(len(b) <= 40 for b in sink.batches) and gate.dropped == 0


def test_a_full_batch_wakes_the_thread() -> None:
    sink = Sink()
    batcher = Batcher("t", sink, Gate(100, "logs"), max_batch=3, delay_s=HOUR)
    for i in range(3):
        batcher.put(i)
    assert sink.arrived.wait(10.0)
    batcher.shutdown()
    assert sum(sink.batches, []) == [0, 1, 2]


def test_past_capacity_items_are_dropped_and_counted_without_waiting() -> None:
    sink, gate = Sink(), Gate(5, "logs")
    batcher = Batcher("t", sink, gate, max_batch=100, delay_s=HOUR)
    for i in range(8):
        batcher.put(i)
    assert gate.dropped == 3
    batcher.shutdown()
    assert sum(sink.batches, []) == [0, 1, 2, 3, 4]
    batcher.put(9)  # after shutdown: dropped
    assert gate.dropped == 4


def test_a_failed_export_drops_its_batch_and_frees_the_gate() -> None:
    sink, gate = Sink(ok=False), Gate(5, "logs")
    batcher = Batcher("t", sink, gate, max_batch=100, delay_s=HOUR)
    for i in range(5):
        batcher.put(i)
    assert not batcher.flush()
    assert gate.dropped == 5
    batcher.put(5)  # room again
    assert gate.dropped == 5
    batcher.shutdown()


def test_an_exporter_that_raises_counts_as_a_failed_export() -> None:
    gate = Gate(5, "logs")

    def boom(batch: Sequence[int]) -> bool:
        raise RuntimeError("collector exploded")

    batcher = Batcher("t", boom, gate, max_batch=100, delay_s=HOUR)
    batcher.put(1)
    assert not batcher.flush()
    batcher.shutdown()
    assert gate.dropped == 1
