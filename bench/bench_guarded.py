"""Guarded-actions benchmark on a real redis-server it starts on a free port.

    python -m bench.bench_guarded                      # the full run (about 3 minutes)
    python -m bench.bench_guarded --dlq 20000 --range 200000 --quick   # a quick run

Measures, in one run: an unthrottled reprocess of N DLQ entries as a job (Lua batches)
against the per-entry path of the platform's specification (XRANGE one, XADD, XDEL: three
round trips per event); a replay of 10% matching entries out of a 1,000,000-entry range;
the same 100,000-entry-range replay in a short and in a long stream (cost follows the range,
not the stream); throttled jobs against their requested rate; and SLOWLOG over every job
call (threshold 5 ms) to check that none blocks Redis for 50 ms.
"""
from __future__ import annotations

import argparse
import json
import time

from bot.actions.selection import select
from bot.bus import Bus
from bot.connection import connect
from bot.jobs import lease, store
from bot.jobs.model import Job
from bot.jobs.runner import run_job
from bot.settings import Settings
from tests.redis_server import RedisServer

T0 = 1_764_000_000_000
TYPES = ["approval.item.created", "crm.contact.created", "agent.run.completed",
         "workspace.member.added", "auth.user.created"]
TARGET = "content.article.published"  # the replayed type: every 10th event
SLOW_US = 5000


def event_json(i: int, etype: str) -> str:
    return json.dumps({"id": f"clx{i:021d}", "type": etype, "source": "platform",
                       "timestamp": "2025-12-05T10:30:00.000Z", "correlationId": f"clc{i:021d}",
                       "tenantId": f"ws_{i % 7}", "userId": f"usr_{i % 50}", "version": "1.0",
                       "data": {"approvalId": f"ap_{i}", "amount": i % 1000}})


def fill_dlq(r, stream: str, n: int) -> None:
    for lo in range(0, n, 5000):
        p = r.pipeline(transaction=False)
        for i in range(lo, min(n, lo + 5000)):
            err = f"timeout after {4000 + i % 3000}ms for ap_{i}"
            p.xadd(stream, {"event": event_json(i, TYPES[i % len(TYPES)]), "error": err,
                            "errorStack": f"Error: {err}\n    at handler (src/h.ts:{i % 90}:3)",
                            "movedAt": "2025-12-05T10:31:00.000Z", "attempts": "3"}, id=f"{T0 + i}-0")
        p.execute()


def fill_events(r, stream: str, lo: int, hi: int) -> None:
    for a in range(lo, hi, 5000):
        p = r.pipeline(transaction=False)
        for i in range(a, min(hi, a + 5000)):
            etype = TARGET if i % 10 == 0 else TYPES[i % len(TYPES)]
            p.xadd(stream, {"event": event_json(i, etype)}, id=f"{T0 + i}-0")
        p.execute()


def run(bus: Bus, kind: str, source: str, target: str, params: dict, start: str = "-",
        upper: str = "+", rate: int = 0, to_move: int = 0) -> tuple[Job, float]:
    job = store.create(bus, Job(id=store.new_job_id(), kind=kind, source=source, target=target,
                                params=params, start=start, upper=upper, rate=rate,
                                batch=bus.settings.bus_job_batch, to_move=to_move, by="bench"))
    owner = lease.new_owner()
    lease.acquire(bus, job.id, owner)
    t0 = time.perf_counter()
    done = run_job(bus, job.id, owner)
    return done, time.perf_counter() - t0


def per_entry(r, source: str, target: str, n: int) -> float:
    """The specification's path: three round trips per event."""
    t0 = time.perf_counter()
    for i in range(n):
        eid = f"{T0 + i}-0"
        (entry_id, fields), = r.xrange(source, eid, eid)
        r.xadd(target, {"event": fields["event"], "reprocessedFrom": entry_id, "reprocessJob": "base"})
        r.xdel(source, entry_id)
    return time.perf_counter() - t0


class Slowlog:
    def __init__(self, r):
        self.r, self.worst = r, []
        r.config_set("slowlog-log-slower-than", SLOW_US)
        r.config_set("slowlog-max-len", 1024)

    def reset(self) -> None:
        self.r.slowlog_reset()

    def collect(self, phase: str) -> None:
        for e in self.r.slowlog_get(1024):
            cmd = e["command"]
            cmd = cmd.decode() if isinstance(cmd, bytes) else str(cmd)
            self.worst.append((e["duration"], phase, cmd[:60]))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--dlq", type=int, default=100_000)
    ap.add_argument("--range", type=int, default=1_000_000, dest="range_n")
    ap.add_argument("--quick", action="store_true", help="shorter throttled runs")
    args = ap.parse_args()
    server = RedisServer().start()
    try:
        r = connect(server.url)
        bus = Bus(r, Settings(_env_file=None))
        slow = Slowlog(r)
        rows: list[tuple[str, str, str]] = []
        k = bus.keys

        # 1. reprocess: job vs per-entry path, same run, same data shape
        n = args.dlq
        fill_dlq(r, k.dlq, n)
        fill_dlq(r, "bench:dlq:baseline", n)
        t0 = time.perf_counter()
        sel = select(bus, "reprocess", k.dlq, {})
        preview_s = time.perf_counter() - t0
        slow.reset()
        job, job_s = run(bus, "reprocess", k.dlq, k.events, {}, upper=sel.upper, to_move=sel.matched)
        slow.collect("reprocess job")
        assert job.moved == n and r.xlen(k.dlq) == 0, job
        base_s = per_entry(r, "bench:dlq:baseline", "bench:events:baseline", n)
        rows += [(f"preview (exact count) of {n:,} DLQ entries", f"{preview_s * 1000:,.0f} ms", f"{n / preview_s:,.0f} entries/s"),
                 (f"reprocess job, {n:,} entries, unthrottled", f"{job_s * 1000:,.0f} ms", f"{n / job_s:,.0f} events/s"),
                 (f"per-entry path (XRANGE one, XADD, XDEL), {n:,} entries", f"{base_s * 1000:,.0f} ms", f"{n / base_s:,.0f} events/s"),
                 ("job vs per-entry path", f"{base_s / job_s:,.1f}x faster", "same run, same server")]
        r.flushdb()

        # 2. replay: the same 100,000-entry range in a short and in a long stream, then 10%
        #    of a 1,000,000-entry range
        m = args.range_n
        small = min(100_000, m // 2)
        short = "bench:events:short"
        fill_events(r, short, 0, 2 * small)
        fill_events(r, k.events, 0, m)
        short_len, long_len = r.xlen(short), r.xlen(k.events)
        slow.reset()
        a, a_s = run(bus, "replay", short, short, {"types": [TARGET]}, start=f"{T0}-0",
                     upper=f"{T0 + small - 1}-0")
        slow.collect("replay")
        slow.reset()
        b, b_s = run(bus, "replay", k.events, k.events, {"types": [TARGET]}, start=f"{T0}-0",
                     upper=f"{T0 + small - 1}-0")
        slow.collect("replay")
        t0 = time.perf_counter()
        sel = select(bus, "replay", k.events, {"types": [TARGET]}, start=f"{T0}-0", upper=f"{T0 + m - 1}-0")
        preview_s = time.perf_counter() - t0
        slow.reset()
        c, c_s = run(bus, "replay", k.events, k.events, {"types": [TARGET]}, start=f"{T0}-0",
                     upper=sel.upper, to_move=sel.matched)
        assert sel.upper == f"{T0 + m - 1}-0"  # the copies b wrote lie past the range
        slow.collect("replay")
        assert a.moved == b.moved == small // 10 and c.moved == sel.matched == m // 10, (a, b, c)
        rows += [(f"replay: {small:,}-entry range ({a.moved:,} match), stream of {short_len:,}", f"{a_s * 1000:,.0f} ms", f"{a.moved / a_s:,.0f} events/s"),
                 (f"replay: same range, stream of {long_len:,}", f"{b_s * 1000:,.0f} ms", f"{b.moved / b_s:,.0f} events/s; {b_s / a_s:.2f}x the short stream's time"),
                 (f"replay preview (exact count) of a {m:,}-entry range", f"{preview_s * 1000:,.0f} ms", f"{m / preview_s:,.0f} entries/s read"),
                 (f"replay job: {c.moved:,} matching of a {m:,}-entry range", f"{c_s * 1000:,.0f} ms",
                  f"{c.moved / c_s:,.0f} events/s copied; {m / c_s:,.0f} entries/s read")]
        r.flushdb()

        # 3. throttled jobs hold their rate
        for rate, secs in ((500, 4), (2000, 4), (10_000, 4)) if args.quick else ((500, 10), (2000, 10), (10_000, 10)):
            total = rate * secs
            fill_dlq(r, k.dlq, total)
            slow.reset()
            job, s = run(bus, "reprocess", k.dlq, k.events, {}, rate=rate, to_move=total)
            slow.collect("throttled reprocess")
            got = job.moved / s
            rows.append((f"throttled reprocess, rate={rate:,}/s, {total:,} entries", f"{s:,.2f} s",
                         f"{got:,.0f} events/s ({100 * (got - rate) / rate:+.1f}% of the requested rate)"))
            r.flushdb()

        worst = max(slow.worst, default=None)
        rows.append(("SLOWLOG: slowest job call (threshold 5 ms)",
                     f"{worst[0] / 1000:,.1f} ms" if worst else "none over 5 ms",
                     f"{worst[1]}: `{worst[2]}`" if worst else "no call of any job reached 5 ms"))
        print("| measure | time | rate / note |\n|---|---|---|")
        for row in rows:
            print("| " + " | ".join(row) + " |")
        print(f"\nslow calls >= 5 ms: {len(slow.worst)}; over 50 ms: {sum(1 for w in slow.worst if w[0] >= 50_000)}")
    finally:
        server.stop()


if __name__ == "__main__":
    main()
