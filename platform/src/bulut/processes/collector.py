"""The garbage collector of a long-running server process, once it has started.

CPython collects its youngest generation every 700 net container allocations. A broker
delivering events keeps thousands of objects in flight (requests, tasks and their
frames, queued events), so most of them outlive a young collection, are promoted and
are traversed again by every older collection: under the end-to-end broker benchmark
the collector took ~14% of the process's CPU (``perf``: ``gc_collect_main`` and its
visitors) and stalled the loop over a hundred times a run for more than 1 ms.

:func:`settle` is called once start-up is done: what start-up made (modules, settings,
the planes) is frozen out of the collector's sight, and the young generation collects
every :data:`YOUNG` net allocations, so a request's objects are almost always freed by
reference counting before any collection sees them. Reference cycles are still found:
the collector runs, only less often (docs/adr/0025-broker-cpu-per-event.md).
"""

from __future__ import annotations

import gc

YOUNG = 50_000
"""Net container allocations between collections of the youngest generation (CPython: 700)."""
MIDDLE = 20
"""Young collections between collections of the middle generation (CPython: 10)."""
OLD = 10
"""Middle collections between full collections (CPython: 10; a full one also waits until
the objects promoted since the last are a quarter of the old generation)."""


def settle() -> None:
    """Start-up is over: freeze what it made and collect the young generation less often."""
    gc.freeze()
    gc.set_threshold(YOUNG, MIDDLE, OLD)
