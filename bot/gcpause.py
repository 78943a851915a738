"""Python's cyclic garbage collector paused around reads that build hundreds of thousands of
short-lived objects: raw XRANGE pages are lists of bytes, freed by reference counting as
soon as a page is counted, but each list allocated counts toward the collector's next pass,
and every pass walks the process's long-lived objects too. A cold `dlq top` over 200,000
entries spent about a quarter of its time in those passes (docs/benchmarks.md).

The pause is process-wide; it holds while any caller is inside `paused()` (threads may
overlap) and ends with the last one, restoring the collector as it was found."""
from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_holders = 0
_was_enabled = True


@contextmanager
def paused() -> Iterator[None]:
    global _holders, _was_enabled
    with _lock:
        if _holders == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _holders += 1
    try:
        yield
    finally:
        with _lock:
            _holders -= 1
            if _holders == 0 and _was_enabled:
                gc.enable()
