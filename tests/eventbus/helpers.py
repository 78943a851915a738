"""Shared bits of the event bus tests."""
from __future__ import annotations

import json

from bot.bus import Bus
from bot.eventbus.event import new_event
from bot.eventbus.handlers import Handlers
from bot.eventbus.publisher import Publisher
from bot.eventbus.retry import RetryPolicy
from bot.eventbus.worker import Worker, WorkerConfig, ensure_group

GROUP = "test-group"
RAW_XRANGE = "return redis.call('XRANGE', KEYS[1], '-', '+')"  # the flat reply, unparsed


def raw_entries(bus: Bus, stream: str) -> list:
    """XRANGE as the platform's reader sees it: [[id, [field, value, ...]], ...]."""
    return bus.r.eval(RAW_XRANGE, 1, stream)


def publish(bus: Bus, etype: str = "approval.item.created", n: int = 1, **data) -> list[str]:
    return Publisher(bus).publish_many(
        new_event(etype, {"n": i, **data}, tenant="ws_1", user="usr_1", clock=bus.clock)
        for i in range(n))


def make_worker(bus: Bus, handlers: Handlers, *, delays=(60.0, 300.0, 1800.0), attempts=3,
                timeout=5.0, claim_idle=3600.0, consumer="c1", **kw) -> Worker:
    """A worker on a fresh group from the start of the stream that claims on every poll
    (unless `claim_every` says otherwise), so a poll handles one batch."""
    ensure_group(bus, GROUP, "0")
    cfg = WorkerConfig(GROUP, consumer, RetryPolicy(tuple(delays), attempts),
                       handler_timeout=timeout, claim_idle=claim_idle,
                       claim_every=kw.pop("claim_every", 0),
                       block_ms=kw.pop("block_ms", 10), pause_recheck=0, **kw)
    return Worker(bus, handlers, cfg)


def pausing_handlers(bus: Bus, done: list) -> Handlers:
    """Handlers that note each event's `n` in `done` and pause the group, as an operator's
    `/bus pause` would, from the first event on."""
    def pause_on_first(msg) -> None:
        done.append(msg.event["data"]["n"])
        bus.r.set(bus.keys.paused(GROUP), json.dumps({"by": "U1", "at": "now", "reason": "deploy"}))
    h = Handlers()
    h.register("*", pause_on_first)
    return h


def pending(bus: Bus) -> int:
    return bus.r.xpending(bus.keys.events, GROUP)["pending"]
