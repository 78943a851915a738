"""Trends: one sparkline helper (bot/sparkline.py), failed/hr in the history samples, and the
change over the last hour in `/bus health` and `/bus dlq` (Slack and console)."""
from __future__ import annotations

import json

from bot.console.render_text import render_text
from bot.render import render_reply
from bot.services import history, trends
from bot.sparkline import buckets, sparkline, trend
from commands.router import run
from tests.blockcheck import assert_valid_message
from tests.conftest import FakeClock
from tests.runtime_helpers import manual_runtime

MIN = 60_000


def test_sparkline_scales_between_low_and_high_and_leaves_gaps():
    assert sparkline([0, 1, 2, 3, 4, 5, 6, 7]) == "▁▂▃▄▅▆▇█"
    assert sparkline([5, None, 5]) == "▁ ▁"
    assert sparkline([None, None]) == ""
    assert sparkline([269, 269, 270]) == "▁▁▁"  # a tiny change stays small
    assert buckets([(1, 3.0), (2, 9.0), (11, 4.0), (15, None)], 0, 20, 2) == [9.0, 4.0]


def test_trend_says_the_change_over_the_window():
    now = 100 * MIN
    points = [(now - 10 * MIN, 220.0), (now - 5 * MIN, 400.0), (now, 620.0)]
    t = trend(points, now, 60 * MIN, 12)
    assert t is not None and t.text("DLQ").startswith("DLQ 220 -> 620 in 10m ")
    assert t.bars[-1] == "█" and t.delta == 400
    steady = trend([(now - MIN, 5.0), (now, 5.0)], now, 60 * MIN)
    assert steady is not None and steady.text("DLQ").startswith("DLQ steady at 5 for 1m")
    assert trend([(now, 1.0)], now, 60 * MIN) is None  # one point is no trend
    assert trend([(now - 2 * 60 * MIN, 1.0), (now, 2.0)], now, 60 * MIN) is None  # outside the window


def test_history_samples_hold_failed_per_hour(bus):
    history.record(bus, 1_000_000, {"dlq_size": 3.0, "failed_per_hour": 12.0, "lag:g": 4.0})
    history.record(bus, 1_060_000, {"dlq_size": 5.0, "failed_per_hour": None})
    found = history.day(bus, 1_060_000)
    assert [s.failed for s in found] == [12.0, None]
    assert history.points(found, "failed") == [(1_000_000, 12.0), (1_060_000, None)]
    assert history.points(found, "lag:g") == [(1_000_000, 4.0), (1_060_000, None)]


def samples(bus, now, dlq_values, failed_values, step_ms=5 * MIN):
    for i, (d, f) in enumerate(zip(dlq_values, failed_values)):
        ts = now - (len(dlq_values) - 1 - i) * step_ms
        history.record(bus, ts, {"dlq_size": d, "failed_per_hour": f, "lag:hyvve-platform": 10.0 * i})


def test_health_and_dlq_show_the_last_hour(bus):
    clock = FakeClock()
    bus.clock = clock
    samples(bus, clock.ms, [220.0, 400.0, 620.0], [3.0, 8.0, 12.0])
    rt = manual_runtime(bus)
    health = run("health", rt)
    blob = json.dumps(render_reply(health), ensure_ascii=False)
    assert_valid_message(render_reply(health))
    assert "DLQ 220 -&gt; 620 in 10m" in blob and "failed/hr 3 -&gt; 12 in 10m" in blob
    assert "lag hyvve-platform 0 -&gt; 20 in 10m" in blob
    assert "DLQ 220 -> 620 in 10m" in render_text(health.template, {**health.context, "command": ""}).text
    dlq = run("dlq", rt)
    assert_valid_message(render_reply(dlq))
    assert "DLQ 220 -&gt; 620 in 10m" in json.dumps(render_reply(dlq), ensure_ascii=False)
    assert "DLQ 220 -> 620 in 10m" in render_text(dlq.template, {**dlq.context, "command": ""}).text


def test_no_samples_no_trend_lines(bus):
    assert trends.last_hour(bus, 10**12) == []
    bus.r.set(bus.keys.history, "not a stream")
    assert trends.last_hour(bus, 10**12) == []
    assert_valid_message(render_reply(run("health", manual_runtime(bus))))
