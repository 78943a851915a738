"""Metrics from Redis: DLQ size, lag (unknown is not zero), failed/hr, p99 (no data is not 0)."""
from __future__ import annotations

import pytest

from bot.alerts.checks import measure
from tests.alerts.helpers import fill_dlq
from tests.conftest import FakeClock

NOW = 1_764_000_000_000


@pytest.fixture
def clocked(bus):
    bus.clock = FakeClock(NOW)
    return bus


def metrics(bus) -> dict:
    return {m.rule: m for m in measure(bus)}


def test_empty_bus_has_no_p99_data_and_zero_dlq(clocked):
    m = metrics(clocked)
    assert m["dlq_size"].value == 0
    assert m["p99"].value is None and "no processing metadata" in m["p99"].note
    assert m["failed_per_hour"].value == 0
    assert not [k for k in m if k.startswith("lag:")]


def test_failed_per_hour_counts_each_failure_once(clocked):
    """A dead-lettered event is both a DLQ arrival and a failed metadata entry: the larger
    count, never the sum."""
    k = clocked.keys
    fill_dlq(clocked.r, k.dlq, 30)  # old
    fill_dlq(clocked.r, k.dlq, 7, start_ms=NOW - 3_000_000)  # 50 min ago
    clocked.r.xadd(k.metadata, {"eventId": "old", "status": "failed", "durationMs": "1"}, id=f"{NOW - 4_000_000}-0")
    for i, status in enumerate(["failed", "completed", "failed", "failed"]):
        clocked.r.xadd(k.metadata, {"eventId": f"e{i}", "type": "t", "status": status, "durationMs": "12"},
                       id=f"{NOW - 60_000 + i}-0")
    m = metrics(clocked)
    assert m["dlq_size"].value == 37
    assert m["failed_per_hour"].value == 7  # 7 DLQ arrivals, 3 failed in metadata
    for i in range(6):
        clocked.r.xadd(k.metadata, {"eventId": f"f{i}", "type": "t", "status": "failed", "durationMs": "9"},
                       id=f"{NOW - 30_000 + i}-0")
    assert metrics(clocked)["failed_per_hour"].value == 9  # metadata now counts more


def test_p99_from_recent_metadata_in_seconds(clocked):
    k = clocked.keys
    for i in range(100):
        clocked.r.xadd(k.metadata, {"eventId": f"e{i}", "status": "completed", "durationMs": str(10 * (i + 1))},
                       id=f"{NOW - 100_000 + i}-0")
    clocked.r.xadd(k.metadata, {"eventId": "x", "status": "completed", "durationMs": "oops"}, id=f"{NOW - 1}-0")
    assert metrics(clocked)["p99"].value == pytest.approx(0.99)


def test_lag_unknown_after_xdel_is_counted_never_zero(real_r, settings):
    """Redis 7 reports a NULL lag once an unread entry was deleted: busbot counts instead."""
    from bot.bus import Bus
    bus = Bus(real_r, settings, clock=FakeClock(NOW))
    k = bus.keys
    ids = [real_r.xadd(k.events, {"event": "{}"}) for _ in range(5)]
    real_r.xgroup_create(k.events, "g1", id="0")
    real_r.xdel(k.events, ids[2])  # a tombstone inside the unread range
    assert real_r.xinfo_groups(k.events)[0]["lag"] is None  # the case under test
    m = metrics(bus)["lag:g1"]
    assert m.value == 4 and "counted after last-delivered-id" in m.note


def test_lag_known_to_redis_is_taken_as_it_is(clocked):
    k, r = clocked.keys, clocked.r
    for _ in range(5):
        r.xadd(k.events, {"event": "{}"})
    r.xgroup_create(k.events, "g1", id="0")
    m = metrics(clocked)["lag:g1"]
    assert m.value == 5 and m.note == ""


def test_a_capped_unknown_lag_still_decides_the_level(real_r, settings):
    """NULL lag with a backlog past the critical threshold: the count goes far enough to say so."""
    from bot.bus import Bus
    bus = Bus(real_r, settings.model_copy(update={"bus_lag_crit": 1500}), clock=FakeClock(NOW))
    p = real_r.pipeline(transaction=False)
    for i in range(2000):
        p.xadd(bus.keys.events, {"event": "{}"}, id=f"{i + 1}-0")
    p.execute()
    real_r.xgroup_create(bus.keys.events, "g1", id="0")
    real_r.xdel(bus.keys.events, "1000-0")  # a tombstone in the unread range: Redis reports lag NULL
    m = metrics(bus)["lag:g1"]
    assert m.value == 1502 and m.value > bus.settings.bus_lag_crit and "unknown" in m.note


def test_a_key_of_the_wrong_type_leaves_the_other_rules_working(clocked):
    clocked.r.set(clocked.keys.metadata, "not a stream")
    fill_dlq(clocked.r, clocked.keys.dlq, 3)
    m = metrics(clocked)
    assert m["failed_per_hour"].value is None and "cannot read" in m["failed_per_hour"].note
    assert m["p99"].value is None and m["dlq_size"].value == 3


def test_p99_is_measured_even_when_the_hour_count_is_capped(clocked, monkeypatch):
    """The p99 window (last 15 min) is read on its own, not at the end of the capped hour."""
    import bot.services.processing as processing
    monkeypatch.setattr(processing, "SCAN_CAP", 300)
    monkeypatch.setattr(processing, "CHUNK", 100)
    p = clocked.r.pipeline(transaction=False)
    for i in range(300):
        p.xadd(clocked.keys.metadata, {"eventId": f"o{i}", "status": "failed", "durationMs": "5"},
               id=f"{NOW - 3_000_000 + i}-0")
    for i in range(50):
        p.xadd(clocked.keys.metadata, {"eventId": f"n{i}", "status": "completed", "durationMs": "40000"},
               id=f"{NOW - 60_000 + i}-0")
    p.execute()
    m = metrics(clocked)
    assert m["p99"].value == 40.0
    assert m["failed_per_hour"].value == 300 and "count capped" in m["failed_per_hour"].note
