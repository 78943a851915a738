"""What the scheduler of `busbot serve` calls: `check()` every BUS_CHECK_INTERVAL and
`deliver()` every few seconds (the outbox: alerts, job progress, follow-ups). A Redis outage
becomes the Redis-down alert; any other error propagates to APScheduler, which logs it with
its trace and runs the job again next time."""
from __future__ import annotations

import logging

from bot.alerts import outbox
from bot.alerts.engine import RuleResult, run_check
from bot.alerts.outage import RedisOutage
from bot.bus import Bus
from bot.notify import Transport
from bot.redis_errors import UNREACHABLE, describe

log = logging.getLogger(__name__)
REDIS_DOWN = UNREACHABLE


class AlertRunner:
    def __init__(self, bus: Bus, transport: Transport):
        self.bus, self.transport = bus, transport
        self.outage = RedisOutage(bus.settings, bus.where)

    def check(self) -> list[RuleResult] | None:
        try:
            results = run_check(self.bus)
        except REDIS_DOWN as exc:
            sentence, _ = describe(exc, self.bus.where)  # wrong password, TLS, refused...
            log.warning("alert check: %s", sentence)
            self.outage.observe(False, self.bus.clock(), sentence.rstrip("."))
            self.outage.deliver(self.transport, self.bus.clock())
            return None
        self.outage.observe(True, self.bus.clock())
        return results

    def deliver(self) -> None:
        self.outage.deliver(self.transport, self.bus.clock())
        try:
            outbox.deliver(self.bus, self.transport, self.bus.settings.bus_alert_channel)
        except REDIS_DOWN:
            pass  # the next check raises the Redis-down alert

