"""The pause protocol (design §2), seen from a consumer.

While `keys.paused(group)` exists the group's consumers start nothing new: the worker
checks the key before every read, so a pause takes effect within one read timeout (under
a second). Each worker announces on `keys.control_channel` when it has actually stopped
or started again, so whoever paused can see it take effect.
"""
from __future__ import annotations

import json

from bot.bus import Bus
from bot.timeparse import iso_ms


class PauseWatch:
    def __init__(self, bus: Bus, group: str, consumer: str):
        self.bus, self.group, self.consumer = bus, group, consumer
        self.key = bus.keys.paused(group)
        self.paused = False

    def check(self) -> bool:
        """True while the group is paused; announces each change this worker sees."""
        now = self.bus.r.exists(self.key) == 1
        if now != self.paused:
            self.paused = now
            self.bus.r.publish(self.bus.keys.control_channel, json.dumps({
                "group": self.group, "consumer": self.consumer,
                "state": "paused" if now else "running", "at": iso_ms(self.bus.clock())}))
        return now
