"""Demo traffic: realistic events at a steady rate, and handlers that fail at set rates
with the platform's real errors, so a demo bus's DLQ, lag and p99 move live.

Events and errors come from `bot.demo.catalog` (the same catalogue the console's seeded
demo data uses). Each attempt of an event whose type has a failure rate `p` fails with
probability `p`, decided from the event id and attempt, so reruns behave alike.
"""
from __future__ import annotations

import logging
import random
import threading
import time
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Callable

from bot.bus import Bus
from bot.demo.catalog import ERRORS, handler_duration_ms, make_event, pick_error
from bot.eventbus.handlers import Handlers, Message
from bot.eventbus.publisher import Publisher
from bot.eventbus.worker import Worker, WorkerConfig

log = logging.getLogger(__name__)
TICK = 0.1  # seconds between publish batches


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
    _stop: threading.Event = field(default_factory=threading.Event)

    def run(self, duration: float | None = None) -> None:
        rng = random.Random(self.seed)
        pub = Publisher(self.bus)
        start = time.monotonic()
        while not self._stop.is_set():
            elapsed = time.monotonic() - start
            if duration is not None and elapsed >= duration:
                break
            due = int(elapsed * self.rate) + 1 - self.published
            if due > 0:
                now = self.bus.clock()
                pub.publish_many(make_event(rng, now) for _ in range(due))
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
