"""Guarded-actions benchmark on a real redis-server it starts on a free port.

    python -m bench.bench_guarded                  # 100,000 moves (about 3 minutes)
    python -m bench.bench_guarded --scale 0.1      # 10x less data (about 30 s)
    python -m bench.bench_guarded --scale 10       # 10x more: 1,000,000 moves, a 10,000,000-entry replay range

Everything through the front door, as an operator sees it: `/bus reprocess type=T` (or
`replay ...`) through `commands.router`, Confirm by one operator, Approve by another, and
the clock runs from the approving click until the job is COMPLETED, moved by the job runner
the serving process runs (`bot.runtime.build_runtime`). Measured in one run on one server:

1. reprocess by type: N entries of a 2N-entry DLQ (4 types, 4 tenants, an error message
   that varies per entry; the selected type is half of the DLQ, as in an incident), against
   the per-entry path of the platform's specification (XRANGE one, XADD, XDEL: three
   round trips per event) moving N entries of an identical DLQ;
2. reprocess all of an N-entry DLQ (no filter);
3. replay by type: N matching of a 10N-entry range of the main stream (paired with 1 by round);
4. side by side: a replay throttled to 10 events/s running on the main stream while a
   reprocess of N/10 by type runs, click to done, and its settle-time follow-up is posted;
5. throttled reprocesses against their requested rate.

SLOWLOG runs with slowlog-log-slower-than 50000, read after each job (seeding the streams
is not a job's call): no call may hold Redis for 50 ms.
"""
from __future__ import annotations

import argparse
import json
import statistics
import threading
import time
from typing import Any

import redis

from bot.actions.selection import SCAN_CAP
from bot.bus import Bus
from bot.connection import connect
from bot.jobs import lease, store
from bot.jobs.model import Job
from bot.jobs.runner import run_job
from bot.notify import Message
from bot.runtime import Runtime, build_runtime
from bot.settings import Settings
from commands import router
from tests.redis_server import RedisServer

T0 = 1_764_000_000_000
TYPES = ["approval.item.created", "crm.contact.created", "agent.run.completed", "workspace.member.added"]
TENANTS = ["ws_acme", "ws_globex", "ws_initech", "ws_umbrella"]
HOT = TYPES[0]  # the type an incident floods the DLQ with: half of it
REPLAYED = "content.article.published"  # every 10th event of the main stream
SLOW_US = 50_000
ERRORS = ["timeout after {ms}ms calling approvals-api for {ref}", "ECONNRESET from crm-sync while handling {ref}",
          "validation failed: field amount={n} out of range ({ref})", "handler threw: Cannot read properties of "
          "undefined (reading 'id') at {ref}"]


def event_json(i: int, etype: str) -> str:
    return json.dumps({"id": f"clx{i:021d}", "type": etype, "source": "platform",
                       "timestamp": "2025-12-05T10:30:00.000Z", "correlationId": f"clc{i:021d}",
                       "tenantId": TENANTS[(i // 7) % 4], "userId": f"usr_{i % 50}", "version": "1.0",
                       "data": {"approvalId": f"ap_{i}", "amount": i % 1000}})


def dlq_type(i: int) -> str:
    return HOT if i % 2 == 0 else TYPES[1 + (i // 2) % 3]


def fill_dlq(r: Any, stream: str, n: int, type_of=dlq_type, offset: int = 0) -> None:
    for lo in range(offset, offset + n, 5000):
        p = r.pipeline(transaction=False)
        for i in range(lo, min(offset + n, lo + 5000)):
            err = ERRORS[i % 4].format(ms=4000 + i % 3000, ref=f"ap_{i}", n=i % 997)
            p.xadd(stream, {"event": event_json(i, type_of(i)), "error": err,
                            "errorStack": f"Error: {err}\n    at handler (src/h.ts:{i % 90}:3)",
                            "movedAt": "2025-12-05T10:31:00.000Z", "attempts": "3"}, id=f"{T0 + i}-0")
        p.execute()


def fill_events(r: Any, stream: str, n: int) -> None:
    for a in range(0, n, 5000):
        p = r.pipeline(transaction=False)
        for i in range(a, min(n, a + 5000)):
            etype = REPLAYED if i % 10 == 0 else TYPES[i % 4]
            p.xadd(stream, {"event": event_json(i, etype)}, id=f"{T0 + i}-0")
        p.execute()


def run(bus: Bus, kind: str, source: str, target: str, params: dict, start: str = "-",
        upper: str = "+", rate: int = 0, to_move: int = 0) -> tuple[Job, float]:
    """A job run to its end in this thread, without the front door (bench/bench_cluster.py)."""
    job = store.create(bus, Job(id=store.new_job_id(), kind=kind, source=source, target=target,
                                params=params, start=start, upper=upper, rate=rate,
                                batch=bus.settings.bus_job_batch, to_move=to_move, by="bench"))
    owner = lease.new_owner()
    lease.acquire(bus, job.id, owner)
    t0 = time.perf_counter()
    done = run_job(bus, job.id, owner)
    assert done is not None
    return done, time.perf_counter() - t0


def per_entry(r: Any, source: str, target: str, ids: list[str]) -> float:
    """The specification's path: three round trips per event."""
    t0 = time.perf_counter()
    for eid in ids:
        (entry_id, fields), = r.xrange(source, eid, eid)
        r.xadd(target, {"event": fields["event"], "reprocessedFrom": entry_id, "reprocessJob": "base"})
        r.xdel(source, entry_id)
    return time.perf_counter() - t0


class Followups:
    """A notifier that notes when each settle-time follow-up is posted."""

    def __init__(self) -> None:
        self.posted: dict[str, float] = {}

    def post(self, message: Message, thread_ts: str | None = None) -> str | None:
        if message.template == "job_followup":
            self.posted[message.context["job_id"]] = time.time()
        return None

    def update(self, ts: str, message: Message) -> None:
        pass


def buttons(reply: Any) -> dict:
    return {b["action_id"]: b["value"] for b in reply.context.get("buttons", [])}


def approve(rt: Runtime, text: str) -> tuple[str, float]:
    """Preview, Confirm (U1), then the approving click (U2); returns the job id and the
    moment of the click."""
    preview = router.run(text, rt, "U1")
    assert preview.template == "guard_preview", preview.text
    request = router.run_action("guard_confirm", buttons(preview)["guard_confirm"], rt, "U1")
    value = buttons(request)["guard_approve"]
    t0 = time.perf_counter()
    reply = router.run_action("guard_approve", value, rt, "U2")
    assert reply.template == "job", reply.text
    return reply.context["job"]["id"], t0


def until_done(bus: Bus, job_id: str, timeout: float = 600) -> tuple[Job, float]:
    deadline = time.perf_counter() + timeout
    while True:
        if bus.r.hget(bus.keys.job(job_id), "status") not in ("RUNNING", "CANCELLING"):
            return store.get(bus, job_id), time.perf_counter()  # type: ignore[return-value]
        assert time.perf_counter() < deadline, f"job {job_id} still running"
        time.sleep(0.002)


SLOW_CALLS: list[tuple[int, str]] = []  # SLOWLOG entries logged while jobs ran (not while seeding)


def click_to_done(bus: Bus, rt: Runtime, text: str) -> tuple[Job, float]:
    bus.r.slowlog_reset()
    job_id, t0 = approve(rt, text)
    job, t1 = until_done(bus, job_id)
    SLOW_CALLS.extend(slowlog(bus.r))
    assert job.status == "COMPLETED", job
    return job, t1 - t0


def measure(bus: Bus, rt: Runtime, text: str, kind: str, source: str, target: str, params: dict,
            reads: int, start: str = "-", upper: str = "+") -> tuple[Job, float]:
    """Click to done; past the preview's cap on entries read (a larger selection takes
    several runs through Slack), the job the approval would create, from its creation to
    done, run by the same runner."""
    if reads <= SCAN_CAP:
        return click_to_done(bus, rt, text)
    bus.r.slowlog_reset()
    job = store.create(bus, Job(id=store.new_job_id(), kind=kind, source=source, target=target, params=params,
                                start=start, upper=upper, batch=bus.settings.bus_job_batch, by="bench"))
    t0 = time.perf_counter()
    done, t1 = until_done(bus, job.id)
    SLOW_CALLS.extend(slowlog(bus.r))
    assert done.status == "COMPLETED", done
    return done, t1 - t0


def server_cpu(r: Any) -> float:
    """redis-server's CPU seconds so far (user + system, all its threads)."""
    info = r.info("cpu")
    return float(info["used_cpu_user"]) + float(info["used_cpu_sys"])


def how(reads: int) -> str:
    return "approving click to done" if reads <= SCAN_CAP else "job created to done (past the preview's cap)"


def slowlog(r: Any) -> list[tuple[int, str]]:
    out = []
    for e in r.slowlog_get(1024):
        cmd = e["command"]
        out.append((e["duration"], (cmd.decode() if isinstance(cmd, bytes) else str(cmd))[:60]))
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--scale", type=float, default=1.0, help="1: 100,000 moves; 0.1 or 10: 10x less or more")
    ap.add_argument("--rounds", type=int, default=3, help="rounds of the reprocess and per-entry measures")
    args = ap.parse_args()
    n = int(100_000 * args.scale)
    server = RedisServer().start()
    rt = None
    try:
        r = connect(server.url)
        slow_client = redis.Redis.from_url(server.url, socket_timeout=600)  # COPY of 10,000,000 entries
        r.config_set("slowlog-log-slower-than", SLOW_US)
        r.config_set("slowlog-max-len", 1024)
        notes = Followups()
        settings = Settings(_env_file=None, bus_operators="U1,U2", bus_settle_seconds=0)
        bus = Bus(r, settings)
        rt = build_runtime(bus, notes, poll_s=1.0)  # type: ignore[arg-type]
        k = bus.keys
        rows: list[tuple[str, str, str]] = []

        # 1. reprocess by type vs the per-entry path, and 3. replay by type, paired by round
        job_s, base_s, replay_s, busy = [], [], [], []
        m = 10 * n
        since = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(T0 / 1000))
        until = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime((T0 + m) / 1000 + 1))
        fill_events(r, "bench:events:range", m)
        for _ in range(args.rounds):
            r.delete(k.dlq, "bench:dlq:baseline", "bench:events:baseline")
            fill_dlq(r, k.dlq, 2 * n)
            fill_dlq(r, "bench:dlq:baseline", 2 * n)
            cpu0, client0 = server_cpu(r), time.process_time()
            job, s = measure(bus, rt, f"reprocess type={HOT}", "reprocess", k.dlq, k.events, {"type": HOT}, 2 * n,
                             upper=f"{T0 + 2 * n - 1}-0")
            busy.append(((server_cpu(r) - cpu0) / s, (time.process_time() - client0) / s))
            assert job.moved == n and r.xlen(k.dlq) == n, job
            job_s.append(s)
            ids = [f"{T0 + i}-0" for i in range(0, 2 * n, 2)]
            base_s.append(per_entry(r, "bench:dlq:baseline", "bench:events:baseline", ids))
            r.delete(k.events)
            slow_client.copy("bench:events:range", k.events)  # a fresh main stream of m entries, in Redis
            job, s = measure(bus, rt, f"replay from={since}Z to={until}Z types={REPLAYED}", "replay", k.events,
                             k.events, {"types": [REPLAYED]}, m, start=f"{T0}-0", upper=f"{T0 + m - 1}-0")
            assert job.moved == n, job
            replay_s.append(s)
            r.delete(k.events)
        js, bs = statistics.median(job_s), statistics.median(base_s)
        rows += [(f"reprocess type=T, {n:,} of a {2 * n:,}-entry DLQ, {how(2 * n)} (median of "
                  f"{args.rounds})", f"{js * 1000:,.0f} ms", f"**{n / js:,.0f} events/s**"),
                 (f"per-entry path (XRANGE one, XADD, XDEL), {n:,} entries (median of {args.rounds})",
                  f"{bs * 1000:,.0f} ms", f"{n / bs:,.0f} events/s"),
                 ("reprocess by type vs per-entry path", f"**{bs / js:,.1f}x**",
                  "rounds: " + ", ".join(f"{b / j:.1f}x" for j, b in zip(job_s, base_s))),
                 ("CPU during the reprocess, share of its wall time: redis-server / busbot's process",
                  f"{100 * statistics.median(b[0] for b in busy):.0f}% / "
                  f"{100 * statistics.median(b[1] for b in busy):.0f}%",
                  "rounds: " + ", ".join(f"{100 * a:.0f}% / {100 * c:.0f}%" for a, c in busy))]

        # 2. reprocess all, no filter
        r.delete(k.dlq)
        fill_dlq(r, k.dlq, n)
        job, s = measure(bus, rt, "reprocess all", "reprocess", k.dlq, k.events, {}, n, upper=f"{T0 + n - 1}-0")
        assert job.moved == n and r.xlen(k.dlq) == 0, job
        rows.append((f"reprocess all, {n:,}-entry DLQ, {how(n)}", f"{s * 1000:,.0f} ms",
                     f"{n / s:,.0f} events/s"))
        r.delete(k.events, k.dlq, "bench:dlq:baseline", "bench:events:baseline")

        rs = statistics.median(replay_s)
        rows += [(f"replay types=T, {n:,} of a {m:,}-entry range, {how(m)} (median of {args.rounds})",
                  f"{rs * 1000:,.0f} ms", f"**{n / rs:,.0f} events/s**; {m / rs:,.0f} entries/s read"),
                 ("replay vs reprocess by type, paired by round", f"**{100 * js / rs:.0f}%** (median rates)",
                  "rounds: " + ", ".join(f"{100 * j / p:.0f}%" for j, p in zip(job_s, replay_s)))]
        r.delete("bench:events:range")
        fill_events(r, k.events, 10_000)  # for the throttled replay below

        # 4. side by side: a 10 events/s replay runs while a reprocess of n/10 runs
        small = max(1000, n // 10)
        r.delete(k.dlq)
        fill_dlq(r, k.dlq, 2 * small)
        alone, alone_s = click_to_done(bus, rt, f"reprocess type={HOT}")
        fill_dlq(r, k.dlq, 2 * small, offset=2 * small)
        slow_id, _ = approve(rt, f"replay from={since}Z to={until}Z types={REPLAYED} rate=10")
        time.sleep(1.0)  # the throttled job is under way
        assert r.hget(k.job(slow_id), "status") == "RUNNING"
        beside, beside_s = click_to_done(bus, rt, f"reprocess type={HOT}")
        deadline = time.perf_counter() + 30
        while beside.id not in notes.posted and time.perf_counter() < deadline:
            time.sleep(0.01)
        follow_s = notes.posted.get(beside.id, float("nan")) - beside.finished / 1000
        still = r.hget(k.job(slow_id), "status")
        router.run(f"job cancel {slow_id}", rt, "U1")
        rows += [(f"reprocess type=T of {small:,}, alone, click to done", f"{alone_s * 1000:,.0f} ms",
                  f"{small / alone_s:,.0f} events/s"),
                 (f"the same while a rate=10 replay runs in the same process ({still})", f"{beside_s * 1000:,.0f} ms",
                  f"{small / beside_s:,.0f} events/s; {1000 * (beside_s - alone_s):+,.0f} ms against alone"),
                 ("its follow-up (BUS_SETTLE_SECONDS=0), end of the job to posted, beside the replay",
                  f"{follow_s * 1000:,.0f} ms", "the runner's poll interval is 1 s; a job's end wakes it")]
        until_done(bus, slow_id)
        r.delete(k.dlq, k.events)

        # 5. throttled jobs hold their rate
        secs = 3 if args.scale < 1 else 6
        for rate in (500, 2000, 10_000):
            total = rate * secs
            fill_dlq(r, k.dlq, total, type_of=lambda i: HOT)
            r.slowlog_reset()
            job = store.create(bus, Job(id=store.new_job_id(), kind="reprocess", source=k.dlq, target=k.events,
                                        rate=rate, to_move=total, by="bench"))  # Slack's reprocess has no rate=
            t0 = time.perf_counter()
            job, t1 = until_done(bus, job.id)  # the runtime's runner runs it
            SLOW_CALLS.extend(slowlog(r))
            s = t1 - t0
            got = job.moved / s
            rows.append((f"throttled reprocess, rate={rate:,}/s, {total:,} entries", f"{s:,.2f} s",
                         f"{got:,.0f} events/s ({100 * (got - rate) / rate:+.1f}% of the requested rate)"))
            r.delete(k.dlq, k.events)

        slow = SLOW_CALLS
        worst = max(slow, default=None)
        for duration, cmd in sorted(slow, reverse=True)[:10]:
            print(f"slow call: {duration / 1000:,.1f} ms `{cmd}`")
        rows.append(("SLOWLOG (slowlog-log-slower-than 50000) while jobs ran",
                     f"{len(slow)} entries", f"slowest {worst[0] / 1000:,.1f} ms: `{worst[1]}`" if worst
                     else "**no call reached 50 ms**"))
        print("| measure | time | rate / note |\n|---|---|---|")
        for row in rows:
            print("| " + " | ".join(row) + " |")
    finally:
        if rt is not None:
            rt.stop()
        server.stop()


if __name__ == "__main__":
    threading.excepthook = lambda a: print("thread failed:", a.exc_value)
    main()
