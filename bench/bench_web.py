"""Web benchmark: the dashboard's Overview and Dead Letter Queue tab on a big bus, and the
admin API's `reprocess-type` against the same move through `/bus` (commands.router), on one
job runner in the same run.

    python -m bench.bench_web        # 1,000,000 events, 200,000 DLQ entries, 5 x 2 moves of 100,000 (about 6 minutes)
    python -m bench.bench_web --events 100000 --dlq 20000 --moves 10000 --runs 20 --rounds 1   # a quick run

Starts its own redis-server on a free port of 127.0.0.1 and serves the app `busbot serve`
runs (bot/web/app.py: dashboard and API, no Slack route) with waitress on another free port;
every page and API call is a real HTTP request. Pages are timed after the first `dlq top`
has filled its cache (that first, cold one is reported on its own). Prints Markdown tables.
"""
from __future__ import annotations

import argparse
import json
import re
import statistics
import threading
import time
from collections.abc import Callable

import requests

from bench.bench_read import fill
from bot.bus import Bus
from bot.connection import connect
from bot.jobs import store
from bot.jobs.model import Job
from bot.runtime import Runtime, build_runtime
from bot.settings import Settings
from bot.web.app import create_app
from bot.web.server import HttpServer
from commands import router
from tests.redis_server import RedisServer

TOKEN, USER, SLACK_USER = "tok-bench-0123456789", "api:bench", "U0BENCH"
MOVED_TYPE = "content.article.published"  # the type reprocess-type moves
HISTORY = 20_000  # samples in the last 24 h: the history stream's cap, the overview's worst case
METADATA = 10_000  # processing metadata entries in the last hour
DAY_MS = 86_400_000


def bench_settings() -> Settings:
    # approval off for bulk reprocess: both paths run the same preview -> confirm -> job
    return Settings(_env_file=None, bus_api_tokens=f"bench:{TOKEN}", bus_operators=f"{USER},{SLACK_USER}",
                    bus_dashboard_secret="bench secret", bus_approval_required="")


def seed_shape(bus: Bus, now: int, events: int) -> None:
    """Two consumer groups (one with lag Redis knows), a day of history samples, an hour of
    processing metadata: what the Overview reads besides the streams' sizes."""
    r, k = bus.r, bus.keys
    last = r.xinfo_stream(k.events)["last-generated-id"]
    r.xgroup_create(k.events, k.group, "0")
    r.xgroup_setid(k.events, k.group, f"{int(last.split('-')[0]) - events // 10}-0", entries_read=events - events // 10)
    r.xgroup_create(k.events, "analytics", "$")
    for lo in range(0, HISTORY, 5000):
        p = r.pipeline(transaction=False)
        for i in range(lo, min(HISTORY, lo + 5000)):
            ts = now - DAY_MS + (i + 1) * DAY_MS // HISTORY - 1
            p.xadd(k.history, {"ts": str(ts), "dlq": str(150 + i % 400), "added": str(1000 + i // 3),
                               "lags": json.dumps({k.group: float(900 + i % 300), "analytics": 0.0}),
                               "failed": str(i % 60)}, id=f"{ts}-0")
        p.execute()
    p = r.pipeline(transaction=False)
    for i in range(METADATA):
        ts = now - 3_600_000 + i * 3_600_000 // METADATA
        p.xadd(k.metadata, {"eventId": f"clx{i}", "type": "crm.contact.created",
                            "status": "failed" if i % 97 == 0 else "completed", "durationMs": str(20 + i % 500),
                            "group": k.group, "consumer": "host-1"}, id=f"{ts}-{i}")
    p.execute()


def fill_moves(r, stream: str, first_ms: int, n: int) -> None:
    """2n DLQ entries, every other one of MOVED_TYPE."""
    for lo in range(0, 2 * n, 5000):
        p = r.pipeline(transaction=False)
        for i in range(lo, min(2 * n, lo + 5000)):
            etype = MOVED_TYPE if i % 2 == 0 else "crm.contact.created"
            event = json.dumps({"id": f"clm{first_ms + i}", "type": etype, "source": "platform",
                                "timestamp": "2025-12-05T10:30:00.000Z", "correlationId": f"clc{i}",
                                "tenantId": f"ws_{i % 7}", "version": "1.0", "data": {"n": i}})
            p.xadd(stream, {"event": event, "error": f"timeout after {4000 + i % 3000}ms",
                            "movedAt": "2025-12-05T10:31:00.000Z", "attempts": "3"}, id=f"{first_ms + i}-0")
        p.execute()


class Web:
    """The serving app over real HTTP, a signed-in dashboard session and an API token."""

    def __init__(self, rt: Runtime):
        self.http = HttpServer(create_app(rt.bus, None, rt=rt), host="127.0.0.1", port=0, threads=4)
        self.url = f"http://127.0.0.1:{self.http.port}"
        self.thread = threading.Thread(target=self.http.run, name="bench-http", daemon=True)
        self.thread.start()
        self.dash = requests.Session()
        login = self.dash.get(f"{self.url}/admin/login").text
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', login).group(1)  # type: ignore[union-attr]
        resp = self.dash.post(f"{self.url}/admin/login", data={"token": TOKEN, "csrf_token": csrf},
                              allow_redirects=False)
        assert resp.status_code == 302, resp.text
        self.api = requests.Session()
        self.api.headers["Authorization"] = f"Bearer {TOKEN}"

    def page(self, path: str) -> str:
        resp = self.dash.get(self.url + path, allow_redirects=False)
        assert resp.status_code == 200, (path, resp.status_code, resp.text[:300])
        return resp.text

    def stop(self) -> None:
        self.http.stop()
        self.http.stopped.wait(15)


def timed(fn: Callable[[], object], runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1000)
    return out


def p95(xs: list[float]) -> float:
    return statistics.quantiles(xs, n=20, method="inclusive")[18] if len(xs) > 1 else xs[0]


def wait_done(bus: Bus, job_id: str, timeout: float = 600) -> Job:
    deadline = time.monotonic() + timeout
    while True:
        job = store.get(bus, job_id)
        if job is not None and not job.active:
            assert job.status == "COMPLETED", job
            return job
        if time.monotonic() > deadline:
            raise SystemExit(f"job {job_id} did not finish: {job}")
        time.sleep(0.02)


def via_api(web: Web, bus: Bus) -> tuple[Job, float, float]:
    """(job, seconds until the API answered, seconds until the job completed)."""
    t0 = time.perf_counter()
    resp = web.api.post(f"{web.url}/events/dlq/reprocess-type", data=json.dumps({"eventType": MOVED_TYPE}),
                        headers={"Content-Type": "application/json"})
    answered = time.perf_counter() - t0
    doc = resp.json()
    assert resp.status_code in (200, 202) and doc["jobId"], doc
    job = wait_done(bus, doc["jobId"])
    return job, answered, time.perf_counter() - t0


def via_slack(rt: Runtime) -> tuple[Job, float, float]:
    """The same through `/bus reprocess type=T` and its Confirm button (the handlers Slack's
    requests reach in the serving process)."""
    t0 = time.perf_counter()
    preview = router.run(f"reprocess type={MOVED_TYPE}", rt, SLACK_USER)
    token = next(b["value"] for b in preview.context["buttons"] if b["action_id"] == "guard_confirm")
    reply = router.run_action("guard_confirm", token, rt, SLACK_USER, "C0BENCH")
    answered = time.perf_counter() - t0
    assert reply.template == "job", reply
    job_id = rt.bus.r.get(rt.bus.keys.job_active(rt.bus.keys.dlq)) or store.recent(rt.bus, 1)[0].id
    job = wait_done(rt.bus, str(job_id))
    return job, answered, time.perf_counter() - t0


def job_rate(job: Job) -> float:
    return job.moved * 1000 / max(1, job.finished - job.started)


def compare(rt: Runtime, web: Web, moves: int, rounds: int) -> None:
    bus, k = rt.bus, rt.bus.keys
    results: dict[str, list[tuple[Job, float, float]]] = {"api": [], "slack": []}
    first_ms = int(bus.r.xinfo_stream(k.dlq)["last-generated-id"].split("-")[0]) + 1
    for n in range(rounds):
        for path in (("api", "slack") if n % 2 == 0 else ("slack", "api")):
            bus.r.delete(k.dlq)
            fill_moves(bus.r, k.dlq, first_ms, moves)
            first_ms += 2 * moves
            out = via_api(web, bus) if path == "api" else via_slack(rt)
            assert out[0].moved == moves and out[0].kind == "reprocess", out[0]
            results[path].append(out)
            print(f"round {n + 1} {path}: {moves:,} moved, job {job_rate(out[0]):,.0f} events/s, "
                  f"request to done {out[2]:.2f} s", flush=True)
    print("\n| path | runs | answered (preview + confirm), median | job rate, median | request to done, median |\n"
          "|---|---|---|---|---|")
    for path, label in (("api", "API `POST /events/dlq/reprocess-type`"),
                        ("slack", "`/bus reprocess type=T` + Confirm")):
        res = results[path]
        print(f"| {label} | {len(res)} | {statistics.median(a for _, a, _ in res) * 1000:,.0f} ms | "
              f"{statistics.median(job_rate(j) for j, _, _ in res):,.0f} events/s | "
              f"{statistics.median(d for _, _, d in res):,.2f} s |")
    ratios = [job_rate(a[0]) / job_rate(b[0]) for a, b in zip(results["api"], results["slack"])]
    totals = [a[2] / b[2] for a, b in zip(results["api"], results["slack"])]
    print(f"\nAPI vs /bus, paired by round ({moves:,} moves of a {2 * moves:,}-entry DLQ): job rate "
          f"{statistics.median(ratios):.2f}x (rounds: {', '.join(f'{x:.2f}' for x in ratios)}), request to done "
          f"{statistics.median(totals):.2f}x the time (rounds: {', '.join(f'{x:.2f}' for x in totals)})")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=int, default=1_000_000)
    ap.add_argument("--dlq", type=int, default=200_000)
    ap.add_argument("--moves", type=int, default=100_000)
    ap.add_argument("--runs", type=int, default=50, help="requests per page")
    ap.add_argument("--rounds", type=int, default=5,
                    help="API and /bus reprocess-type runs each, in turn (0: pages only)")
    args = ap.parse_args()
    server = RedisServer().start()
    rt: Runtime | None = None
    web: Web | None = None
    try:
        r = connect(server.url)
        bus = Bus(r, bench_settings(), where="bench redis")
        k = bus.keys
        t0 = time.perf_counter()
        fill(r, k.events, 0, args.events, dlq=False)
        fill(r, k.dlq, 0, args.dlq, dlq=True)
        seed_shape(bus, bus.clock(), args.events)
        print(f"filled {r.xlen(k.events):,} events, {r.xlen(k.dlq):,} DLQ entries, {HISTORY:,} history samples, "
              f"{METADATA:,} metadata entries in {time.perf_counter() - t0:.0f} s", flush=True)
        rt = build_runtime(bus, poll_s=0.05)
        web = Web(rt)

        # 1. pages
        rows: list[tuple[str, str, str, str, str]] = []
        cold = timed(lambda: web.page("/admin/events/dlq"), 1)[0]  # the first `dlq top`: reads the whole DLQ
        rows.append(("DLQ tab, first view (cold `dlq top`)", f"{cold:,.0f}", "", "", "1"))
        pages = [("Overview `/admin/events`", "/admin/events"),
                 ("Dead Letter Queue `/admin/events/dlq`", "/admin/events/dlq"),
                 ("DLQ tab filtered by type", "/admin/events/dlq?type=crm.contact.created")]
        for name, path in pages:
            t0 = time.perf_counter()
            html = web.page(path)  # the Overview's first view reads the day of history
            first = (time.perf_counter() - t0) * 1000
            assert "<table" in html
            print(f"{name}: first view {first:.1f} ms", flush=True)
            ts = timed(lambda: web.page(path), args.runs)  # noqa: B023
            rows.append((name, f"{statistics.median(ts):,.1f}", f"{p95(ts):,.1f}", f"{max(ts):,.1f}", str(args.runs)))
            print(f"{name}: p95 {p95(ts):.1f} ms", flush=True)
        api = [("API `GET /events/dlq/top`", "/events/dlq/top"),
               ("API `GET /events/dlq?limit=50`", "/events/dlq?limit=50")]
        for name, path in api:
            ts = timed(lambda: web.api.get(web.url + path).raise_for_status(), args.runs)  # noqa: B023
            rows.append((name, f"{statistics.median(ts):,.1f}", f"{p95(ts):,.1f}", f"{max(ts):,.1f}", str(args.runs)))
        print("\n| page | median ms | p95 ms | max ms | requests |\n|---|---|---|---|---|")
        for row in rows:
            print("| " + " | ".join(row) + " |")

        # 2. reprocess-type: the API and /bus in turn (the order alternating), each time on a
        #    fresh DLQ of 2 x moves entries, one of two of the moved type
        if args.rounds:
            compare(rt, web, args.moves, args.rounds)
    finally:
        if web is not None:
            web.stop()
        if rt is not None:
            rt.stop()
        server.stop()


if __name__ == "__main__":
    main()
