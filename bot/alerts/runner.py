"""What the scheduler calls: `check()` every BUS_CHECK_INTERVAL, `deliver()` every few
seconds. A Redis outage becomes the Redis-down alert; any other error propagates to
APScheduler, which logs it with its trace and runs the job again next time."""
from __future__ import annotations

import logging

from bot.alerts import outbox
from bot.alerts.engine import RuleResult, run_check
from bot.alerts.notifier import Notifier
from bot.alerts.outage import RedisOutage
from bot.bus import Bus
from bot.redis_errors import UNREACHABLE, describe

log = logging.getLogger(__name__)
REDIS_DOWN = UNREACHABLE


class AlertRunner:
    def __init__(self, bus: Bus, notifier: Notifier):
        self.bus, self.notifier = bus, notifier
        self.outage = RedisOutage(bus.settings, bus.where)

    def check(self) -> list[RuleResult] | None:
        try:
            results = run_check(self.bus)
        except REDIS_DOWN as exc:
            sentence, _ = describe(exc, self.bus.where)  # wrong password, TLS, refused...
            log.warning("alert check: %s", sentence)
            self.outage.observe(False, self.bus.clock(), sentence.rstrip("."))
            self.outage.deliver(self.notifier, self.bus.clock())
            return None
        self.outage.observe(True, self.bus.clock())
        return results

    def deliver(self) -> outbox.DeliveryReport | None:
        self.outage.deliver(self.notifier, self.bus.clock())
        try:
            return outbox.deliver(self.bus, self.notifier, self.bus.settings.bus_alert_channel)
        except REDIS_DOWN:
            return None  # the next check raises the Redis-down alert

    def tick(self) -> None:
        """One check then one delivery round (tests and `busbot serve`'s first run)."""
        self.check()
        self.deliver()

