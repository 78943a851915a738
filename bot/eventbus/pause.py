"""The pause protocol (docs/architecture.md), seen from a consumer.

While `keys.paused(group)` exists the group's consumers start nothing new: the worker
looks at the key before a read when it has not in the last 0.1 s, so a pause takes effect
within that plus one read timeout (0.5 s). Each worker announces on `keys.control_channel` when it has actually stopped
or started again, so whoever paused can see it take effect.
"""
from __future__ import annotations

import json
import time

from bot.bus import Bus
from bot.timeparse import iso_ms

RECHECK = 0.1  # seconds a look at the pause key stays good (saves a round trip a batch)


class PauseWatch:
    def __init__(self, bus: Bus, group: str, consumer: str, recheck: float = RECHECK):
        self.bus, self.group, self.consumer, self.recheck = bus, group, consumer, recheck
        self.key = bus.keys.paused(group)
        self.paused = False
        self._fresh_until = 0.0

    def check(self) -> bool:
        """True while the group is paused; announces each change this worker sees."""
        t = time.monotonic()
        if t < self._fresh_until:
            return self.paused
        self._fresh_until = t + self.recheck
        now = self.bus.r.exists(self.key) == 1
        if now != self.paused:
            self.paused = now
            self.bus.r.publish(self.bus.keys.control_channel, json.dumps({
                "group": self.group, "consumer": self.consumer, "source": "worker",
                "state": "paused" if now else "running", "at": iso_ms(self.bus.clock())}))
        return now
