"""A time limit on handler calls, cheap enough to put around every event.

While a batch runs (`with limit.armed():`) a periodic SIGALRM ticks every tenth of the
limit; the tick raises `HandlerTimeout` inside a call that has run past its deadline, which
also breaks out of `time.sleep` and socket waits. A call costs no system call. Signals only
reach the main thread: a worker run in another thread (the console demo) detects an overrun
when the call returns. Either way the attempt counts as failed. Whoever had SIGALRM before
(pytest-timeout, say) gets its handler and timer back after the batch.
"""
from __future__ import annotations

import signal
import threading
import time
from contextlib import contextmanager
from typing import Any, Callable, Iterator


class HandlerTimeout(Exception):
    """The handler ran past its time limit."""


class TimeLimit:
    def __init__(self, seconds: float):
        self.seconds = seconds
        self._deadline: float | None = None

    @property
    def message(self) -> str:
        return f"handler exceeded its time limit of {self.seconds:g}s"

    def _tick(self, signum, frame) -> None:
        if self._deadline is not None and time.perf_counter() > self._deadline:
            self._deadline = None
            raise HandlerTimeout(self.message)

    @contextmanager
    def armed(self) -> Iterator[None]:
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        tick = min(self.seconds / 10, 1.0)
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

    def call(self, fn: Callable[[Any], Any], arg: Any) -> float:
        """`fn(arg)` within the limit; returns the seconds it took."""
        start = time.perf_counter()
        self._deadline = start + self.seconds
        try:
            fn(arg)
        finally:
            self._deadline = None
        took = time.perf_counter() - start
        if took > self.seconds:  # not interrupted (another thread, or stuck in C code)
            raise HandlerTimeout(self.message)
        return took
