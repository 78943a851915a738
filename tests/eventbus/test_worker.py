"""The consumer worker in process, on fakeredis and a real redis-server (fixture `bus`)."""
from __future__ import annotations

import json
import time

import pytest

from bot.eventbus.handlers import Handlers
from tests.conftest import FakeClock
from tests.eventbus.helpers import GROUP, make_worker, pausing_handlers, pending, publish, raw_entries


@pytest.fixture
def clock(bus) -> FakeClock:
    bus.clock = FakeClock()
    return bus.clock


def age_pending(bus, ms: int) -> None:
    """Make every pending entry of the group `ms` idler, as if that much time had passed
    (XCLAIM to its own consumer with IDLE, JUSTID: no delivery is counted)."""
    k = bus.keys
    for row in bus.r.xpending_range(k.events, GROUP, "-", "+", 1000):
        bus.r.xclaim(k.events, GROUP, row["consumer"], 0, [row["message_id"]],
                     idle=row["time_since_delivered"] + ms, justid=True)


def failing(calls: list, error: Exception | None = None):
    error = error or RuntimeError("crm-sync answered 503")

    def handler(msg):
        calls.append((msg.attempt, msg.event["id"]))
        raise error
    return handler


def test_success_acks_and_records_metadata(bus):
    [entry] = publish(bus, "crm.contact.created")
    seen = []
    h = Handlers()
    h.register("crm.*", lambda m: seen.append(m.event["type"]))
    assert make_worker(bus, h).poll() == 1
    assert seen == ["crm.contact.created"] and pending(bus) == 0
    [(_, meta)] = bus.r.xrange(bus.keys.metadata)
    event_id = json.loads(bus.r.xrange(bus.keys.events)[0][1]["event"])["id"]
    assert list(meta)[:6] == ["eventId", "type", "status", "durationMs", "group", "consumer"]
    assert meta["eventId"] == event_id and meta["status"] == "completed"
    assert (meta["group"], meta["consumer"], meta["entryId"]) == (GROUP, "c1", entry)


def test_retries_at_the_set_delays_then_dead_letters(bus, clock):
    calls = []
    h = Handlers()
    h.register("approval.item.created", failing(calls))
    w = make_worker(bus, h)
    [entry] = publish(bus)
    w.poll()
    assert [a for a, _ in calls] == [1]
    clock.advance(59.9)
    w.poll()
    assert len(calls) == 1, "retried before its 60 s delay"
    clock.advance(0.1)
    w.poll()
    assert [a for a, _ in calls] == [1, 2]
    clock.advance(299.9)
    w.poll()
    assert len(calls) == 2, "retried before its 300 s delay"
    clock.advance(0.1)
    w.poll()
    assert [a for a, _ in calls] == [1, 2, 3]
    assert pending(bus) == 0
    [dlq] = raw_entries(bus, bus.keys.dlq)
    fields = dlq[1]
    assert fields[0] == "event" and fields[1] == bus.r.xrange(bus.keys.events)[0][1]["event"]
    assert fields[2:10] == ["error", "crm-sync answered 503", "errorStack", fields[5],
                            "movedAt", "2025-11-24T16:06:00.000Z", "attempts", "3"]
    assert "RuntimeError: crm-sync answered 503" in fields[5]
    assert dict(zip(fields[::2], fields[1::2]))["sourceId"] == entry
    statuses = [m["status"] for _, m in bus.r.xrange(bus.keys.metadata)]
    assert statuses == ["failed"]
    clock.advance(3600)
    w.poll()
    assert len(calls) == 3 and bus.r.xlen(bus.keys.dlq) == 1


def test_a_later_attempt_that_succeeds_is_acked(bus, clock):
    attempts = []

    def flaky(msg):
        attempts.append(msg.attempt)
        if msg.attempt == 1:
            raise TimeoutError("timeout after 5012ms for ap_1")
    h = Handlers()
    h.register("*", flaky)
    w = make_worker(bus, h, delays=(1,))
    publish(bus)
    w.poll()
    clock.advance(1)
    w.poll()
    assert attempts == [1, 2] and pending(bus) == 0 and bus.r.xlen(bus.keys.dlq) == 0
    [(_, meta)] = bus.r.xrange(bus.keys.metadata)
    assert (meta["status"], meta["attempts"]) == ("completed", "2")


def test_malformed_entries_go_to_the_dlq_and_the_worker_goes_on(bus):
    r, k = bus.r, bus.keys
    r.xadd(k.events, {"payload": "{}", "service": "billing"})
    r.xadd(k.events, {"event": "{not json"})
    publish(bus)
    done = []
    h = Handlers()
    h.register("*", lambda m: done.append(m.type))
    w = make_worker(bus, h)
    assert w.poll() == 3
    assert done == ["approval.item.created"] and pending(bus) == 0
    dlq = raw_entries(bus, k.dlq)
    assert [e[1][:2] for e in dlq] == [["event", '{"payload":"{}","service":"billing"}'],
                                       ["event", "{not json"]]
    errors = [e[1][3] for e in dlq]
    assert errors == ["malformed entry: entry has no `event` field",
                      "malformed entry: `event` is not valid JSON"]
    assert w.stats.malformed == 2


def test_unhandled_types_are_acked_and_counted(bus):
    publish(bus, "auth.session.expired", n=2)
    h = Handlers()
    h.register("crm.*", lambda m: None)
    w = make_worker(bus, h)
    w.poll()
    assert pending(bus) == 0 and w.stats.unhandled == 2
    counts = bus.r.hgetall(bus.keys.worker_counts(GROUP))
    assert counts == {"unhandled": "2", "unhandled:auth.session.expired": "2"}
    assert bus.r.xlen(bus.keys.metadata) == 0


def test_a_handler_past_its_time_limit_is_a_failed_attempt(bus, clock):
    h = Handlers()
    h.register("*", lambda m: time.sleep(10))
    w = make_worker(bus, h, attempts=1, timeout=0.05, claim_idle=60)
    publish(bus)
    w.poll()
    [dlq] = raw_entries(bus, bus.keys.dlq)
    assert dlq[1][3] == "handler exceeded its time limit of 0.05s"
    assert w.stats.failed_attempts == 1 and pending(bus) == 0


class Crash(BaseException):
    """Stands in for the process dying in the middle of a handler."""


def test_a_poison_event_that_kills_its_worker_ends_in_the_dlq(bus):
    runs = []

    def poison(msg):
        runs.append(msg.attempt)
        raise Crash()
    h = Handlers()
    h.register("*", poison)
    publish(bus)
    for _attempt in (1, 2, 3):
        with pytest.raises(Crash):  # each crash leaves the entry pending, then a
            make_worker(bus, h, claim_idle=60, timeout=1).poll()  # restart claims it
        age_pending(bus, 61_000)  # the restart comes after the claim idle time
    make_worker(bus, h, claim_idle=60, timeout=1).poll()
    assert runs == [1, 2, 3], "the handler ran again after the last allowed attempt"
    [dlq] = raw_entries(bus, bus.keys.dlq)
    fields = dict(zip(dlq[1][::2], dlq[1][1::2]))
    assert fields["error"].startswith("delivered 4 times without a result")
    assert fields["attempts"] == "3" and pending(bus) == 0


def test_entries_of_a_dead_consumer_are_claimed_and_handled(bus):
    publish(bus, n=3)
    dead = make_worker(bus, Handlers(), consumer="dead-host")
    dead._read(0)  # read, never handled: the process died
    done = []
    h = Handlers()
    h.register("*", lambda m: done.append(m.attempt))
    live = make_worker(bus, h, consumer="live-host", claim_idle=60, timeout=1)
    age_pending(bus, 59_000)
    live.poll()
    assert done == [] and pending(bus) == 3, "claimed before the idle threshold"
    age_pending(bus, 2_000)  # now 61 s idle
    assert live.poll() == 3
    assert done == [2, 2, 2] and pending(bus) == 0


def test_pause_stops_reading_after_the_batch_in_hand_and_resume_restarts(bus):
    r, k = bus.r, bus.keys
    publish(bus, n=3)
    done: list[int] = []
    h = pausing_handlers(bus, done)
    w = make_worker(bus, h, batch=3)
    sub = r.pubsub(ignore_subscribe_messages=True)
    sub.subscribe(k.control_channel)
    w.poll()
    assert done == [0, 1, 2], "the batch in hand was not finished"
    publish(bus, n=2)
    assert w.poll() == 0 and w.poll() == 0
    assert done == [0, 1, 2] and pending(bus) == 0
    r.delete(k.paused(GROUP))
    w.poll()
    assert done == [0, 1, 2, 0, 1]  # it paused again on the first, after the batch
    assert w.poll() == 0
    states, deadline = [], time.monotonic() + 2
    while len(states) < 3 and time.monotonic() < deadline:
        m = sub.get_message(timeout=0.1)
        if m:
            states.append(json.loads(m["data"])["state"])
    assert states == ["paused", "running", "paused"]
    sub.close()


def test_dead_letter_is_done_once_and_only_by_the_owner(bus):
    from bot.eventbus.settle import DeadLetter

    [entry] = publish(bus)
    w = make_worker(bus, Handlers())
    [d] = w._read(0)
    letter = DeadLetter(d, "{}", "boom", "N/A", "2025-01-01T00:00:00.000Z", 3, "e1", "t", 1)
    other = make_worker(bus, Handlers(), consumer="c2")
    assert other.settler.dead_letter(letter) is None  # not the owner: nothing written
    assert bus.r.xlen(bus.keys.dlq) == 0 and pending(bus) == 1
    assert w.settler.dead_letter(letter) is not None
    assert w.settler.dead_letter(letter) is None  # re-run after a crash: a no-op
    assert bus.r.xlen(bus.keys.dlq) == 1 and pending(bus) == 0


def test_metadata_retention_is_bounded(bus):
    publish(bus, n=600)
    h = Handlers()
    h.register("*", lambda m: None)
    w = make_worker(bus, h, metadata_maxlen=50)
    while w.poll():
        pass
    assert w.stats.completed == 600 and pending(bus) == 0
    assert 50 <= bus.r.xlen(bus.keys.metadata) <= 250  # MAXLEN ~ trims whole nodes


@pytest.mark.parametrize("touching", [True, False])
def test_a_slow_batch_keeps_its_entries_from_being_claimed(bus, monkeypatch, touching):
    """Each handler "takes" 9 s of a fake monotonic clock, and the pending entries age by
    as much in Redis; with a 20 s claim idle the entries not yet handled would be idle 27 s
    when the fourth handler runs, unless the worker touched them. Without touching (the
    control case) the same claim steals them, so the test can tell."""
    import bot.eventbus.worker as worker_module

    now = [1000.0]
    monkeypatch.setattr(worker_module.time, "monotonic", lambda: now[0])
    publish(bus, n=4)
    other = make_worker(bus, Handlers(), consumer="c2", claim_idle=20, timeout=5)
    stolen = []

    def slow(msg):
        now[0] += 9.0
        age_pending(bus, 9_000)
        if msg.event["data"]["n"] == 3:
            stolen.extend(other.settler.claim(bus.clock(), 20_000, "0-0", 10)[1])
    h = Handlers()
    h.register("*", slow)
    w = make_worker(bus, h, claim_idle=20, timeout=5, batch=4)
    if not touching:
        monkeypatch.setattr(w.settler, "touch", lambda ids: None)
    assert w.poll() == 4
    if touching:
        assert stolen == [] and w.stats.completed == 4 and pending(bus) == 0
    else:
        assert [d.entry_id for d in stolen], "the control case should have lost its entries"


def test_bus_pause_and_resume_commands_stop_and_restart_the_worker(bus):
    from bot.actions.pause import pause, resume

    done = []
    h = Handlers()
    h.register("*", lambda m: done.append(m.entry_id))
    w = make_worker(bus, h)
    assert pause(bus, GROUP, by="U123", reason="deploying a handler fix")
    publish(bus, n=3)
    assert w.poll() == 0 and done == [] and pending(bus) == 0
    assert resume(bus, GROUP, by="U123")
    assert w.poll() == 3 and len(done) == 3


def test_a_pause_during_retries_stops_further_retries_and_reads(bus, clock):
    """Retries are claimed one by one; once a handler's run has paused the group, the worker
    claims and reads nothing more until resumed."""
    r, k = bus.r, bus.keys
    runs = []

    def fail_first_then_pause(msg):
        runs.append((msg.attempt, msg.event["data"]["n"]))
        if msg.attempt == 1:
            raise RuntimeError("crm-sync answered 503")
        r.set(k.paused(GROUP), json.dumps({"by": "U1", "at": "now", "reason": "deploy"}))
    h = Handlers()
    h.register("*", fail_first_then_pause)
    w = make_worker(bus, h, delays=(1,), batch=3)
    publish(bus, n=3)
    w.poll()
    assert [a for a, _ in runs] == [1, 1, 1]
    publish(bus, n=2)
    clock.advance(1)
    w.poll()
    assert [a for a, _ in runs] == [1, 1, 1, 2], "claimed more retries, or read new events, while paused"
