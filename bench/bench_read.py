"""Read-side benchmark: `health` at 1,000 vs 1,000,000 entries, and a cold `dlq top` over
a realistic DLQ (4 types, 4 tenants, error messages that differ per entry by ids and
numbers) side by side with a naive script (redis-py + hiredis: XRANGE in pages, json.loads,
Counter), at 10x less and 10x more data; then a repeat from the cache and an incremental
call. SLOWLOG is watched at 50 ms during every `dlq top`.

    python -m bench.bench_read                        # DLQ of 20,000, 200,000 and 2,000,000 (about 10 minutes)
    python -m bench.bench_read --dlq 200000 --events 0   # dlq top at 200,000 only
    python -m bench.bench_read --dlq 20000 --events 100000 --runs 3   # a quick run

Starts its own redis-server on a free port (127.0.0.1), prints Markdown tables.
"""
from __future__ import annotations

import argparse
import gc
import json
import random
import statistics
import time
import tracemalloc
import uuid
from collections import Counter

import redis

from bot import gcpause
from bot.bus import Bus
from bot.connection import connect
from bot.services.dlq_top import SCAN_BATCH, dlq_top
from bot.services.health import get_health
from bot.services.raw_read import pages
from bot.settings import Settings
from tests.redis_server import RedisServer

TYPES = ["approval.item.created", "crm.contact.created", "auth.user.created", "agent.run.completed"]
TENANTS = ["ws_acme", "ws_globex", "ws_initech", "ws_umbrella"]
T0 = 1_764_000_000_000
SLOW_US = 50_000  # SLOWLOG threshold: no call of busbot's may take longer


def error_text(i: int, rng: random.Random) -> str:
    """A DLQ error as real ones read: the same few failures, each with its own ids and numbers."""
    kind = i % 5
    if kind == 0:
        return f"Timeout after {rng.randint(3000, 9999)}ms calling approvals-service for ap_{rng.randint(1, 99999)}"
    if kind == 1:
        return f"SMTP 451 temporary failure for user {rng.randint(1, 9999)}@example.com"
    if kind == 2:
        return f"Contact {uuid.UUID(int=rng.getrandbits(128))} not found in CRM (status 404)"
    if kind == 3:
        return f'duplicate key value violates unique constraint "contacts_email_key" (row {rng.randint(1, 10**6)})'
    return f"Agent run run_{rng.randint(1, 10**6)} exceeded {rng.randint(10, 99)} tool calls"


def event_json(i: int, rng: random.Random) -> str:
    return json.dumps({"id": f"clx{rng.getrandbits(80):020x}", "type": TYPES[i % len(TYPES)], "source": "platform",
                       "timestamp": "2025-12-05T10:30:00.000Z", "correlationId": f"clc{rng.getrandbits(80):020x}",
                       "tenantId": TENANTS[(i // 4) % len(TENANTS)], "userId": f"usr_{i % 50}", "version": "1.0",
                       "data": {"approvalId": f"ap_{i}", "amount": i % 1000}})


def fill(r, stream: str, start: int, n: int, dlq: bool) -> None:
    rng = random.Random(start)
    batch = 5000
    for lo in range(start, start + n, batch):
        p = r.pipeline(transaction=False)
        for i in range(lo, min(lo + batch, start + n)):
            fields = {"event": event_json(i, rng)}
            if dlq:
                err = error_text(i, rng)
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


def naive(url: str, stream: str) -> int:
    """The script a user would write: redis-py with hiredis, XRANGE in pages of 1,000,
    json.loads of each event, Counters by type, tenant and (raw) error."""
    r = redis.Redis.from_url(url, decode_responses=True)
    types, tenants, errors = Counter(), Counter(), Counter()
    cursor, n = "-", 0
    while True:
        rows = r.xrange(stream, cursor, "+", count=1000)
        for _, fields in rows:
            event = json.loads(fields["event"])
            types[event.get("type")] += 1
            tenants[event.get("tenantId")] += 1
            errors[fields.get("error")] += 1
        n += len(rows)
        if len(rows) < 1000:
            r.close()
            return n
        cursor = "(" + rows[-1][0]


def slowlog(r) -> tuple[int, str]:
    """(calls over the threshold since the last reset, the slowest: ms and command)."""
    entries = r.slowlog_get(1000)
    if not entries:
        return 0, "none"
    worst = max(entries, key=lambda e: e["duration"])
    return len(entries), f"{worst['duration'] / 1000:.1f} ms: {str(worst['command'])[:40]}"


def top_at(server: RedisServer, size: int, runs: int) -> list[str]:
    """Rows of the table for a DLQ of `size` entries."""
    r = connect(server.url)
    bus = Bus(r, Settings(_env_file=None), where="bench")
    k = bus.keys
    r.delete(k.dlq)
    fill(r, k.dlq, 0, size, dlq=True)
    cache_key = k.dlq_top_cache(k.dlq)

    def cold():
        r.delete(cache_key)
        return dlq_top(bus, 10)
    assert cold().total == size
    r.slowlog_reset()
    ours, theirs, ours_cpu, theirs_cpu = [], [], [], []
    for _ in range(runs):  # interleaved: the machine's load falls on both alike
        t, c = time.perf_counter(), time.process_time()
        cold()
        ours.append(time.perf_counter() - t)
        ours_cpu.append(time.process_time() - c)
        t, c = time.perf_counter(), time.process_time()
        assert naive(server.url, k.dlq) == size
        theirs.append(time.perf_counter() - t)
        theirs_cpu.append(time.process_time() - c)
    floor = []
    for _ in range(runs):  # the reading alone, as `dlq top` reads: every page, nothing counted
        t = time.perf_counter()
        with gcpause.paused():
            for _page in pages(r, k.dlq, batch=SCAN_BATCH):
                pass
        floor.append(time.perf_counter() - t)
    slow_calls, slowest = slowlog(r)
    mem, naive_mem = peak_mb(cold), peak_mb(lambda: naive(server.url, k.dlq))
    a, b = statistics.median(ours) * 1000, statistics.median(theirs) * 1000
    ratios = sorted(x / y for x, y in zip(ours, theirs))
    each = ", ".join(f"{x:.2f}" for x in ratios)
    cpu = statistics.median(ours_cpu) / statistics.median(theirs_cpu)
    rows = [f"| {size:,} | {a:,.0f} ms | {b:,.0f} ms | **{a / b:.2f}x** (runs: {each}) | {cpu:.2f}x "
            f"| {mem:.1f} MB / {naive_mem:.1f} MB | {slow_calls} over 50 ms (slowest {slowest}) |"]
    cold()
    warm = median_ms(lambda: dlq_top(bus, 10), 20)
    fill(r, k.dlq, size, 1000, dlq=True)
    grown = median_ms(lambda: dlq_top(bus, 10), 1)
    f = statistics.median(floor) * 1000
    rows.append(f"| {size:,}: reading the raw pages alone (hiredis), nothing counted | {f:,.0f} ms | | "
                f"{f / b:.2f}x | | | |")
    rows.append(f"| {size:,}: repeat, DLQ unchanged (cache) | {warm:.2f} ms | | | | | |")
    rows.append(f"| {size:,}: after 1,000 new entries (incremental) | {grown:.1f} ms | | | | | |")
    r.delete(k.dlq, cache_key)
    r.close()
    return rows


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=int, default=1_000_000, help="main stream entries for `health` (0: skip)")
    ap.add_argument("--dlq", type=int, nargs="*", default=[20_000, 200_000, 2_000_000])
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    server = RedisServer().start()
    try:
        r = connect(server.url)
        r.config_set("slowlog-log-slower-than", SLOW_US)
        bus = Bus(r, Settings(_env_file=None), where="bench")
        k = bus.keys
        if args.events:
            fill(r, k.events, 0, 1000, dlq=False)
            r.xgroup_create(k.events, k.group, id="0")
            r.xreadgroup(k.group, "host-1", {k.events: ">"}, count=200)
            small = median_ms(lambda: get_health(bus), 50)
            fill(r, k.events, 1000, args.events - 1000, dlq=False)
            big = median_ms(lambda: get_health(bus), 50)
            print("| measure | median | note |\n|---|---|---|")
            print(f"| `health`, 1,000 entries | {small:.2f} ms | 50 runs |")
            print(f"| `health`, {args.events:,} entries | {big:.2f} ms | 50 runs; ratio {big / small:.2f}x |\n")
            r.delete(k.events)
        print(f"Cold `dlq top` against the naive script, interleaved, median of {args.runs} runs each:\n")
        print("| DLQ entries | busbot `dlq top` | naive script | ratio (wall) | ratio (client CPU) "
              "| peak Python memory (busbot / naive) | SLOWLOG |")
        print("|---|---|---|---|---|---|---|")
        for size in args.dlq:
            for row in top_at(server, size, args.runs if size <= 200_000 else max(1, args.runs // 2)):
                print(row, flush=True)
    finally:
        server.stop()


if __name__ == "__main__":
    main()
