"""Wall-clock time in ms, injectable so tests can move time."""
from __future__ import annotations

import time
from collections.abc import Callable

Clock = Callable[[], int]


def system_ms() -> int:
    return int(time.time() * 1000)
