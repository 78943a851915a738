"""The worker's settling on a Redis Cluster with the platform's default names (the main
stream, the DLQ and the metadata stream in three slots): acknowledged once, recorded once,
dead-lettered once, whatever step a crash or a second consumer interrupts."""
from __future__ import annotations

from collections import Counter

import pytest

from bot.bus import Bus
from bot.eventbus import slots
from bot.eventbus.settle import DeadLetter, Delivery, Settler
from bot.settings import Settings
from tests.eventbus.helpers import GROUP, pending, publish


@pytest.fixture
def spread(cluster_r) -> Bus:
    bus = Bus(cluster_r, Settings(_env_file=None))
    k = bus.keys
    assert len({cluster_r.keyslot(x) for x in (k.events, k.dlq, k.metadata)}) == 3
    bus.r.xgroup_create(k.events, GROUP, id="0", mkstream=True)
    return bus


def _read(bus: Bus, consumer: str, n: int = 10) -> list[Delivery]:
    [(_, rows)] = bus.r.xreadgroup(GROUP, consumer, {bus.keys.events: ">"}, count=n)
    return [Delivery(i, f, 1) for i, f in rows]


def _letter(d: Delivery) -> DeadLetter:
    return DeadLetter(d, d.fields["event"], "boom", "Error: boom", "2025-12-05T10:31:00.000Z", 3,
                      "evt", "approval.item.created", 12)


def test_acknowledged_and_recorded_once(spread):
    publish(spread, n=5)
    a = Settler(spread, GROUP, "c1", 1000)
    assert slots.ack_split(a) and slots.dead_letter_split(a)
    got = _read(spread, "c1")
    rows = [(d.entry_id, f"e{i}", "approval.item.created", "completed" if i % 2 else "unhandled", 3, 1)
            for i, d in enumerate(got)]
    assert slots.ack(a, rows) == 5
    assert slots.ack(a, rows) == 0  # settled already: no second record
    meta = [f["entryId"] for _, f in spread.r.xrange(spread.keys.metadata)]
    assert sorted(meta) == sorted(r[0] for r in rows if r[3] == "completed")
    assert spread.r.hget(spread.keys.worker_counts(GROUP), "unhandled") == "3"
    assert pending(spread) == 0


def test_dead_lettered_once_across_a_crash_and_a_second_consumer(spread):
    publish(spread, n=1)
    [d] = _read(spread, "c1")
    a = Settler(spread, GROUP, "c1", 1000)
    k = spread.keys
    # c1 writes the DLQ entry, then dies before acknowledging
    spread.scripts.get("eventbus_dead_letter_append")(
        keys=[k.dlq, k.dead_lettered(GROUP, d.entry_id)],
        args=[d.fields["event"], "boom", "", "t", 3, d.entry_id, GROUP, slots.MARKER_TTL_S])
    assert pending(spread) == 1
    # c2 claims the idle entry and dead-letters it in turn: the marker stops a second copy
    spread.r.xclaim(k.events, GROUP, "c2", 0, [d.entry_id])
    assert slots.dead_letter(a, _letter(d)) is None  # c1 does not own it any more
    b = Settler(spread, GROUP, "c2", 1000)
    first = slots.dead_letter(b, _letter(d))
    assert first is not None and slots.dead_letter(b, _letter(d)) is None  # settled now
    dlq = spread.r.xrange(k.dlq)
    assert [i for i, _ in dlq] == [first] and Counter(f["sourceId"] for _, f in dlq) == {d.entry_id: 1}
    assert pending(spread) == 0
    failed = [f for _, f in spread.r.xrange(k.metadata) if f["status"] == "failed"]
    assert len(failed) == 1 and failed[0]["consumer"] == "c2"


def test_hash_tagged_names_keep_the_one_script_path(cluster_r):
    tagged = Bus(cluster_r, Settings(_env_file=None, bus_events_stream="{hyvve}:events",
                                     bus_dlq_stream="{hyvve}:dlq", bus_metadata_stream="{hyvve}:events:metadata",
                                     bus_prefix="{hyvve}"))
    s = Settler(tagged, GROUP, "c1", 1000)
    assert not slots.ack_split(s) and not slots.dead_letter_split(s)
