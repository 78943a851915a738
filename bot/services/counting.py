"""Counting a stream's entries in an id range without shipping them to Python.

Stream ids are times, so "arrivals in the last hour" is a count over an id range. Redis has
no XCOUNT; `count_range.lua` counts in steps of `chunk` entries, each step a short call.
"""
from __future__ import annotations

from bot.bus import Bus

CHUNK = 5000


def count_range(bus: Bus, stream: str, start: str, end: str = "+",
                chunk: int = CHUNK, cap: int | None = None) -> tuple[int, bool]:
    """(entries between start and end inclusive, whether `cap` stopped the count)."""
    counter = bus.scripts.get("count_range")
    total, cursor = 0, start
    while cap is None or total < cap:
        n, last = counter(keys=[stream], args=[cursor, end, chunk])
        total += int(n)
        if int(n) < chunk:
            return total, False
        cursor = "(" + last
    return total, True


def count_since(bus: Bus, stream: str, since_ms: int, cap: int | None = None) -> tuple[int, bool]:
    return count_range(bus, stream, f"{since_ms}-0", "+", cap=cap)
