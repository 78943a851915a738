"""Redis Cluster against a single Redis, side by side in one run: a 3-primary cluster and a
redis-server it starts on free ports, the platform's default names (on the cluster the DLQ,
the main stream and the metadata stream are in three slots, so a reprocess moves each batch
in two scripts), and hash-tagged names (one slot, one script) for comparison.

    python -m bench.bench_cluster                     # the full run (a few minutes)
    python -m bench.bench_cluster --dlq 20000 --top 40000 --health 30   # a quick run

Measures: an unthrottled reprocess of N DLQ entries (events/s; the cluster's rate as a
share of the single Redis's), the median time of `health`, and a full `dlq top` read of M
entries (cache dropped each round).
"""
from __future__ import annotations

import argparse
import statistics
import time

from bench.bench_guarded import T0, fill_dlq, run
from bot.actions.selection import select
from bot.bus import Bus
from bot.connection import connect
from bot.services.dlq_top import dlq_top
from bot.services.health import get_health
from bot.settings import Settings
from tests.redis_server import RedisCluster, RedisServer

TAGGED = {"bus_events_stream": "{hyvve}:events", "bus_dlq_stream": "{hyvve}:dlq",
          "bus_metadata_stream": "{hyvve}:events:metadata"}


def flush(bus: Bus) -> None:
    if bus.cluster:
        bus.r.flushdb(target_nodes="primaries")  # type: ignore[call-arg]
    else:
        bus.r.flushdb()


def reprocess(bus: Bus, n: int) -> float:
    k = bus.keys
    fill_dlq(bus.r, k.dlq, n)
    sel = select(bus, "reprocess", k.dlq, {})
    job, secs = run(bus, "reprocess", k.dlq, k.events, {}, upper=sel.upper, to_move=sel.matched)
    assert job.moved == n and bus.r.xlen(k.dlq) == 0 and bus.r.xlen(k.events) == n, job
    flush(bus)
    return n / secs


def health_median(bus: Bus, rounds: int) -> float:
    """`health` over 100,000 events, two groups (one behind), 1,000 DLQ entries and 2,000
    metadata records in the last hour."""
    k = bus.keys
    fill_dlq(bus.r, k.dlq, 1000)
    for lo in range(0, 100_000, 5000):
        p = bus.r.pipeline(transaction=False)
        for i in range(lo, lo + 5000):
            p.xadd(k.events, {"event": "{}"}, id=f"{T0 + i}-0")
        p.execute()
    p = bus.r.pipeline(transaction=False)
    for i in range(2000):
        p.xadd(k.metadata, {"eventId": f"e{i}", "type": "t", "status": "failed" if i % 50 == 0 else "completed",
                            "durationMs": str(i % 900), "group": k.group, "consumer": "c"}, id=f"{T0 + 50 * i}-0")
    p.execute()
    bus.r.xgroup_create(k.events, k.group, id="$")
    bus.r.xgroup_create(k.events, "lagging", id="0")
    bus.r.xreadgroup("lagging", "c", {k.events: ">"}, count=10)
    bus.clock = lambda: T0 + 100_000 + 60_000
    times = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        h = get_health(bus)
        times.append((time.perf_counter() - t0) * 1000)
        assert h.stream_exists and h.dlq_length == 1000 and len(h.groups) == 2
    flush(bus)
    return statistics.median(times)


def top_median(bus: Bus, m: int, rounds: int = 3) -> float:
    k = bus.keys
    fill_dlq(bus.r, k.dlq, m)
    times = []
    for _ in range(rounds):
        bus.r.delete(k.dlq_top_cache(k.dlq))
        t0 = time.perf_counter()
        top = dlq_top(bus)
        times.append((time.perf_counter() - t0) * 1000)
        assert top.total == m and top.source == "scan"
    flush(bus)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--dlq", type=int, default=100_000)
    ap.add_argument("--top", type=int, default=200_000)
    ap.add_argument("--health", type=int, default=100, help="health calls measured")
    args = ap.parse_args()
    server, cluster = RedisServer().start(), RedisCluster().start()
    try:
        single = Bus(connect(server.url), Settings(_env_file=None))
        spread = Bus(connect(cluster.url), Settings(_env_file=None))
        tagged = Bus(connect(cluster.url), Settings(_env_file=None, **TAGGED))
        assert spread.cluster and tagged.cluster and not single.cluster
        rate = {name: reprocess(bus, args.dlq) for name, bus in
                (("single", single), ("cluster", spread), ("tagged", tagged))}
        health = {name: health_median(bus, args.health) for name, bus in (("single", single), ("cluster", spread))}
        top = {name: top_median(bus, args.top) for name, bus in (("single", single), ("cluster", spread))}
        rows = [
            (f"reprocess job, {args.dlq:,} entries, unthrottled", f"{rate['single']:,.0f} events/s",
             f"{rate['cluster']:,.0f} events/s (two scripts a batch)",
             f"**{rate['cluster'] / rate['single']:.0%}** of single (hash-tagged names, one script: "
             f"{rate['tagged']:,.0f} events/s, {rate['tagged'] / rate['single']:.0%})"),
            (f"health, median of {args.health}", f"{health['single']:.1f} ms", f"{health['cluster']:.1f} ms",
             f"**{health['cluster'] / health['single']:.2f}x** single"),
            (f"dlq top, full read of {args.top:,} entries, median of 3", f"{top['single']:,.0f} ms",
             f"{top['cluster']:,.0f} ms", f"**{top['cluster'] / top['single']:.2f}x** single"),
        ]
        print("| measure | single Redis | 3-primary cluster, default names | cluster vs single |")
        print("|---|---|---|---|")
        for row in rows:
            print("| " + " | ".join(row) + " |")
    finally:
        server.stop()
        cluster.stop()


if __name__ == "__main__":
    main()
