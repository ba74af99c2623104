"""The serving process's heap after startup: out of the cyclic collector's way.

Everything built before the first request (modules, the model catalog, price tables,
the OpenTelemetry SDK, the app) lives as long as the process. CPython's collector
still walks all of it on every full collection: about 80,000 objects here, which
took 60-130 ms per full collection on the 2-core machine the benchmarks run on,
paid by whichever request happened to allocate at that moment. ``settle`` collects
once, moves the survivors to the permanent generation (``gc.freeze``) and lets the
young generation grow larger before a collection: request garbage is almost all
acyclic (freed by reference counting), so collections found little to free. Measured
at concurrency 16 (``bench/overhead.py`` load, 3,000 streamed requests): 88
collections costing about 36 us of CPU per request before, none after.

Only ``tierline serve`` (``sidecar.app.serve``) calls it; an embedding program or a
test process keeps its own collector settings.
"""

from __future__ import annotations

import gc

YOUNG_THRESHOLD = 10_000  # allocations (net, container objects) between young collections
OLDER_THRESHOLDS = (20, 20)  # young collections per middle one, middle ones per full one


def settle() -> None:
    """Collect, freeze what survived startup, and raise the collection thresholds."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(YOUNG_THRESHOLD, *OLDER_THRESHOLDS)
