"""The rate limit of a throttled job: a token bucket that never owes the job lost time.

Before each chunk the runner takes one token per entry; the bucket refills at the job's
rate and holds at most `burst` tokens (a tenth of a second's worth, at most one chunk), so
time the job spent stalled (Redis unreachable, a slow read, a busy machine) is not paid
back as a burst. Any window of T seconds therefore sees at most `burst + rate * T` entries:
no 1-second window exceeds 110% of the rate, outage or not.
"""
from __future__ import annotations

import time
from collections.abc import Callable

Wait = Callable[[float], object]  # sleeps for the given seconds (e.g. threading.Event.wait)


def burst_for(rate: int, chunk: int) -> float:
    """At most one chunk and at most a tenth of a second's worth of entries."""
    return min(float(chunk), rate / 10)


class Pacer:
    def __init__(self, rate: int, burst: float, clock: Callable[[], float] = time.monotonic,
                 wait: Wait = time.sleep) -> None:
        self.rate, self.burst = rate, burst
        self.clock, self.wait = clock, wait
        self.tokens = burst
        self.last = clock()

    def take(self, n: int) -> None:
        """Wait until `n` entries may go; returns at once when the job is unthrottled."""
        if not self.rate or n <= 0:
            return
        now = self.clock()
        self.tokens = min(self.burst, self.tokens + (now - self.last) * self.rate)
        self.last = now
        self.tokens -= n
        if self.tokens < 0:
            self.wait(-self.tokens / self.rate)

    def reset(self) -> None:
        """After a stall: start again from an empty bucket, as if the job had just begun
        its next second; nothing of the stalled time is owed."""
        self.tokens, self.last = 0.0, self.clock()
