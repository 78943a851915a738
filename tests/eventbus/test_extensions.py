"""What handlers and services can add to the worker: Retry and Permanent, a handler's own
time limit and attempts, and middleware hooks. On fakeredis and a real redis-server."""
from __future__ import annotations

import logging
import time

import pytest

from bot.eventbus import Permanent, Retry
from bot.eventbus.handlers import Handlers
from bot.eventbus.worker import Worker, WorkerConfig, ensure_group
from bot.settings import Settings
from tests.conftest import FakeClock
from tests.eventbus.helpers import GROUP, make_worker, pending, publish, raw_entries


@pytest.fixture
def clock(bus) -> FakeClock:
    bus.clock = FakeClock()
    return bus.clock


def dlq_fields(bus) -> list[dict[str, str]]:
    return [dict(zip(f[::2], f[1::2])) for _, f in raw_entries(bus, bus.keys.dlq)]


def statuses(bus) -> list[str]:
    return [m["status"] for _, m in bus.r.xrange(bus.keys.metadata)]


# Retry and Permanent

def test_retry_uses_the_handlers_delay_and_counts_the_attempt(bus, clock):
    attempts = []

    def busy(msg):
        attempts.append(msg.attempt)
        raise Retry(delay=5, reason="crm-sync rate limited us")
    h = Handlers()
    h.register("*", busy)
    w = make_worker(bus, h)  # the policy would wait 60 s, then 300 s
    publish(bus)
    w.poll()
    clock.advance(4.9)
    w.poll()
    assert attempts == [1], "retried before the 5 s the handler asked for"
    clock.advance(0.1)
    w.poll()
    assert attempts == [1, 2]
    clock.advance(5)
    w.poll()
    assert attempts == [1, 2, 3] and pending(bus) == 0
    [dlq] = dlq_fields(bus)
    assert (dlq["error"], dlq["attempts"]) == ("crm-sync rate limited us", "3")
    assert statuses(bus) == ["failed"]


def test_retry_without_a_delay_follows_the_policy(bus, clock):
    attempts = []

    def again(msg):
        attempts.append(msg.attempt)
        raise Retry()
    h = Handlers()
    h.register("*", again)
    w = make_worker(bus, h, delays=(7,))
    publish(bus)
    w.poll()
    clock.advance(6.9)
    w.poll()
    assert attempts == [1]
    clock.advance(0.1)
    w.poll()
    assert attempts == [1, 2]


def test_permanent_goes_to_the_dlq_at_once_with_its_reason(bus, clock):
    attempts = []

    def refuse(msg):
        attempts.append(msg.attempt)
        raise Permanent("tenant ws_1 was deleted")
    h = Handlers()
    h.register("*", refuse)
    w = make_worker(bus, h)
    [entry] = publish(bus)
    w.poll()
    assert attempts == [1] and pending(bus) == 0
    assert bus.r.zcard(bus.keys.retry_schedule(GROUP)) == 0
    [dlq] = dlq_fields(bus)
    assert (dlq["error"], dlq["attempts"], dlq["sourceId"]) == (
        "tenant ws_1 was deleted", "1", entry)
    assert "Permanent: tenant ws_1 was deleted" in dlq["errorStack"]
    clock.advance(3600)
    w.poll()
    assert attempts == [1] and w.stats.dead_lettered == 1 and w.stats.retries_scheduled == 0


def test_bad_arguments_are_refused_when_written():
    with pytest.raises(ValueError, match="Retry delay must be seconds >= 0"):
        Retry(delay=-1)
    h = Handlers()
    with pytest.raises(ValueError, match="timeout must be seconds > 0"):
        h.register("*", lambda m: None, timeout=0)
    with pytest.raises(ValueError, match="max_attempts must be a whole number >= 1"):
        h.register("*", lambda m: None, max_attempts=0)
    with pytest.raises(TypeError, match="has none of the middleware hooks"):
        h.middleware(object())


# A handler's own time limit and attempts

def test_a_handlers_own_time_limit_is_enforced_either_way(bus, clock):
    """The worker's limit is 5 s: a handler declaring 0.05 s is stopped at that, and one
    declaring 30 s may run past a worker limit of 0.01 s."""
    h = Handlers()

    @h.on("quick.*", timeout=0.05)
    def hangs(msg):
        time.sleep(10)

    @h.on("slow.*", timeout=30)
    def takes_its_time(msg):
        time.sleep(0.05)
    w = make_worker(bus, h, attempts=1, timeout=5, claim_idle=60)
    publish(bus, "quick.job")
    w.poll()
    [dlq] = dlq_fields(bus)
    assert dlq["error"] == "handler exceeded its time limit of 0.05s"
    lax = make_worker(bus, h, attempts=1, timeout=0.01, claim_idle=60, consumer="c2")
    publish(bus, "slow.job")
    lax.poll()
    assert lax.stats.completed == 1 and bus.r.xlen(bus.keys.dlq) == 1


def test_a_handlers_own_attempts_decide_when_it_is_given_up(bus, clock):
    h = Handlers()
    runs: dict[str, list[int]] = {"once": [], "stubborn": []}

    @h.on("once.*", max_attempts=1)
    def once(msg):
        runs["once"].append(msg.attempt)
        raise RuntimeError("no point retrying")

    @h.on("stubborn.*", max_attempts=5)
    def stubborn(msg):
        runs["stubborn"].append(msg.attempt)
        raise RuntimeError("503")
    w = make_worker(bus, h, delays=(1,), attempts=3)
    publish(bus, "once.x")
    publish(bus, "stubborn.x")
    w.poll()
    for _ in range(6):
        clock.advance(1)
        w.poll()
    assert runs == {"once": [1], "stubborn": [1, 2, 3, 4, 5]}
    assert [f["attempts"] for f in dlq_fields(bus)] == ["1", "5"]
    assert pending(bus) == 0


def test_with_several_handlers_the_one_that_failed_decides(bus, clock):
    h = Handlers()
    seen = []
    h.register("*", lambda m: seen.append(m.attempt), priority=10)  # the worker's 3

    @h.on("approval.*", max_attempts=1)
    def strict(msg):
        raise RuntimeError("approval service refused")
    w = make_worker(bus, h, delays=(1,))
    publish(bus)
    w.poll()
    assert seen == [1] and w.stats.dead_lettered == 1 and pending(bus) == 0


def test_defaults_come_from_the_settings(bus, clock):
    s = Settings(_env_file=None, bus_handler_timeout=0.05, bus_max_attempts=2,
                 bus_retry_delays="1", bus_claim_idle=60)
    ensure_group(bus, GROUP, "0")
    cfg = WorkerConfig.from_settings(s, GROUP, "c1", claim_every=0, block_ms=10,
                                     pause_recheck=0)
    runs = []
    h = Handlers()

    @h.on("*")
    def hangs(msg):
        runs.append(msg.attempt)
        time.sleep(10)
    w = Worker(bus, h, cfg)
    publish(bus)
    w.poll()
    clock.advance(1)
    w.poll()
    assert runs == [1, 2]
    [dlq] = dlq_fields(bus)
    assert (dlq["error"], dlq["attempts"]) == ("handler exceeded its time limit of 0.05s", "2")


def test_a_handler_limit_too_long_for_the_claim_idle_is_refused(bus):
    h = Handlers()
    h.register("*", lambda m: None, timeout=40)
    with pytest.raises(ValueError, match=r"claim idle \(60s\) must be at least twice the "
                                         r"longest handler time limit \(40s\)"):
        make_worker(bus, h, claim_idle=60, timeout=1)


# Middleware

class Recorder:
    def __init__(self, name: str, calls: list):
        self.name, self.calls = name, calls

    def before_process(self, msg):
        self.calls.append((self.name, "before", msg.type, msg.attempt))

    def after_process(self, msg, result):
        self.calls.append((self.name, "after", msg.type, result.status, result.error,
                           result.retry_in))

    def on_dead_letter(self, msg, error):
        self.calls.append((self.name, "dead", msg.type, error))


def test_middleware_sees_every_outcome_in_order(bus, clock):
    r, k = bus.r, bus.keys
    calls: list = []
    h = Handlers()
    h.register("ok.*", lambda m: None)

    @h.on("flaky.*")
    def flaky(msg):
        if msg.attempt == 1:
            raise Retry(delay=2, reason="not yet")

    @h.on("bad.*", max_attempts=1)
    def bad(msg):
        raise RuntimeError("boom")
    h.middleware(Recorder("registry", calls))
    w = make_worker(bus, h)
    w.middleware(Recorder("worker", calls))
    publish(bus, "ok.x")
    publish(bus, "flaky.x")
    publish(bus, "bad.x")
    publish(bus, "nobody.x")
    r.xadd(k.events, {"event": "{not json"})
    w.poll()
    clock.advance(2)
    w.poll()
    per_mw = [c[1:] for c in calls if c[0] == "registry"]
    assert per_mw == [
        ("before", "ok.x", 1), ("after", "ok.x", "completed", None, None),
        ("before", "flaky.x", 1), ("after", "flaky.x", "retrying", "not yet", 2),
        ("before", "bad.x", 1), ("dead", "bad.x", "boom"),
        ("after", "bad.x", "dead_lettered", "boom", None),
        ("before", "nobody.x", 1), ("after", "nobody.x", "unhandled", None, None),
        ("dead", "<malformed>", "malformed entry: `event` is not valid JSON"),
        ("before", "flaky.x", 2), ("after", "flaky.x", "completed", None, None),
    ]
    assert [c[1:] for c in calls if c[0] == "worker"] == per_mw
    assert [c[0] for c in calls[:2]] == ["registry", "worker"]  # registry's first
    assert pending(bus) == 0


class Broken:
    def before_process(self, msg):
        raise RuntimeError("tracing backend down")

    def after_process(self, msg, result):
        raise RuntimeError("metrics backend down")

    def on_dead_letter(self, msg, error):
        raise KeyError("alerting")


def test_a_middleware_that_raises_is_logged_and_changes_nothing(bus, clock, caplog):
    runs = []
    h = Handlers()

    @h.on("ok.*")
    def ok(msg):
        runs.append(msg.entry_id)

    @h.on("bad.*", max_attempts=1)
    def bad(msg):
        runs.append(msg.entry_id)
        raise RuntimeError("boom")
    h.middleware(Broken())
    w = make_worker(bus, h, batch=10)
    good = publish(bus, "ok.x", n=5)
    failing = publish(bus, "bad.x", n=2)
    bus.r.xadd(bus.keys.events, {"payload": "{}"})
    with caplog.at_level(logging.ERROR, logger="bot.eventbus.middleware"):
        assert w.poll() == 8
    assert runs == good + failing, "an event ran twice, or not at all"
    assert pending(bus) == 0 and bus.r.xlen(bus.keys.dlq) == 3
    assert sorted(statuses(bus)) == ["completed"] * 5 + ["failed"] * 3
    clock.advance(3600)
    assert w.poll() == 0 and runs == good + failing
    failures = [rec for rec in caplog.records if "middleware" in rec.getMessage()]
    assert len(failures) == 5 + 5 + 2 + 2 + 3  # before, after, before, dead+after, dead
    assert {str(rec.exc_info[1]) for rec in failures} == {
        "tracing backend down", "metrics backend down", "'alerting'"}
