"""A time limit on handler calls, cheap enough to put around every event.

While a batch runs (`with limit.armed():`) a periodic SIGALRM ticks every tenth of the
shortest limit any handler has (at most every second); the tick raises `HandlerTimeout`
inside a call that has run past its own deadline, which also breaks out of `time.sleep`
and socket waits. A call costs no system call. Signals only
reach the main thread: a worker run in another thread (the console demo) detects an overrun
when the call returns. Either way the attempt counts as failed. Whoever had SIGALRM before
(pytest-timeout, say) gets its handler and timer back after the batch.
"""
from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any


class HandlerTimeout(Exception):
    """The handler ran past its time limit."""


def _message(seconds: float) -> str:
    return f"handler exceeded its time limit of {seconds:g}s"


class TimeLimit:
    def __init__(self, seconds: float):
        self.seconds = seconds  # the default limit
        self.shortest = seconds  # the shortest limit any call gets: it sets the tick
        self._deadline: float | None = None
        self._limit = seconds
        self._start = 0.0

    @property
    def message(self) -> str:
        return _message(self.seconds)

    def _tick(self, signum: int, frame: Any) -> None:
        if self._deadline is not None and time.perf_counter() > self._deadline:
            self._deadline = None
            raise HandlerTimeout(_message(self._limit))

    @contextmanager
    def armed(self) -> Iterator[None]:
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        tick = min(self.shortest / 10, 1.0)
        previous = signal.signal(signal.SIGALRM, self._tick)
        old_delay, old_interval = signal.setitimer(signal.ITIMER_REAL, tick, tick)
        t0 = time.monotonic()
        try:
            yield
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)
            if old_delay:
                left = max(old_delay - (time.monotonic() - t0), 0.001)
                signal.setitimer(signal.ITIMER_REAL, left, old_interval)

    def call(self, fn: Callable[[Any], Any], arg: Any, seconds: float | None = None) -> float:
        """`fn(arg)` within `seconds` (default: the limit this was made with); returns the
        seconds it took."""
        limit = self._limit = self.seconds if seconds is None else seconds
        start = self._start = time.perf_counter()
        self._deadline = start + limit
        try:
            fn(arg)
        finally:
            self._deadline = None
        took = time.perf_counter() - start
        if took > limit:  # not interrupted (another thread, or stuck in C code)
            raise HandlerTimeout(_message(limit))
        return took

    def elapsed(self) -> float:
        """Seconds since the last call started (how long a call that raised took)."""
        return time.perf_counter() - self._start
