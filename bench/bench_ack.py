"""Slash-command ack latency: signed `/bus` commands, 20 at a time, through the
HTTP endpoint of `busbot serve` running as its own process, while each command's work is
slow (Redis behind a proxy that delays every reply, and a big DLQ for `dlq top`).

    python -m bench.bench_ack                         # 400 commands, 20 concurrent, +100 ms per Redis reply
    python -m bench.bench_ack --total 100 --delay-ms 0

The ack is the HTTP 200 Slack waits for (3 s limit); the answer is the later POST to
response_url, reported for contrast. Starts its own redis-server and Slack stand-in on
127.0.0.1 and prints a Markdown table.
"""
from __future__ import annotations

import argparse
import http.client
import os
import statistics
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from bench.bench_read import fill
from bench.slow_proxy import SlowProxy
from bot.connection import connect
from tests.e2e.slack_stub import SECRET, SlackStub, command_body, signed_headers
from tests.redis_server import RedisServer, free_port

ROOT = Path(__file__).resolve().parents[1]
COMMANDS = ["dlq top", "health", "events 20", "dlq list 10", "groups"]


def start_bot(port: int, redis_url: str, stub: SlackStub) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PORT": str(port), "REDIS_URL": redis_url,
           "SLACK_SIGNING_SECRET": SECRET, "SLACK_BOT_TOKEN": "xoxb-bench", "SLACK_API_URL": stub.api_url}
    proc = subprocess.Popen([sys.executable, "-m", "bot", "serve"], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/readyz")  # Slack accepted the token and Redis answers
            if conn.getresponse().status == 200:
                return proc
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit("busbot serve did not start")


def send(port: int, stub: SlackStub, n: int) -> tuple[float, float]:
    """One signed command; (ack seconds, time it was sent)."""
    body = command_body(COMMANDS[n % len(COMMANDS)], stub.response_url(f"b{n}"))
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    t0 = time.perf_counter()
    conn.request("POST", "/slack/events", body, signed_headers(body))
    resp = conn.getresponse()
    resp.read()
    ack = time.perf_counter() - t0
    assert resp.status == 200, resp.status
    return ack, t0


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * len(ordered) + 0.5)) - 1)]


def row(name: str, seconds: list[float]) -> str:
    ms = [s * 1000 for s in seconds]
    return (f"| {name} | {len(ms)} | {statistics.median(ms):.1f} | {pct(ms, 95):.1f} | "
            f"{pct(ms, 99):.1f} | {max(ms):.1f} |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--total", type=int, default=400)
    ap.add_argument("--concurrency", type=int, default=20)
    ap.add_argument("--delay-ms", type=float, default=100, help="added to every Redis reply")
    ap.add_argument("--dlq", type=int, default=50_000, help="DLQ entries (dlq top reads them all)")
    args = ap.parse_args()

    server = RedisServer().start()
    stub = SlackStub().start()
    try:
        r = connect(server.url)
        fill(r, "hyvve:events", 0, 10_000, dlq=False)
        fill(r, "hyvve:dlq", 0, args.dlq, dlq=True)
        r.xgroup_create("hyvve:events", "hyvve-platform", "0")
        proxy = SlowProxy(server.port, args.delay_ms / 1000).start()
        port = free_port()
        bot = start_bot(port, f"redis://127.0.0.1:{proxy.port}/0", stub)
        try:
            sent: dict[int, float] = {}
            lock = threading.Lock()

            def one(n: int) -> float:
                ack, t0 = send(port, stub, n)
                with lock:
                    sent[n] = t0
                return ack

            t_start = time.perf_counter()
            with ThreadPoolExecutor(args.concurrency) as pool:
                acks = list(pool.map(one, range(args.total)))
            wall = time.perf_counter() - t_start
            stub.wait_for(f"/response/b{args.total - 1}", timeout=600)
            deadline = time.monotonic() + 600
            while len(stub.arrivals("/response/b")) < args.total and time.monotonic() < deadline:
                time.sleep(0.1)
            arrived = stub.arrivals("/response/b")
            answers = [arrived[f"/response/b{n}"] - sent[n] for n in range(args.total)
                       if f"/response/b{n}" in arrived]
        finally:
            bot.terminate()
            bot.wait(15)
    finally:
        stub.stop()
        server.stop()

    print(f"{args.total} signed `/bus` commands ({', '.join(COMMANDS)} in turn), {args.concurrency} "
          f"concurrent, Redis replies delayed {args.delay_ms:g} ms, DLQ {args.dlq:,} entries; "
          f"sending took {wall:.1f} s\n")
    print("| measured | n | median ms | p95 ms | p99 ms | max ms |")
    print("|---|---|---|---|---|---|")
    print(row("ack (HTTP 200 to Slack)", acks))
    print(row("answer (POST to response_url)", answers))


if __name__ == "__main__":
    main()
