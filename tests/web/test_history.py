"""The capped history the dashboard's charts read: one sample per alert check."""
from __future__ import annotations

from bot.alerts.engine import run_check
from bot.bus import Bus
from bot.services import history
from tests.conftest import FakeClock
from tests.factories import add_dlq, add_event

HOUR = 3_600_000


def test_each_alert_check_writes_one_sample_read_back_a_day(r, settings):
    clock = FakeClock()
    bus = Bus(r, settings, clock=clock)
    add_event(r, bus.keys.events, clock.ms - 5000)
    r.xgroup_create(bus.keys.events, bus.keys.group, id="0")
    add_dlq(r, bus.keys.dlq, clock.ms - 1000)
    run_check(bus)
    clock.advance(3600)
    add_dlq(r, bus.keys.dlq, clock.ms - 1000)
    add_dlq(r, bus.keys.dlq, clock.ms - 900)
    run_check(bus)
    samples = history.day(bus, clock.ms)
    assert [s.dlq for s in samples] == [1, 3]
    assert samples[-1].lags == {bus.keys.group: 1.0}
    per_hour = history.arrivals_per_hour(samples, clock.ms)
    assert per_hour[-1] == 2 and per_hour[:-1] == [None] * 23


def test_samples_older_than_a_day_are_not_read(bus):
    history.record(bus, 1_000_000_000_000, {"dlq_size": 5.0})
    history.record(bus, 1_000_000_000_000 + 25 * HOUR, {"dlq_size": 7.0, "lag:g": None})
    samples = history.day(bus, 1_000_000_000_000 + 25 * HOUR)
    assert [(s.dlq, s.lags) for s in samples] == [(7, {"g": None})]


def test_a_recreated_dlq_gives_no_negative_arrivals():
    samples = [history.Sample(ts=HOUR * 10 + 1, dlq=0, added=50, lags={}),
               history.Sample(ts=HOUR * 10 + 2, dlq=0, added=3, lags={}),
               history.Sample(ts=HOUR * 10 + 3, dlq=0, added=5, lags={})]
    assert history.arrivals_per_hour(samples, HOUR * 11, hours=1) == [2]


def test_a_clock_behind_the_newest_sample_still_records(bus):
    history.record(bus, 2_000_000_000_000, {"dlq_size": 1.0})
    history.record(bus, 1_999_999_999_000, {"dlq_size": 2.0})
    assert bus.r.xlen(bus.keys.history) == 2


def test_a_wrong_type_key_does_not_stop_the_check(bus):
    bus.r.set(bus.keys.history, "not a stream")
    history.record(bus, 2_000_000_000_000, {"dlq_size": 1.0})  # logged, not raised
    run_check(bus)
