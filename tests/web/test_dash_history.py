"""The Overview's day of history, held in the serving process: a view reads only what was
added since the one before, and the buckets and arrivals it serves are the ones a full read of
the day gives (after top-ups, after the day moved on, after the stream was trimmed or
recreated)."""
from __future__ import annotations

import pytest

from bot.bus import Bus
from bot.services import history
from bot.services.history import DAY_MS, HOUR_MS
from bot.web import dash_history
from bot.web.dash_history import BUCKET_MS, Bucket, DaySummary

T0 = 1_764_000_000_000
STEP = 97_000  # a sample every 97 s: buckets of one, two and three samples


def record(bus: Bus, i: int, ts: int | None = None) -> int:
    """Sample number i (after i % 3 DLQ arrivals; the DLQ is recreated now and then): its time."""
    ts = T0 + i * STEP if ts is None else ts
    if i % 150 == 149:
        bus.r.delete(bus.keys.dlq)
    for _ in range(i % 3):
        bus.r.xadd(bus.keys.dlq, {"event": "{}"})
    lags = {"hyvve-platform": float(i % 50)} if i % 11 else {"hyvve-platform": None, "analytics": float(i)}
    history.record(bus, ts, {"dlq_size": None if i % 13 == 0 else float(i % 400), **{f"lag:{g}": v
                                                                                     for g, v in lags.items()}})
    return ts


def full_read(bus: Bus, now: int) -> DaySummary:
    """What a fresh read of the whole day gives, bucketed by hand; arrivals are the counter's
    rise between consecutive samples, in the clock hour (h, h+1] of the later one."""
    samples = history.day(bus, now)
    buckets: dict[int, Bucket] = {}
    for s in samples:
        buckets.setdefault(s.ts // BUCKET_MS * BUCKET_MS, Bucket()).add(s)
    last = (now - 1) // HOUR_MS
    hours: dict[int, int | None] = {h: None for h in range(last - 23, last + 1)}
    for prev, s in zip(samples, samples[1:]):
        h = (s.ts - 1) // HOUR_MS
        if h in hours and prev.added is not None and s.added is not None and s.added >= prev.added:
            hours[h] = (hours[h] or 0) + s.added - prev.added
    return DaySummary(sorted(buckets.items()), [(h * HOUR_MS, v) for h, v in sorted(hours.items())],
                      sorted(history.groups(samples)))


def assert_same(bus: Bus, got: DaySummary, now: int) -> None:
    want = full_read(bus, now)
    assert got.buckets == want.buckets
    assert got.groups == want.groups
    assert got.hours == want.hours
    assert any(v for _, v in got.hours)  # arrivals are counted, not only None


def count_parses(monkeypatch) -> list[int]:
    calls = [0]
    parse = dash_history.parse_sample

    def counted(fields):
        calls[0] += 1
        return parse(fields)
    monkeypatch.setattr(dash_history, "parse_sample", counted)
    return calls


def test_a_second_view_reads_only_the_samples_added_since_the_first(bus, monkeypatch):
    for i in range(300):
        now = record(bus, i)
    parses = count_parses(monkeypatch)
    first = dash_history.day_summary(bus, now)
    assert parses[0] == 300
    for i in range(300, 303):
        now = record(bus, i)
    assert_same(bus, dash_history.day_summary(bus, now), now)
    assert parses[0] == 303  # three more, not the day again
    dash_history.day_summary(bus, now)
    assert parses[0] == 303
    assert first.buckets and any(v for _, v in first.hours)


def test_the_day_moves_on_and_old_samples_leave_their_buckets(bus):
    for i in range(1200):  # more than a day of samples
        now = record(bus, i)
        if i % 97 == 0:
            dash_history.day_summary(bus, now)
    assert_same(bus, dash_history.day_summary(bus, now), now)
    later = now + 7 * HOUR_MS + 12_345  # no new sample, the day's start moved past some
    got = dash_history.day_summary(bus, later)
    assert_same(bus, got, later)
    assert got.buckets[0][0] + BUCKET_MS > later - DAY_MS


def test_after_a_gap_the_first_sample_of_the_day_counts_no_arrivals(bus):
    """Its sample before is older than the day: the pair no longer tells anything."""
    for i in range(10):
        record(bus, i)
    for j in range(10, 20):
        now = record(bus, j, T0 + 3 * HOUR_MS + j * STEP)
    dash_history.day_summary(bus, now)
    later = T0 + DAY_MS + HOUR_MS  # the day starts in the gap
    got = dash_history.day_summary(bus, later)
    assert_same(bus, got, later)


@pytest.mark.parametrize("change", ["trimmed", "recreated"])
def test_a_trimmed_or_recreated_stream_is_read_again(bus, change):
    for i in range(200):
        now = record(bus, i)
    before = dash_history.day_summary(bus, now)
    if change == "trimmed":
        bus.r.xtrim(bus.keys.history, maxlen=50)
    else:
        bus.r.delete(bus.keys.history)
    for i in range(200, 210):
        now = record(bus, i)
    got = dash_history.day_summary(bus, now)
    assert_same(bus, got, now)
    assert got.buckets[0][0] > before.buckets[0][0]  # what went is gone from the charts too


def test_entries_that_are_not_samples_are_skipped(bus):
    for i in range(20):
        now = record(bus, i)
    bus.r.xadd(bus.keys.history, {"someone": "else"}, id=f"{now + 1}-0")
    now = record(bus, 20) + 5
    assert_same(bus, dash_history.day_summary(bus, now), now)
    now = record(bus, 21)
    assert_same(bus, dash_history.day_summary(bus, now), now)
