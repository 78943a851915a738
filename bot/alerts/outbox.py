"""Pending Slack deliveries, kept in Redis so that none is lost when Slack (or the bot) is
down: one FIFO list per queue (a root post, its updates, its thread lines, in order). A
queue is an alert rule (the alert engine fills it in the same Lua call as the transition)
or one message of `OutboxNotifier` (job progress and follow-ups).

A deliverer takes a queue's lease (a Redis lock), sends the head item, and pops it only
after Slack accepted it. 429 stops every delivery until Retry-After has passed (kept in
Redis, so other processes wait too); timeouts and 5xx are retried with backoff; permanent
errors are dropped with a log. A delivery made more than `LATE_MS` after its event says it
is late. A root post already recorded for its episode is never posted again, so a crash
between posting and popping cannot duplicate the root message (a thread line could be).
"""
from __future__ import annotations

import json
import logging
import uuid

import redis
from redis.exceptions import LockError

from bot.bus import Bus
from bot.notify import DeliveryFailed, Message, RateLimited, Transport
from bot.render import fallback_text, render

log = logging.getLogger(__name__)

LEASE_S = 90  # longer than a Slack call's timeout (30 s) with its retry
LATE_MS = 120_000
MAX_BACKOFF_MS = 300_000
MESSAGE_PREFIX = "msg."  # queues of OutboxNotifier messages; the rest are alert rule ids
MESSAGE_TTL_S = 30 * 86400  # how long a posted message can still be updated or threaded


def enqueue(bus: Bus, rule_id: str, items: list[dict]) -> None:
    """Queue deliveries outside a state transition (e.g. a "Top DLQ types" answer)."""
    bus.r.rpush(bus.keys.alert_outbox(rule_id), *(json.dumps(i) for i in items))
    bus.r.sadd(bus.keys.alert_outbox_index, rule_id)  # after the push: see _forget_if_empty


ROOTS = ("", "critical")  # an episode's root messages: its main one, one in the critical channel


def _field(episode, root: str = "") -> str:
    return f"{episode}:{root}" if root else str(episode)


def _ref(raw) -> tuple[str, str] | None:
    if not raw:
        return None
    channel, _, ts = str(raw).partition("|")
    return channel, ts


def root_ref(bus: Bus, rule_id: str, episode, root: str = "") -> tuple[str, str] | None:
    """(channel, ts) of a root message of the queue's episode, once it was posted."""
    return _ref(bus.r.hget(bus.keys.alert_messages(rule_id), _field(episode, root)))


def root_refs(bus: Bus, rule_id: str, episode) -> list[tuple[str, str]]:
    """Every root message of the episode that was posted, the main one first."""
    raw = bus.r.hmget(bus.keys.alert_messages(rule_id), [_field(episode, r) for r in ROOTS])
    return [ref for ref in (_ref(x) for x in raw) if ref is not None]


def render_alert(view: dict, now: int, late: dict | None, transport: Transport | None = None) -> dict:
    """An alert's root message. A mention given as `@handle` is looked up through the
    transport (Slack's user groups) when it can; otherwise it is shown as text."""
    mention_id = None
    mention = view.get("mention")
    lookup = getattr(transport, "usergroup_id", None)
    if mention and mention.startswith("@") and lookup is not None:
        try:
            mention_id = lookup(mention)
        except Exception:  # noqa: BLE001 - a failed lookup must never hold the alert back
            log.warning("could not look up the user group %s; it is shown as text", mention)
    return render("alert", {"a": view, "now": now, "late": late, "mention_id": mention_id})


def _late(item: dict, now: int) -> dict | None:
    by = now - item.get("created_ms", now)
    return {"at_ms": item["created_ms"], "by_ms": by} if by > LATE_MS else None


def _message(item: dict, now: int, late: bool, transport: Transport | None = None) -> dict:
    if "message" in item:
        return item["message"]
    if item["kind"] == "thread":
        return render("alert_thread", {"text": item["text"], "late": _late(item, now) if late else None})
    return render_alert(item["view"], now, _late(item, now) if late else None, transport)


def _send(bus: Bus, transport: Transport, default_channel: str | None, item: dict, now: int) -> None:
    rule_id, episode = item["rule"], item["episode"]
    if item["kind"] == "post":
        root = item.get("root", "")
        if root_ref(bus, rule_id, episode, root):
            return  # posted before a crash: never twice
        channel = item.get("channel") or default_channel
        if not channel:
            raise DeliveryFailed(f"no channel to post {rule_id} to (BUS_ALERT_CHANNEL is not set)", permanent=True)
        ts = transport.post(channel, _message(item, now, late=True, transport=transport))
        p = bus.r.pipeline(transaction=True)
        p.hset(bus.keys.alert_messages(rule_id), _field(episode, root), f"{channel}|{ts}")
        if rule_id.startswith(MESSAGE_PREFIX):
            p.expire(bus.keys.alert_messages(rule_id), MESSAGE_TTL_S)
        p.execute()
        return
    refs = root_refs(bus, rule_id, episode)
    if not refs:
        raise DeliveryFailed(f"the root message of {rule_id} episode {episode} was never posted", permanent=True)
    if item["kind"] == "update":  # every root of the episode shows its state
        message = _message(item, now, late=False, transport=transport)
        for root_channel, ts in refs:
            transport.update(root_channel, ts, message)
    else:  # a thread line goes under the newest root, where people look now
        root_channel, ts = refs[-1]
        transport.post(root_channel, _message(item, now, late=True, transport=transport), thread_ts=ts)


def _forget_if_empty(bus: Bus, rule_id: str) -> None:
    """Unindex an empty queue. The outbox and the index may be in different cluster slots
    (no MULTI across them), so: remove, then look again and put it back if a delivery
    arrived meanwhile. Every writer pushes first and indexes after, so a push this check
    misses is followed by its writer's own SADD."""
    index = bus.keys.alert_outbox_index
    if bus.r.llen(bus.keys.alert_outbox(rule_id)):
        return
    bus.r.srem(index, rule_id)
    if bus.r.llen(bus.keys.alert_outbox(rule_id)):
        bus.r.sadd(index, rule_id)


def _adopt_legacy(bus: Bus, rule_id: str) -> bool:
    """Deliveries queued before the upgrade that moved outboxes next to their rule's state
    (a name cluster slots can share) are taken over, so none is lost. Only a single Redis
    can hold them: busbot did not run on a cluster before."""
    if bus.cluster:
        return False
    legacy = bus.keys.legacy_alert_outbox(rule_id)
    if legacy == bus.keys.alert_outbox(rule_id) or not bus.r.exists(legacy):
        return False
    bus.r.rename(legacy, bus.keys.alert_outbox(rule_id))  # the new queue is empty: nothing overwritten
    return True


def _drain(bus: Bus, transport: Transport, channel: str | None, rule_id: str) -> bool:
    """Send this queue's deliveries in order; False when Slack asked everyone to wait."""
    outbox = bus.keys.alert_outbox(rule_id)
    while True:
        now = bus.clock()
        raw = bus.r.lindex(outbox, 0)
        if raw is None and _adopt_legacy(bus, rule_id):
            continue
        if raw is None:
            _forget_if_empty(bus, rule_id)
            return True
        item = json.loads(raw)
        if item.get("next_ms", 0) > now:
            return True
        try:
            _send(bus, transport, channel, item, now)
        except RateLimited as exc:
            bus.r.set(bus.keys.alert_outbox_hold, now + int(exc.retry_after * 1000))
            log.warning("Slack rate-limited alert deliveries; waiting %ss", exc.retry_after)
            return False
        except DeliveryFailed as exc:
            if not exc.permanent:
                item["attempts"] = item.get("attempts", 0) + 1
                item["next_ms"] = now + min(MAX_BACKOFF_MS, 5000 * 2 ** (item["attempts"] - 1))
                bus.r.lset(outbox, 0, json.dumps(item))
                log.warning("alert delivery for %s failed (%s); retry %d", rule_id, exc.reason, item["attempts"])
                return True
            log.error("alert delivery for %s dropped: %s", rule_id, exc.reason)
        bus.r.lpop(outbox)


def deliver(bus: Bus, transport: Transport, channel: str | None) -> None:
    """Send what is due, queue by queue, each under its lease; `channel` is where alerts
    go (a message queued by `OutboxNotifier` names its own). Raises on Redis errors."""
    hold = bus.r.get(bus.keys.alert_outbox_hold)
    if hold and int(hold) > bus.clock():
        return
    for rule_id in sorted(str(q) for q in bus.r.smembers(bus.keys.alert_outbox_index)):
        lease = bus.r.lock(bus.keys.alert_outbox_lock(rule_id), timeout=LEASE_S, blocking=False)
        if not lease.acquire():
            continue  # another process is delivering this rule's messages
        try:
            if not _drain(bus, transport, channel, rule_id):
                break
        finally:
            try:
                lease.release()
            except LockError:  # the lease ran out while Slack was slow; nothing to undo
                log.warning("alert outbox lease of %s expired before release", rule_id)


class OutboxNotifier:
    """Job progress and follow-ups through the outbox, to `channel`: each posted message is a
    queue of its own (`post` returns its reference, `msg.<token>`), so its updates and thread
    lines go out in order after it, and a 429 holds them like any alert. An update queued
    behind another update not yet sent replaces it: only the newest progress goes out.

    A failure to queue (Redis unreachable, a bug in rendering) is logged and the job goes
    on: a lost progress update must never stop or fail a move."""

    def __init__(self, bus: Bus, channel: str):
        self.bus, self.channel = bus, channel

    def post(self, message: Message, thread_ts: str | None = None) -> str | None:
        try:
            if thread_ts is not None:
                if not thread_ts.startswith(MESSAGE_PREFIX):
                    log.warning("not threading %r: %r is not an outbox message", message.text, thread_ts)
                    return None
                self._push(thread_ts, {"kind": "thread", **self._item(thread_ts, message)})
                return None
            queue = MESSAGE_PREFIX + uuid.uuid4().hex[:16]
            self._push(queue, {"kind": "post", "channel": self.channel, **self._item(queue, message)})
            return queue
        except Exception:  # noqa: BLE001 - Redis down or a rendering bug: the job must go on
            log.exception("queueing %r for %s failed", message.text, self.channel)
            return None

    def update(self, ts: str, message: Message) -> None:
        if not ts.startswith(MESSAGE_PREFIX):
            log.warning("not updating %r: %r is not an outbox message", message.text, ts)
            return
        try:
            self._push(ts, {"kind": "update", **self._item(ts, message)}, replace_update=True)
        except Exception:  # noqa: BLE001 - Redis down or a rendering bug: the job must go on
            log.exception("queueing an update of %s failed", ts)

    def _item(self, queue: str, message: Message) -> dict:
        body = render(message.template, message.context)
        body["text"] = fallback_text(message.text or body.get("text", "busbot"))
        return {"rule": queue, "episode": 1, "message": body, "created_ms": self.bus.clock()}

    def _push(self, queue: str, item: dict, replace_update: bool = False) -> None:
        outbox, raw = self.bus.keys.alert_outbox(queue), json.dumps(item)

        def push(pipe: redis.client.Pipeline) -> None:
            # the head (index 0) may be on its way to Slack; a later update not yet sent is
            # replaced by this newer one
            tail = pipe.lindex(outbox, -1) if replace_update and pipe.llen(outbox) >= 2 else None
            pipe.multi()
            if tail is not None and json.loads(tail)["kind"] == "update":
                pipe.lset(outbox, -1, raw)
            else:
                pipe.rpush(outbox, raw)
        self.bus.r.transaction(push, outbox)
        # indexed after the push (the index may be in another cluster slot): see _forget_if_empty
        self.bus.r.sadd(self.bus.keys.alert_outbox_index, queue)
