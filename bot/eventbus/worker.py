"""The consumer worker: read a group's entries, run handlers, settle each entry once.

One loop, one thread: check the pause key, claim entries due again (retries, and those a
dead consumer left pending), read new ones, handle them in order, then acknowledge the
batch in one Lua call, sent while the next batch is handled (conveyor.py). A failed attempt
leaves the entry pending with a retry time in the group's retry schedule (any worker of the
group picks it up when due); the last failed attempt, or a `Permanent` error, moves it to
the DLQ in one Lua call with its acknowledgement. Handlers and middleware: handlers.py,
middleware.py.
"""
from __future__ import annotations

import json
import logging
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import orjson
import redis

from bot.bus import Bus
from bot.envelope import parse_entry
from bot.eventbus.conveyor import Conveyor
from bot.eventbus.dispatch import Plans, Step
from bot.eventbus.errors import Permanent, Retry
from bot.eventbus.handlers import Handlers, Message, require_hooks
from bot.eventbus.middleware import Hooks, Result
from bot.eventbus.pause import PauseWatch
from bot.eventbus.retry import RetryPolicy
from bot.eventbus.settle import DeadLetter, Delivery, Outcome, Settler
from bot.eventbus.timelimit import TimeLimit
from bot.redis_errors import UNREACHABLE
from bot.settings import Settings
from bot.timeparse import iso_ms

log = logging.getLogger(__name__)
_PKG_DIR = str(Path(__file__).parent)
NO_STACK = "N/A"  # what the platform writes when an error has no stack


@dataclass(frozen=True)
class WorkerConfig:
    group: str
    consumer: str
    retry: RetryPolicy = RetryPolicy()
    handler_timeout: float = 30.0
    claim_idle: float = 120.0  # a pending entry idle this long belongs to a dead consumer
    metadata_maxlen: int = 100_000
    batch: int = 100
    block_ms: int = 500  # longest read wait; keeps pause and stop under a second
    claim_every: float | None = None  # seconds between claim passes; None: derived
    start_id: str = "$"  # where a group this worker creates starts reading
    pause_recheck: float = 0.1  # seconds a look at the pause key stays good

    def __post_init__(self) -> None:
        if self.claim_idle < 2 * self.handler_timeout:
            raise ValueError(f"claim idle ({self.claim_idle:g}s) must be at least twice the "
                             f"handler time limit ({self.handler_timeout:g}s), or live "
                             "handlers would have their entries claimed from under them")

    @classmethod
    def from_settings(cls, s: Settings, group: str, consumer: str, **kw) -> WorkerConfig:
        kw.setdefault("retry", RetryPolicy.from_settings(s))
        return cls(group=group, consumer=consumer, handler_timeout=s.bus_handler_timeout,
                   claim_idle=s.bus_claim_idle, metadata_maxlen=s.bus_metadata_maxlen, **kw)

    @property
    def claim_interval(self) -> float:
        if self.claim_every is not None:
            return self.claim_every
        return max(0.005, min(1.0, min(self.retry.delays) / 4, self.claim_idle / 4))


@dataclass
class WorkerStats:
    read: int = 0
    claimed: int = 0
    completed: int = 0
    unhandled: int = 0
    failed_attempts: int = 0
    retries_scheduled: int = 0
    dead_lettered: int = 0
    malformed: int = 0
    settled_elsewhere: int = 0  # claimed from us, or settled by another consumer meanwhile


def ensure_group(bus: Bus, group: str, start_id: str = "$") -> bool:
    """Create the group (and the stream) if missing; True when it was created."""
    try:
        bus.r.xgroup_create(bus.keys.events, group, id=start_id, mkstream=True)
        return True
    except redis.ResponseError as exc:
        if "BUSYGROUP" in str(exc):
            return False
        raise


@dataclass
class Worker:
    bus: Bus
    handlers: Handlers
    config: WorkerConfig
    stats: WorkerStats = field(default_factory=WorkerStats)

    def __post_init__(self) -> None:
        c = self.config
        self.settler = Settler(self.bus, c.group, c.consumer, c.metadata_maxlen)
        self._conveyor = Conveyor(self.settler, c.batch)
        self.pause = PauseWatch(self.bus, c.group, c.consumer, c.pause_recheck)
        self.limit = TimeLimit(c.handler_timeout)
        self.plans = Plans(self.handlers, c.handler_timeout, c.retry.max_attempts)
        self._middleware: list[object] = []
        self._hooks = Hooks()
        self._refresh()
        self._stopping = threading.Event()
        self._cursor = "0-0"
        self._next_claim = 0.0
        self._block_ms = int(min(c.block_ms, max(1.0, c.claim_interval * 1000)))

    def middleware(self, obj: object) -> object:
        """Add a middleware to this worker only (after those added to its handlers); see
        `bot.eventbus.middleware`."""
        require_hooks(obj)
        self._middleware.append(obj)
        self._refresh()
        return obj

    def _refresh(self) -> None:
        """Take in handlers and middleware registered since the last batch."""
        self.plans.fresh()
        longest = self.plans.longest_timeout()
        if self.config.claim_idle < 2 * longest:
            raise ValueError(f"claim idle ({self.config.claim_idle:g}s) must be at least twice "
                             f"the longest handler time limit ({longest:g}s), or live "
                             "handlers would have their entries claimed from under them")
        self.limit.shortest = self.plans.shortest_timeout()
        self._hooks = Hooks([*self.handlers.middlewares, *self._middleware])

    def close(self) -> None:
        """Give back the connection reads go through (`run` does it when it ends)."""
        try:
            self._conveyor.close()
        except UNREACHABLE:
            pass  # nothing in flight after a poll: only the connection is given back

    def stop(self) -> None:
        """Stop reading; the batch in hand is finished first. Safe from a signal handler."""
        self._stopping.set()

    def run(self) -> WorkerStats:
        ensure_group(self.bus, self.config.group, self.config.start_id)
        log.info("worker %s of group %s reading %s", self.config.consumer,
                 self.config.group, self.bus.keys.events)
        backoff = 0.5
        while not self._stopping.is_set():
            try:
                self.poll()
                backoff = 0.5
            except UNREACHABLE as exc:  # refused, reset or timed out: keep trying
                log.warning("redis unavailable (%s); retrying in %.1fs", exc, backoff)
                self._stopping.wait(backoff)
                backoff = min(backoff * 2, 5.0)
        self.close()
        log.info("worker %s stopped: %s", self.config.consumer, self.stats)
        return self.stats

    def poll(self) -> int:
        """One turn of the loop; returns how many entries it handled."""
        if self.pause.check():
            self._stopping.wait(0.25)
            return 0
        claimed = 0
        while claimed < self.config.batch and not self._stopping.is_set():
            if self.pause.check():  # a handler may have run long: no more claims once paused
                return claimed
            got = self._claim()
            for d in got:  # settled one by one: a kill now costs no other entry a delivery
                self.process([d])
            if not got:
                break
            claimed += len(got)
        if self._stopping.is_set() or self.pause.check():
            return claimed
        return claimed + self._consume(self._read(0 if claimed else self._block_ms))

    def _consume(self, batch: list[Delivery]) -> int:
        """Handle `batch`; then, while new entries keep coming, no claim pass is due and
        the worker is neither paused nor stopping: read the next batch, send this one's
        settle without waiting, and handle the next while Redis runs the settle
        (`Conveyor`). Returns with everything it read settled."""
        handled = 0
        until = time.monotonic() + self.config.claim_interval
        conveyor = self._conveyor
        try:
            while batch:
                handled += len(batch)
                outcomes = self._run(batch)
                self.stats.settled_elsewhere += conveyor.collect()
                if (self._stopping.is_set() or time.monotonic() >= until
                        or self.pause.check()):
                    self._ack(outcomes)
                    break
                batch = self._read_next(outcomes)
        finally:
            if conveyor.busy:
                self.stats.settled_elsewhere += conveyor.collect()
        return handled

    def _read_next(self, outcomes: list[Outcome]) -> list[Delivery]:
        return self._counted(lambda: self._conveyor.read_and_settle(outcomes))

    def _claim(self) -> list[Delivery]:
        """At most one due retry and one abandoned entry per pass, since each claim counts
        a delivery (an attempt) for what it takes; `poll` repeats passes while they find
        work, up to a batch."""
        now = time.monotonic()
        if now < self._next_claim:
            return []
        self._cursor, got = self.settler.claim(self.bus.clock(), int(self.config.claim_idle * 1000),
                                               self._cursor, 1)
        if not got and self._cursor == "0-0":
            self._next_claim = now + self.config.claim_interval
        self.stats.claimed += len(got)
        return got

    def _read(self, block_ms: int) -> list[Delivery]:
        return self._counted(lambda: self._conveyor.read(block_ms))

    def _counted(self, read: Callable[[], list[Delivery]]) -> list[Delivery]:
        """`read()`, counted; a group deleted under us is recreated (and nothing read)."""
        c = self.config
        try:
            got = read()
        except redis.ResponseError as exc:
            if "NOGROUP" not in str(exc):
                raise
            ensure_group(self.bus, c.group, c.start_id)
            return []
        self.stats.read += len(got)
        return got

    def process(self, batch: list[Delivery]) -> None:
        """Handle each entry, then acknowledge the handled ones in one call."""
        self._ack(self._run(batch))

    def _ack(self, outcomes: list[Outcome]) -> None:
        acked = self.settler.ack(outcomes)
        self.stats.settled_elsewhere += len(outcomes) - acked

    def _run(self, batch: list[Delivery]) -> list[Outcome]:
        """Handle each entry; the outcomes to acknowledge. A pending entry's idle time runs
        from its delivery, so in a slow batch the entries not yet acknowledged are touched
        every claim_idle/2, lest another consumer think us dead."""
        outcomes: list[Outcome] = []
        if not batch:
            return outcomes
        if self.plans.fresh():
            self._refresh()
        touched, touch_after = time.monotonic(), self.config.claim_idle / 2
        with self.limit.armed():
            for i, d in enumerate(batch):
                if time.monotonic() - touched > touch_after:
                    self.settler.touch([o[0] for o in outcomes]
                                       + [w.entry_id for w in batch[i:]])
                    touched = time.monotonic()
                o = self._handle(d)
                if o is not None:
                    outcomes.append(o)
        return outcomes

    def _handle(self, d: Delivery) -> Outcome | None:
        event, etype, problem = _read_event(d)
        event_id = event.get("id") if event else None
        if type(event_id) is not str:
            event_id = ""
        msg = _new(Message, (event or {}, etype, d.entry_id, d.attempt))
        if problem:
            self.stats.malformed += 1
            self._dead_letter(d, msg, event_id, f"malformed entry: {problem}", NO_STACK, 0)
            return None
        try:
            plan = self.plans.cache[etype]
        except KeyError:
            plan = self.plans.get(etype)
        if d.attempt > (self.plans.max_attempts if plan is None else plan.max_attempts):
            self._dead_letter(d, msg, event_id, f"delivered {d.attempt} times without a "
                              "result: the worker handling it stopped each time (crash, "
                              "kill or a handler that could not be interrupted)", NO_STACK, 0,
                              attempts=d.attempt - 1)
            return None
        hooks = self._hooks
        if hooks.before:
            hooks.before_process(msg)
        if plan is None:
            self.stats.unhandled += 1
            if hooks.after:
                hooks.after_process(msg, Result("unhandled", 0, d.attempt))
            return (d.entry_id, event_id, etype, "unhandled", 0, d.attempt)
        took = 0.0
        step = plan.steps[0]
        call = self.limit.call
        try:
            for step in plan.steps:
                took += call(step.func, msg, step.timeout)
        except Exception as exc:  # a handler's failure is data: retry or dead-letter
            ms = round((took + self.limit.elapsed()) * 1000)
            result = self._failed(d, msg, event_id, step, exc, ms)
            if hooks.after:
                hooks.after_process(msg, result)
            return None
        self.stats.completed += 1
        ms = round(took * 1000)
        if hooks.after:
            hooks.after_process(msg, Result("completed", ms, d.attempt))
        return (d.entry_id, event_id, etype, "completed", ms, d.attempt)

    def _failed(self, d: Delivery, msg: Message, event_id: str, step: Step, exc: Exception,
                ms: int) -> Result:
        """Retry the entry or dead-letter it: `Permanent` at once, anything else when this
        was the handler's last attempt; `Retry` chooses its own delay."""
        self.stats.failed_attempts += 1
        error = str(exc) or type(exc).__name__  # the message, as the platform writes it
        log.warning("%s %s attempt %d failed: %s", msg.type, event_id, d.attempt, error)
        if isinstance(exc, Permanent) or d.attempt >= step.max_attempts:
            status = self._dead_letter(d, msg, event_id, error, _stack(exc), ms)
            return Result(status, ms, d.attempt, error)
        delay = exc.delay if isinstance(exc, Retry) else None
        if delay is None:
            delay = self.config.retry.delay_after(d.attempt)
        self.settler.schedule_retry(d.entry_id, self.bus.clock() + int(delay * 1000))
        self.stats.retries_scheduled += 1
        return Result("retrying", ms, d.attempt, error, delay)

    def _dead_letter(self, d: Delivery, msg: Message, event_id: str, error: str, stack: str,
                     ms: int, attempts: int | None = None) -> str:
        """Move the entry to the DLQ; returns the status: dead_lettered or settled_elsewhere."""
        raw = d.fields.get("event")
        if raw is None:  # no `event` field: keep what there was, as JSON
            raw = json.dumps(d.fields, separators=(",", ":"), ensure_ascii=False)
        dlq_id = self.settler.dead_letter(DeadLetter(
            d, raw, error, stack, iso_ms(self.bus.clock()) or "",
            d.attempt if attempts is None else attempts, event_id, msg.type, ms))
        if dlq_id is None:
            self.stats.settled_elsewhere += 1
            return "settled_elsewhere"
        self.stats.dead_lettered += 1
        log.warning("%s %s dead-lettered as %s: %s", msg.type, event_id, dlq_id, error)
        if self._hooks.dead:
            self._hooks.on_dead_letter(msg, error)
        return "dead_lettered"


_new = tuple.__new__  # a NamedTuple without its Python-level __new__: once per event


def _read_event(d: Delivery) -> tuple[dict | None, str, str | None]:
    """(event, type, problem). The common case, an `event` field holding a JSON object
    with a type, is read here; anything else goes through the tolerant `parse_entry`."""
    raw = d.fields.get("event")
    if raw is not None:
        try:
            event = orjson.loads(raw)
        except orjson.JSONDecodeError:
            event = None
        if type(event) is dict:
            etype = event.get("type")
            if type(etype) is str and etype:
                return event, etype, None
    p = parse_entry(d.entry_id, d.fields)
    return p.event, p.type, p.problem


def _stack(exc: BaseException) -> str:
    """The traceback from the handler's frame down (the worker's own frames left out)."""
    tb = exc.__traceback__
    while tb is not None and tb.tb_frame.f_code.co_filename.startswith(_PKG_DIR):
        tb = tb.tb_next
    return "".join(traceback.format_exception(type(exc), exc, tb)).rstrip() or NO_STACK

