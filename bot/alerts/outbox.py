"""Pending Slack deliveries, kept in Redis so that none is lost when Slack (or the bot) is
down: one FIFO list per rule (root post, root updates, thread lines, in order).

A deliverer takes a rule's lease (a Redis lock), sends the head item, and pops it only
after Slack accepted it. 429 stops every delivery until Retry-After has passed (kept in
Redis, so other processes wait too); timeouts and 5xx are retried with backoff; permanent
errors are dropped with a log. A delivery made more than `LATE_MS` after its event says it
is late. A root post already recorded for its episode is never posted again, so a crash
between posting and popping cannot duplicate the root message (a thread line could be).
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field

from redis.exceptions import LockError

from bot.alerts.notifier import DeliveryFailed, Notifier, RateLimited
from bot.bus import Bus
from bot.render import render

log = logging.getLogger(__name__)

LEASE_S = 90  # longer than a Slack call's timeout (30 s) with its retry
LATE_MS = 120_000
MAX_BACKOFF_MS = 300_000


@dataclass
class DeliveryReport:
    sent: list[dict] = field(default_factory=list)
    retried: int = 0
    dropped: int = 0
    held_until: int | None = None  # 429: nothing goes out before this (epoch ms)


def enqueue(bus: Bus, rule_id: str, items: list[dict]) -> None:
    """Queue deliveries outside a state transition (e.g. a "Top DLQ types" answer)."""
    p = bus.r.pipeline(transaction=True)
    p.rpush(bus.keys.alert_outbox(rule_id), *(json.dumps(i) for i in items))
    p.sadd(bus.keys.alert_outbox_index, rule_id)
    p.execute()


def root_ref(bus: Bus, rule_id: str, episode) -> tuple[str, str] | None:
    raw = bus.r.hget(bus.keys.alert_messages(rule_id), str(episode))
    return tuple(raw.split("|", 1)) if raw else None


def _late(item: dict, now: int) -> dict | None:
    by = now - item.get("created_ms", now)
    return {"at_ms": item["created_ms"], "by_ms": by} if by > LATE_MS else None


def _message(item: dict, now: int, late: bool) -> dict:
    if "message" in item:
        return item["message"]
    extra = {"late": _late(item, now) if late else None}
    if item["kind"] == "thread":
        return render("alert_thread", {"text": item["text"], **extra})
    return render("alert", {"a": item["view"], "now": now, **extra})


def _send(bus: Bus, notifier: Notifier, channel: str, item: dict, now: int) -> None:
    rule_id, episode = item["rule"], item["episode"]
    ref = root_ref(bus, rule_id, episode)
    if item["kind"] == "post":
        if ref:
            return  # posted before a crash: never twice
        ts = notifier.post(channel, _message(item, now, late=True))
        bus.r.hset(bus.keys.alert_messages(rule_id), str(episode), f"{channel}|{ts}")
        return
    if ref is None:
        raise DeliveryFailed(f"the root message of {rule_id} episode {episode} was never posted", permanent=True)
    root_channel, ts = ref
    if item["kind"] == "update":
        notifier.update(root_channel, ts, _message(item, now, late=False))
    else:
        notifier.post(root_channel, _message(item, now, late=True), thread_ts=ts)


def _forget_if_empty(bus: Bus, rule_id: str) -> None:
    outbox = bus.keys.alert_outbox(rule_id)

    def unindex(pipe):
        if pipe.llen(outbox) == 0:
            pipe.multi()
            pipe.srem(bus.keys.alert_outbox_index, rule_id)
    bus.r.transaction(unindex, outbox)


def _drain(bus: Bus, notifier: Notifier, channel: str, rule_id: str, report: DeliveryReport) -> bool:
    """Send this rule's deliveries in order; False when Slack asked everyone to wait."""
    outbox = bus.keys.alert_outbox(rule_id)
    while True:
        now = bus.clock()
        raw = bus.r.lindex(outbox, 0)
        if raw is None:
            _forget_if_empty(bus, rule_id)
            return True
        item = json.loads(raw)
        if item.get("next_ms", 0) > now:
            return True
        try:
            _send(bus, notifier, channel, item, now)
        except RateLimited as exc:
            report.held_until = now + int(exc.retry_after * 1000)
            bus.r.set(bus.keys.alert_outbox_hold, report.held_until)
            log.warning("Slack rate-limited alert deliveries; waiting %ss", exc.retry_after)
            return False
        except DeliveryFailed as exc:
            if not exc.permanent:
                item["attempts"] = item.get("attempts", 0) + 1
                item["next_ms"] = now + min(MAX_BACKOFF_MS, 5000 * 2 ** (item["attempts"] - 1))
                bus.r.lset(outbox, 0, json.dumps(item))
                report.retried += 1
                log.warning("alert delivery for %s failed (%s); retry %d", rule_id, exc.reason, item["attempts"])
                return True
            log.error("alert delivery for %s dropped: %s", rule_id, exc.reason)
            report.dropped += 1
        else:
            report.sent.append(item)
        bus.r.lpop(outbox)


def deliver(bus: Bus, notifier: Notifier, channel: str | None) -> DeliveryReport:
    """Send what is due, rule by rule, each under its lease. Raises on Redis errors."""
    report = DeliveryReport()
    if not channel:
        return report
    hold = bus.r.get(bus.keys.alert_outbox_hold)
    if hold and int(hold) > bus.clock():
        report.held_until = int(hold)
        return report
    for rule_id in sorted(bus.r.smembers(bus.keys.alert_outbox_index)):
        lease = bus.r.lock(bus.keys.alert_outbox_lock(rule_id), timeout=LEASE_S, blocking=False)
        if not lease.acquire():
            continue  # another process is delivering this rule's messages
        try:
            if not _drain(bus, notifier, channel, rule_id, report):
                break
        finally:
            try:
                lease.release()
            except LockError:  # the lease ran out while Slack was slow; nothing to undo
                log.warning("alert outbox lease of %s expired before release", rule_id)
    return report
