"""Demo traffic: realistic events at a steady rate, and handlers that fail at set rates
with the platform's real errors, so a demo bus's DLQ, lag and p99 move live.

Events and errors come from `bot.demo.catalog` (the same catalogue the console's seeded
demo data uses), each marked `source: busbot-demo` so a real consumer can tell them apart.
Each attempt of an event whose type has a failure rate `p` fails with probability `p`,
decided from the event id and attempt, so reruns behave alike.

`busbot demo-load` refuses to write into a stream that another consumer group reads
(unless told `--yes`), says what it will do before it starts, and cleans up after itself:
the group it created is deleted, or, in a group it found, its own pending entries are
acknowledged.
"""
from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from fnmatch import fnmatchcase

import redis

from bot.bus import Bus
from bot.demo.catalog import ERRORS, handler_duration_ms, make_event, pick_error
from bot.eventbus.handlers import Handlers, Message
from bot.eventbus.publisher import Publisher
from bot.eventbus.worker import Worker, WorkerConfig
from bot.redis_errors import UNREACHABLE

log = logging.getLogger(__name__)
TICK = 0.1  # seconds between publish batches
DEMO_SOURCE = "busbot-demo"  # the `source` of every event demo traffic writes
ACK_BATCH = 1000


class DemoHandlerError(Exception):
    """A failure the demo handler was told to have; its message is a real platform error."""


def parse_fail_spec(text: str | None) -> dict[str, float]:
    """`crm.contact.created=0.3,approval.*=0.1` -> {pattern: rate}; rates in [0, 1]."""
    rates: dict[str, float] = {}
    for part in filter(None, (p.strip() for p in (text or "").split(","))):
        pattern, sep, value = part.partition("=")
        try:
            rate = float(value)
        except ValueError:
            rate = -1.0
        if not sep or not pattern.strip() or not 0 <= rate <= 1:
            raise ValueError(f"bad --fail item {part!r}: expected TYPE=RATE with RATE "
                             "between 0 and 1, e.g. crm.contact.created=0.3")
        rates[pattern.strip()] = rate
    return rates


@dataclass
class FailingHandler:
    """A `*` handler that takes a realistic (scaled) time and fails at the given rates."""
    rates: dict[str, float]
    time_scale: float = 0.02  # 1.0: the catalogue's real durations (tens of ms)

    def rate_for(self, etype: str) -> float:
        return next((r for p, r in self.rates.items() if fnmatchcase(etype, p)), 0.0)

    def __call__(self, msg: Message) -> None:
        rng = random.Random(f"{msg.event.get('id')}:{msg.attempt}")
        if self.time_scale > 0:
            time.sleep(handler_duration_ms(rng, msg.type) * self.time_scale / 1000)
        if rng.random() < self.rate_for(msg.type):
            raise DemoHandlerError(_error_for(rng, msg))


def _error_for(rng: random.Random, msg: Message) -> str:
    fitting = [e for e in ERRORS if msg.type in e.types]
    pattern = rng.choice(fitting) if fitting else pick_error(rng)
    return pattern.render(rng, msg.event)[0]


def demo_handlers(rates: dict[str, float], time_scale: float = 0.02) -> Handlers:
    h = Handlers()
    h.register("*", FailingHandler(rates, time_scale))
    return h


@dataclass
class TrafficPublisher:
    """Publishes `rate` events/s in small batches until stopped (a daemon thread)."""
    bus: Bus
    rate: float
    seed: int | None = None
    published: int = 0
    monotonic: Callable[[], float] = time.monotonic
    _stop: threading.Event = field(default_factory=threading.Event)

    def run(self, duration: float | None = None) -> None:
        """Publish until stopped or `duration` seconds are over. While Redis is unreachable
        it retries every second; the time lost is not made up with a burst afterwards."""
        rng = random.Random(self.seed)
        pub = Publisher(self.bus)
        start = self.monotonic()
        while not self._stop.is_set():
            elapsed = self.monotonic() - start
            if duration is not None and elapsed >= duration:
                break
            due = int(elapsed * self.rate + 1e-9) + 1 - self.published
            if due > 0:
                now = self.bus.clock()
                try:
                    pub.publish_many(_marked(make_event(rng, now)) for _ in range(due))
                except UNREACHABLE as exc:  # the worker says so too; publish again once back
                    log.warning("demo traffic: Redis unreachable (%s); retrying", exc)
                    self._stop.wait(1.0)
                    start = self.monotonic() - self.published / max(self.rate, 1e-9)  # owe nothing
                    continue
                self.published += due
            self._stop.wait(TICK)

    def start(self, duration: float | None = None) -> threading.Thread:
        t = threading.Thread(target=self.run, args=(duration,), daemon=True,
                             name="demo-publisher")
        t.start()
        return t

    def stop(self) -> None:
        self._stop.set()


def start_in_background(bus: Bus, worker_config: WorkerConfig, rate: float,
                        rates: dict[str, float], time_scale: float = 0.02,
                        seed: int | None = None) -> Callable[[], None]:
    """Traffic and a failing worker in daemon threads (for an embedded demo bus).
    Returns a function that stops both."""
    traffic = TrafficPublisher(bus, rate, seed)
    worker = Worker(bus, demo_handlers(rates, time_scale), worker_config)
    traffic.start()
    threading.Thread(target=worker.run, daemon=True, name="demo-worker").start()

    def stop() -> None:
        traffic.stop()
        worker.stop()
    return stop


def _marked(event: dict) -> dict:
    event["source"] = DEMO_SOURCE
    return event


def other_readers(bus: Bus, group: str) -> list[str]:
    """The consumer groups of the main stream other than `group` (none: no stream yet)."""
    try:
        groups = bus.r.xinfo_groups(bus.keys.events)
    except redis.ResponseError:  # no such key
        return []
    return sorted(g["name"] for g in groups if g["name"] != group)


def refusal(bus: Bus, readers: list[str], rate: float) -> str:
    names = ", ".join(f"`{n}`" for n in readers)
    return (f"demo-load would write about {rate:g} demo events/s (source={DEMO_SOURCE}) into "
            f"`{bus.keys.events}`, which {'group' if len(readers) == 1 else 'groups'} {names} "
            f"{'reads' if len(readers) == 1 else 'read'} too; pass --yes to write there anyway, "
            "or set BUS_EVENTS_STREAM to a stream of its own.")


def plan(bus: Bus, group: str, rate: float, duration: float | None, created: bool,
         readers: list[str]) -> str:
    """What demo-load is about to do, in one paragraph for the terminal."""
    until = f"for {duration:g} s" if duration is not None else "until ^C"
    after = (f"its new group `{group}` is deleted" if created
             else f"its pending entries in the existing group `{group}` are acknowledged")
    shared = (f" Groups {', '.join(readers)} read this stream too and will see the demo events."
              if readers else "")
    return (f"demo-load: publishing about {rate:g} demo events/s (source={DEMO_SOURCE}) to "
            f"`{bus.keys.events}` on {bus.where} {until}, consuming them as group `{group}`; "
            f"at the end {after}.{shared}")


def clean_up(bus: Bus, group: str, consumer: str, created: bool) -> str:
    """Leave nothing behind: delete the group demo-load created (and its retry schedule),
    or acknowledge what this consumer still holds in a group it found. Returns a sentence."""
    k = bus.keys
    if created:
        bus.r.xgroup_destroy(k.events, group)
        bus.r.delete(k.retry_schedule(group))
        return f"deleted the group `{group}` it created"
    acked = 0
    while True:
        rows = bus.r.xpending_range(k.events, group, "-", "+", ACK_BATCH, consumername=consumer)
        ids = [row["message_id"] for row in rows]
        if not ids:
            break
        p = bus.r.pipeline(transaction=False)
        p.xack(k.events, group, *ids)
        p.zrem(k.retry_schedule(group), *ids)
        acked += p.execute()[0]
        if len(ids) < ACK_BATCH:
            break
    bus.r.xgroup_delconsumer(k.events, group, consumer)
    return f"acknowledged its {acked:,} pending entries in `{group}`"
