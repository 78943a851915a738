"""Guarded-action preview benchmark: the exact count of a `replay` filtered by types and
tenant over a range of 100,000 and 1,000,000 entries (the raw-page count), side by side
with the per-entry count it replaced (parse, mask and filter every entry) at 100,000.
SLOWLOG is watched at 50 ms.

    python -m bench.bench_preview                    # 100,000 and 1,000,000 (about 3 minutes)
    python -m bench.bench_preview --sizes 100000 --per-entry 100000 --runs 3   # a quick run

Starts its own redis-server on a free port (127.0.0.1), prints a Markdown table.
"""
from __future__ import annotations

import argparse
import statistics
import time

from bench.bench_read import TENANTS, TYPES, fill
from bot.actions import selection
from bot.bus import Bus
from bot.connection import connect
from bot.services import range_tally
from bot.settings import Settings
from tests.redis_server import RedisServer

PARAMS = {"types": [TYPES[1], TYPES[3]], "tenant": TENANTS[0]}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", type=int, nargs="*", default=[100_000, 1_000_000])
    ap.add_argument("--per-entry", type=int, nargs="*", default=[100_000], help="sizes to run the per-entry count at")
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    server = RedisServer().start()
    try:
        r = connect(server.url)
        r.config_set("slowlog-log-slower-than", 50_000)
        bus = Bus(r, Settings(_env_file=None), where="bench")
        events = bus.keys.events
        print(f"`replay` preview, filter {PARAMS}, exact count over the whole range; median of {args.runs} runs\n")
        print("| range | count | time | entries/s | SLOWLOG |\n|---|---|---|---|---|")
        loaded = 0
        for size in sorted(set(args.sizes) | set(args.per_entry)):
            fill(r, events, loaded, size - loaded, dlq=False)
            loaded = size
            for how in ("raw pages", "per entry"):
                if how == "per entry" and size not in args.per_entry or how == "raw pages" and size not in args.sizes:
                    continue
                fast = how == "raw pages"
                r.slowlog_reset()
                times, sel = [], None
                for _ in range(args.runs):
                    original = range_tally.eligible
                    if not fast:
                        range_tally.eligible = lambda *a: False  # type: ignore[assignment]
                    try:
                        t = time.perf_counter()
                        sel = selection.select(bus, "replay", events, dict(PARAMS), start="-")
                        times.append(time.perf_counter() - t)
                    finally:
                        range_tally.eligible = original  # type: ignore[assignment]
                assert sel is not None and sel.scanned == min(size, selection.SCAN_CAP)
                slow = r.slowlog_get(1000)
                slowest = max((e["duration"] for e in slow), default=0) / 1000
                worst = max(slow, key=lambda e: e["duration"])["command"][:40] if slow else ""
                med = statistics.median(times)
                print(f"| {size:,} | {how}: {sel.matched:,} of {sel.scanned:,} | {med * 1000:,.0f} ms "
                      f"(runs: {', '.join(f'{x:.2f} s' for x in times)}) | {size / med:,.0f} | "
                      f"{len(slow)} over 50 ms (slowest {slowest:.1f} ms{': ' + str(worst) if worst else ''}) |",
                      flush=True)
    finally:
        server.stop()


if __name__ == "__main__":
    main()
