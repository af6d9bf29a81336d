"""The web worker's garbage collector: collections far apart, and a full one after many
WebSockets closed.

A web worker holds thousands of WebSockets, each thousands of objects for the collector to
visit: a full collection stops every connection for about a quarter of a second with 1,000 of
them, and Python's default thresholds (700, 10, 10) set one off every few seconds under a
stream of live events (make bench: p99 event → subscriber about 500 ms). With a young
generation of 100,000 objects most of what a fan-out allocates dies before a collection.

A closed connection's objects refer to one another, and by then they are in the oldest
generation: only a full collection frees them, which these thresholds make rare. So one runs
after every COLLECT_AFTER_CLOSED connections closed: at most that many dead connections (about
50 KB each) wait for it.
"""

from __future__ import annotations

import asyncio
import gc

# Allocations, net of deallocations, between two collections of the youngest generation.
YOUNG_GENERATION_OBJECTS = 100_000
COLLECT_AFTER_CLOSED = 500
# After the last of them closed: its consumer is still unwinding when it is counted.
COLLECT_DELAY_SECONDS = 1.0

_closed = 0


def configure() -> None:
    """Once everything is loaded: that frozen out of the collector's view, thresholds set."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(YOUNG_GENERATION_OBJECTS, 50, 10)


def connection_closed() -> None:
    global _closed
    _closed += 1
    if _closed >= COLLECT_AFTER_CLOSED:
        _closed = 0
        asyncio.get_running_loop().call_later(COLLECT_DELAY_SECONDS, gc.collect)
