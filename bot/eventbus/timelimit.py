"""A time limit on a handler call.

In the main thread the call is interrupted (SIGALRM via `setitimer`), which also breaks
out of `time.sleep` and socket waits. Elsewhere (a worker run in a thread, as the console
demo does) Python cannot interrupt it, so an overrun is detected when the call returns;
either way the attempt counts as failed.
"""
from __future__ import annotations

import signal
import threading
import time
from typing import Callable


class HandlerTimeout(Exception):
    """The handler ran past its time limit."""


class TimeLimit:
    def __init__(self, seconds: float):
        self.seconds = seconds
        self._armed = False
        self._installed = False

    def _expire(self, signum, frame) -> None:
        if self._armed:
            self._armed = False
            raise HandlerTimeout(self.message)

    @property
    def message(self) -> str:
        return f"handler exceeded its time limit of {self.seconds:g}s"

    def call(self, fn: Callable[[], None]) -> None:
        if threading.current_thread() is not threading.main_thread():
            t0 = time.perf_counter()
            fn()
            if time.perf_counter() - t0 > self.seconds:
                raise HandlerTimeout(self.message)
            return
        if not self._installed:  # once: the handler only raises while a call is armed
            signal.signal(signal.SIGALRM, self._expire)
            self._installed = True
        self._armed = True
        signal.setitimer(signal.ITIMER_REAL, self.seconds)
        try:
            fn()
        finally:
            self._armed = False
            signal.setitimer(signal.ITIMER_REAL, 0)
