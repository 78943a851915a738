"""Read-side benchmark: `health` at 1,000 vs 1,000,000 entries, `dlq top` over
200,000 DLQ entries against the baseline a user has today (one XRANGE of the whole DLQ
with json.loads per entry), and a repeat `dlq top` served from the cache.

    python -m bench.bench_read                       # 1,000,000 events, 200,000 DLQ entries
    python -m bench.bench_read --events 100000 --dlq 20000   # a quick run

Starts its own redis-server on a free port (127.0.0.1), prints a Markdown table.
"""
from __future__ import annotations

import argparse
import gc
import json
import statistics
import time
import tracemalloc

from bot.bus import Bus
from bot.connection import connect
from bot.services.dlq_top import dlq_top
from bot.services.health import get_health
from bot.settings import Settings
from tests.redis_server import RedisServer

TYPES = ["approval.item.created", "approval.item.approved", "crm.contact.created",
         "agent.run.completed", "workspace.member.added", "auth.user.created"]
ERRORS = ["timeout after {n}ms for ap_{i}", 'duplicate key value violates unique constraint "contacts_email_key"',
          "429 Too Many Requests from crm-sync (retry after {s}s)",
          "Cannot read properties of undefined (reading 'workspaceId')"]
T0 = 1_764_000_000_000


def event_json(i: int) -> str:
    return json.dumps({"id": f"clx{i:021d}", "type": TYPES[i % len(TYPES)], "source": "platform",
                       "timestamp": "2025-12-05T10:30:00.000Z", "correlationId": f"clc{i:021d}",
                       "tenantId": f"ws_{i % 7}", "userId": f"usr_{i % 50}", "version": "1.0",
                       "data": {"approvalId": f"ap_{i}", "amount": i % 1000}})


def fill(r, stream: str, start: int, n: int, dlq: bool) -> None:
    batch = 5000
    for lo in range(start, start + n, batch):
        p = r.pipeline(transaction=False)
        for i in range(lo, min(lo + batch, start + n)):
            fields = {"event": event_json(i)}
            if dlq:
                err = ERRORS[i % len(ERRORS)].format(n=4000 + i % 3000, i=i, s=i % 60)
                fields.update(error=err, errorStack=f"Error: {err}\n    at handler (src/h.ts:{i % 90}:3)",
                              movedAt="2025-12-05T10:31:00.000Z", attempts="3")
            p.xadd(stream, fields, id=f"{T0 + i}-0")
        p.execute()


def median_ms(fn, runs: int) -> float:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def peak_mb(fn) -> float:
    gc.collect()
    tracemalloc.start()
    fn()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 1e6


def baseline(r, stream: str) -> int:
    """What a user does today: the whole DLQ in one XRANGE, json.loads on every entry."""
    rows = r.xrange(stream, "-", "+")
    counts: dict[str, int] = {}
    for _, fields in rows:
        t = json.loads(fields["event"]).get("type")
        counts[t] = counts.get(t, 0) + 1
    return len(rows)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=int, default=1_000_000)
    ap.add_argument("--dlq", type=int, default=200_000)
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    server = RedisServer().start()
    try:
        r = connect(server.url)
        bus = Bus(r, Settings(_env_file=None), where="bench")
        k = bus.keys
        fill(r, k.events, 0, 1000, dlq=False)
        r.xgroup_create(k.events, k.group, id="0")
        r.xreadgroup(k.group, "host-1", {k.events: ">"}, count=200)
        small = median_ms(lambda: get_health(bus), 50)
        t = time.perf_counter()
        fill(r, k.events, 1000, args.events - 1000, dlq=False)
        fill(r, k.dlq, 0, args.dlq, dlq=True)
        load_s = time.perf_counter() - t
        big = median_ms(lambda: get_health(bus), 50)
        cache_key = k.dlq_top_cache(k.dlq)

        def cold():
            r.delete(cache_key)
            return dlq_top(bus, 10)
        assert cold().total == args.dlq
        top_cold = median_ms(cold, args.runs)
        top_mem = peak_mb(cold)
        base = median_ms(lambda: baseline(r, k.dlq), args.runs)
        base_mem = peak_mb(lambda: baseline(r, k.dlq))
        cold()
        warm = median_ms(lambda: dlq_top(bus, 10), 20)
        fill(r, k.dlq, args.dlq, 1000, dlq=True)
        grown = median_ms(lambda: dlq_top(bus, 10), 1)
        print(f"(loaded {args.events:,} events and {args.dlq:,} DLQ entries in {load_s:.1f} s)\n")
        print("| measure | median | note |\n|---|---|---|")
        print(f"| `health`, 1,000 entries | {small:.2f} ms | 50 runs |")
        print(f"| `health`, {args.events:,} entries | {big:.2f} ms | 50 runs; ratio {big / small:.2f}x |")
        print(f"| `dlq top`, {args.dlq:,} DLQ entries, cold | {top_cold:.0f} ms | {args.runs} runs; peak Python memory {top_mem:.1f} MB |")
        print(f"| baseline: one `XRANGE - +` + `json.loads` each | {base:.0f} ms | {args.runs} runs; peak Python memory {base_mem:.1f} MB |")
        print(f"| `dlq top` vs baseline | {top_cold / base:.2f}x the time | {top_mem / base_mem:.2f}x the memory |")
        print(f"| `dlq top` repeat, DLQ unchanged (cache) | {warm:.2f} ms | 20 runs; {top_cold / warm:.0f}x faster than cold |")
        print(f"| `dlq top` after 1,000 new DLQ entries (incremental) | {grown:.1f} ms | 1 run |")
    finally:
        server.stop()


if __name__ == "__main__":
    main()
