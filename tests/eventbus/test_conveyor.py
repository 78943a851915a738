"""The worker's batch loop: each batch is settled in flight while the next one is handled.
On fakeredis and a real redis-server (fixture `bus`); the broken-connection case on the
real server only."""
from __future__ import annotations

from collections import Counter

import pytest

from bot.bus import Bus
from bot.eventbus.handlers import Handlers
from bot.redis_errors import UNREACHABLE
from tests.eventbus.helpers import GROUP, make_worker, pausing_handlers, pending, publish


def overlapping_worker(bus, handlers, **kw):
    """A worker whose poll goes on reading while entries keep coming (no claim pass due
    for a minute), which is how a busy worker runs."""
    kw.setdefault("claim_every", 60)
    return make_worker(bus, handlers, **kw)


def metadata_per_entry(bus) -> Counter:
    return Counter(m["entryId"] for _, m in bus.r.xrange(bus.keys.metadata))


def test_one_poll_works_through_every_batch_settling_each_once(bus, monkeypatch):
    entries = publish(bus, n=250)
    seen = []
    h = Handlers()
    h.register("*", lambda m: seen.append(m.entry_id))
    w = overlapping_worker(bus, h, batch=100)
    sent = []
    original = w._conveyor.read_and_settle
    monkeypatch.setattr(w._conveyor, "read_and_settle",
                        lambda outcomes: sent.append(len(outcomes)) or original(outcomes))
    assert w.poll() == 250
    assert seen == entries and pending(bus) == 0
    assert sent == [100, 100, 50], "each batch's settle goes with the next read"
    assert metadata_per_entry(bus) == Counter(entries)
    assert (w.stats.read, w.stats.completed, w.stats.settled_elsewhere) == (250, 250, 0)
    assert not w._conveyor.busy


def test_a_flushed_script_cache_costs_no_acknowledgement(bus):
    """After a restart or SCRIPT FLUSH the settle sent in flight is refused (NOSCRIPT): the
    worker loads the script and settles the same batch."""
    entries = publish(bus, n=150)
    h = Handlers()
    h.register("*", lambda m: None)
    w = overlapping_worker(bus, h, batch=100)
    bus.r.script_flush()
    assert w.poll() == 150
    assert pending(bus) == 0 and metadata_per_entry(bus) == Counter(entries)


def test_a_pause_stops_the_loop_after_the_batch_in_hand(bus):
    k = bus.keys
    publish(bus, n=6)
    done: list[int] = []
    h = pausing_handlers(bus, done)
    w = overlapping_worker(bus, h, batch=2)
    assert w.poll() == 2
    assert done == [0, 1] and pending(bus) == 0 and bus.r.xlen(k.metadata) == 2


def test_stop_finishes_and_settles_the_batch_in_hand_and_reads_no_more(bus):
    publish(bus, n=6)
    done = []
    h = Handlers()
    w = overlapping_worker(bus, h, batch=2)

    def stop_on_third(msg):
        done.append(msg.event["data"]["n"])
        if len(done) == 3:
            w.stop()
    h.register("*", stop_on_third)
    assert w.poll() == 4
    assert done == [0, 1, 2, 3] and pending(bus) == 0 and bus.r.xlen(bus.keys.metadata) == 4


def test_a_group_deleted_under_the_loop_is_recreated(bus):
    publish(bus, n=4)
    h = Handlers()

    def delete_group(msg):
        if msg.event["data"]["n"] == 0:
            bus.r.xgroup_destroy(bus.keys.events, GROUP)
    h.register("*", delete_group)
    w = overlapping_worker(bus, h, batch=2)
    assert w.poll() == 2  # the next read finds no group: it is made again, reading resumes
    assert bus.r.xinfo_groups(bus.keys.events)[0]["name"] == GROUP


def test_a_connection_cut_with_a_settle_in_flight_loses_nothing(real_r, settings):
    """The worker's connection is killed while it handles batch 2 (batch 1's settle sent
    or run): the error reaches `run` as 'Redis unreachable' (it retries), and whatever was
    not settled is claimed later and handled again: at least once, one record each."""
    bus = Bus(real_r, settings)
    entries = publish(bus, n=4)
    runs = []
    h = Handlers()
    w = overlapping_worker(bus, h, batch=2, claim_idle=1, timeout=0.2)

    def cut_on_third(msg):
        runs.append(msg.entry_id)
        if len(runs) == 3:
            [me] = [c for c in bus.r.client_list() if c["name"] == w._conveyor.name]
            bus.r.execute_command("CLIENT", "KILL", "ID", me["id"])
    h.register("*", cut_on_third)
    with pytest.raises(UNREACHABLE):
        w.poll()
    assert runs == entries and not w._conveyor.busy
    for row in bus.r.xpending_range(bus.keys.events, GROUP, "-", "+", 10):
        bus.r.xclaim(bus.keys.events, GROUP, "c1", 0, [row["message_id"]], idle=5_000,
                     justid=True)
    again = Handlers()
    again.register("*", lambda m: runs.append(m.entry_id))
    make_worker(bus, again, consumer="c2", claim_idle=1, timeout=0.2, batch=10).poll()
    assert pending(bus) == 0
    assert set(runs) == set(entries) and runs[:4] == entries
    assert metadata_per_entry(bus) == Counter(entries), "an entry recorded twice or never"


def test_the_workers_connection_is_named_and_given_back(real_r, settings):
    bus = Bus(real_r, settings)
    publish(bus, n=1)
    h = Handlers()
    h.register("*", lambda m: None)
    w = overlapping_worker(bus, h)
    w.poll()
    names = [c["name"] for c in bus.r.client_list()]
    assert f"busbot-worker:{GROUP}:c1" in names
    w.close()
    assert w._conveyor._conn is None
    w.close()  # twice is fine

