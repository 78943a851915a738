"""Redis unreachable is itself a critical alert, and it cannot live in Redis: its state
and its pending Slack messages are kept in this process only (each bot process that
cannot reach Redis says so once, in its own message). It resolves when Redis answers."""
from __future__ import annotations

import logging
import threading

from bot.alerts.machine import AlertState, step
from bot.alerts.outbox import render_alert
from bot.alerts.rules import redis_rule
from bot.alerts.view import deliveries, routed
from bot.notify import DeliveryFailed, RateLimited, Transport
from bot.render import render
from bot.settings import Settings

log = logging.getLogger(__name__)


class RedisOutage:
    def __init__(self, settings: Settings, where: str):
        self.settings, self.where = settings, where
        self.rule = redis_rule()
        self.state = AlertState()
        self.pending: list[dict] = []
        self.root: tuple[str, str] | None = None  # (channel, ts) of the current episode
        self.hold_until = 0
        self._sending = threading.Lock()  # the check job and the delivery job both deliver

    def observe(self, reachable: bool, now: int, cause: str | None = None) -> None:
        """`cause`: what went wrong, one sentence (bot.redis_errors.describe)."""
        s = self.settings
        note = "" if reachable else (cause or f"Redis at {self.where} is not answering")
        self.state, events = step(self.rule, self.state, 0.0 if reachable else 1.0, note, now,
                                  s.bus_alert_for * 1000, s.bus_alert_repeat * 1000)
        if routed(s):
            self.pending += deliveries(self.rule, self.state, events, "", now, s)

    def deliver(self, notifier: Transport, now: int) -> None:
        with self._sending:
            self._deliver(notifier, now)

    def _deliver(self, notifier: Transport, now: int) -> None:
        while self.pending and now >= self.hold_until:
            item = self.pending[0]
            try:
                self._send(notifier, item.get("channel") or self.settings.bus_alert_channel, item, now)
            except RateLimited as exc:
                self.hold_until = now + int(exc.retry_after * 1000)
                return
            except DeliveryFailed as exc:
                if not exc.permanent:
                    log.warning("Redis-down alert not delivered (%s); will retry", exc.reason)
                    return
                log.error("Redis-down alert dropped: %s", exc.reason)
            self.pending.pop(0)

    def _send(self, notifier: Transport, channel: str | None, item: dict, now: int) -> None:
        late = item["created_ms"] + 120_000 < now and {"at_ms": item["created_ms"], "by_ms": now - item["created_ms"]}
        if item["kind"] == "post":
            if not channel:
                raise DeliveryFailed("no channel to post the Redis-down alert to", permanent=True)
            ts = notifier.post(channel, render_alert(item["view"], now, late or None, notifier))
            self.root = (channel, ts)
        elif self.root is None:
            raise DeliveryFailed("the Redis-down message was never posted", permanent=True)
        elif item["kind"] == "update":
            notifier.update(*self.root, render_alert(item["view"], now, None, notifier))
        else:
            notifier.post(self.root[0], render("alert_thread", {"text": item["text"], "late": late or None}),
                          thread_ts=self.root[1])
