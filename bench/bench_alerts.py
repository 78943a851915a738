"""Alert checks: one full check (`bot.alerts.engine.run_check`: every metric, the
state compare-and-set of every rule, trend samples) with 1,000 vs 1,000,000 main-stream
entries and 200,000 DLQ entries, then the extra cost of DLQ arrivals in the last hour.

    python -m bench.bench_alerts                          # 1,000,000 events, 200,000 DLQ entries
    python -m bench.bench_alerts --events 100000 --dlq 20000 --runs 20   # a quick run

The consumer group's lag is made unknown (an XDEL, as after a trim) so the bounded lag
probe runs too; 1,000 processing-metadata entries of the last 15 minutes feed the p99.
Starts its own redis-server on a free port (127.0.0.1), prints a Markdown table.
"""
from __future__ import annotations

import argparse

from bench.bench_read import T0, fill, median_ms
from bot.alerts.engine import run_check
from bot.bus import Bus
from bot.connection import connect
from bot.settings import Settings
from tests.redis_server import RedisServer

HOUR = 3_600_000


def prepare(r, s: Settings, events: int, dlq: int, now: int, null_lag: bool = True) -> None:
    r.flushdb()
    fill(r, s.bus_events_stream, 0, events, dlq=False)
    fill(r, s.bus_dlq_stream, 0, dlq, dlq=True)  # ids from T0: all older than the last hour
    if null_lag:  # a group created mid-stream, then an XDEL: Redis reports its lag as NULL
        r.xgroup_create(s.bus_events_stream, s.bus_group, id=f"{T0 + events // 2}-0")
        r.xdel(s.bus_events_stream, f"{T0 + events - 1}-0")
    else:  # a group created at 0: Redis knows its lag (every entry)
        r.xgroup_create(s.bus_events_stream, s.bus_group, id="0")
    p = r.pipeline(transaction=False)
    for i in range(1000):
        p.xadd(s.bus_metadata_stream, {"eventId": f"e{i}", "type": "t",
                                       "status": "failed" if i % 50 == 0 else "completed",
                                       "durationMs": str(20 + i % 400), "group": s.bus_group, "consumer": "c1"},
               id=f"{now - 600_000 + i}-0")
    p.execute()


def arrivals(r, s: Settings, n: int, now: int) -> None:
    """`n` DLQ entries moved in during the last hour (ids in that hour)."""
    p = r.pipeline(transaction=False)
    for i in range(n):
        p.xadd(s.bus_dlq_stream, {"event": "{}", "error": "boom"}, id=f"{now - HOUR + 1000 + i}-0")
    p.execute()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=int, default=1_000_000)
    ap.add_argument("--dlq", type=int, default=200_000)
    ap.add_argument("--runs", type=int, default=50)
    ap.add_argument("--arrivals", type=int, default=10_000)
    args = ap.parse_args()
    server = RedisServer().start()
    try:
        s = Settings(_env_file=None)
        r = connect(server.url)
        now = T0 + 10 * HOUR  # every bench entry is hours old
        bus = Bus(r, s, clock=lambda: now)
        rows = []
        medians = {}
        for null_lag in (False, True):
            lag = "lag NULL, counted in Redis" if null_lag else "lag known to Redis"
            for events in (1_000, args.events):
                prepare(r, s, events, args.dlq, now, null_lag)
                run_check(bus)  # scripts loaded, state exists
                medians[events] = median_ms(lambda: run_check(bus), args.runs)
                rows.append((f"one check, {events:,} main entries, {args.dlq:,} DLQ entries, {lag}",
                             f"{medians[events]:.2f} ms", f"{args.runs} runs"))
            ratio = medians[args.events] / medians[1_000]
            rows.append((f"ratio {args.events:,} / 1,000 entries, {lag}", f"{ratio:.2f}x", ""))
        arrivals(r, s, args.arrivals, now)
        with_arrivals = median_ms(lambda: run_check(bus), max(5, args.runs // 5))
        rows.append((f"one check, + {args.arrivals:,} DLQ arrivals in the last hour", f"{with_arrivals:.2f} ms",
                     "counted inside Redis (Lua), capped at 200,000 entries"))
        print("| measure | median | note |\n|---|---|---|")
        for row in rows:
            print("| " + " | ".join(row) + " |")
    finally:
        server.stop()


if __name__ == "__main__":
    main()
