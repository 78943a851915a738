"""Event bus worker and publisher: worker throughput with a no-op handler against
a bare redis-py XREADGROUP/XACK loop in the same run, single publish latency, batch publish
throughput. Starts its own redis-server on a free port; prints Markdown.

    python -m bench.bench_eventbus                   # 50,000 events, 5 rounds
    python -m bench.bench_eventbus --events 20000 --rounds 3
"""
from __future__ import annotations

import argparse
import json
import statistics
import time

import redis

from bot.bus import Bus
from bot.connection import connect
from bot.eventbus.event import new_event
from bot.eventbus.handlers import Handlers
from bot.eventbus.publisher import Publisher
from bot.eventbus.worker import Worker, WorkerConfig, ensure_group
from bot.settings import Settings
from tests.redis_server import RedisServer

BATCH = 100


def bare_loop(r: redis.Redis, stream: str, group: str, n: int, kind: str) -> float:
    """What a hand-written consumer does: read 100, (parse,) ack them in one call; the
    `bare+writes` kind also writes the metadata entries the bus's conventions ask for, in
    the same round trip as the ack (a pipeline), but without the worker's atomicity."""
    r.xgroup_create(stream, group, "0")
    t0 = time.perf_counter()
    done = 0
    while done < n:
        [(_, entries)] = r.xreadgroup(group, "bare", {stream: ">"}, count=BATCH)
        ids = [eid for eid, _ in entries]
        if kind == "bare":
            r.xack(stream, group, *ids)
        else:
            events = [json.loads(fields["event"]) for _, fields in entries]
            if kind == "bare+json":
                r.xack(stream, group, *ids)
            else:
                p = r.pipeline(transaction=False)
                p.xack(stream, group, *ids)
                for eid, e in zip(ids, events):
                    p.xadd("bench:metadata", {
                        "eventId": e["id"], "type": e["type"], "status": "completed",
                        "durationMs": 0, "group": group, "consumer": "bare", "entryId": eid,
                        "attempts": 1}, maxlen=100_000, approximate=True)
                p.execute()
        done += len(entries)
    return n / (time.perf_counter() - t0)


def worker_loop(bus: Bus, group: str, n: int) -> float:
    """busbot's Worker, no-op handler: parse, dispatch, time limit, ack + metadata entry."""
    h = Handlers()
    h.register("*", lambda msg: None)
    w = Worker(bus, h, WorkerConfig(group, "bench", batch=BATCH, start_id="0"))
    ensure_group(bus, group, "0")
    t0 = time.perf_counter()
    while w.stats.completed < n:
        w.poll()
    return n / (time.perf_counter() - t0)


def server_cpu(r: redis.Redis) -> float:
    """CPU seconds the redis-server process has used (user + system)."""
    cpu = r.info("cpu")
    return cpu["used_cpu_user"] + cpu["used_cpu_sys"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=50_000)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--singles", type=int, default=5_000, help="single publishes timed")
    args = ap.parse_args()

    server = RedisServer().start()
    try:
        r = connect(server.url)
        bus = Bus(r, Settings(_env_file=None))
        pub = Publisher(bus)
        events = [new_event("crm.contact.created", {"contactId": f"ct_{i}", "email": "a@b.io"},
                            tenant="ws_acme", user="usr_1") for i in range(args.events)]
        for i in range(0, args.events, 1000):
            pub.publish_many(events[i:i + 1000])

        kinds = ["bare", "bare+json", "bare+writes", "worker"]
        runs: dict[str, list[float]] = {k: [] for k in kinds}
        server_us: dict[str, list[float]] = {k: [] for k in kinds}  # redis-server CPU/event
        for n in range(args.rounds):
            for kind in kinds if n % 2 == 0 else kinds[::-1]:
                group = f"{kind}-{n}"
                cpu0 = server_cpu(r)
                if kind == "worker":
                    runs[kind].append(worker_loop(bus, group, args.events))
                else:
                    runs[kind].append(bare_loop(r, bus.keys.events, group, args.events, kind))
                server_us[kind].append((server_cpu(r) - cpu0) * 1e6 / args.events)
                r.xgroup_destroy(bus.keys.events, group)
                r.delete(bus.keys.metadata, "bench:metadata")

        version = r.info("server")["redis_version"]
        single = []
        for i in range(args.singles):
            e = events[i]
            t0 = time.perf_counter()
            pub.publish(e)
            single.append((time.perf_counter() - t0) * 1000)
        batch_rates = {}
        for size in (100, 1000):
            rates = []
            for _ in range(args.rounds):
                t0 = time.perf_counter()
                for i in range(0, 20_000, size):
                    pub.publish_many(events[i % args.events:i % args.events + size])
                rates.append(20_000 / (time.perf_counter() - t0))
            batch_rates[size] = statistics.median(rates)
    finally:
        server.stop()

    med = {k: statistics.median(v) for k, v in runs.items()}
    print(f"{args.events:,} events of ~{len(json.dumps(events[0]))} bytes, {args.rounds} rounds "
          f"(median shown), one process, redis-server {version} on 127.0.0.1\n")
    print("| consumer (batch 100) | events/s | vs bare loop | vs bare loop + same writes | "
          "µs/event (redis-server CPU) |")
    print("|---|---|---|---|---|")
    for kind, label in (("bare", "bare XREADGROUP + XACK loop"),
                        ("bare+json", "bare loop + json.loads of each event"),
                        ("bare+writes", "bare loop + json.loads + XACK and a metadata XADD "
                                        "per event in one pipeline"),
                        ("worker", "busbot Worker, no-op handler (+ metadata entry each)")):
        print(f"| {label} | {med[kind]:,.0f} | {med[kind] / med['bare']:.0%} | "
              f"{med[kind] / med['bare+writes']:.0%} | {1e6 / med[kind]:.1f} "
              f"({statistics.median(server_us[kind]):.1f}) |")
    print()
    print("| publish | result |")
    print("|---|---|")
    q = statistics.quantiles(single, n=100)
    print(f"| single `publish`, {args.singles:,} calls | p50 {statistics.median(single):.3f} ms, "
          f"p95 {q[94]:.3f} ms, p99 {q[98]:.3f} ms |")
    for size, rate in batch_rates.items():
        print(f"| `publish_many`, batches of {size:,} | {rate:,.0f} events/s |")


if __name__ == "__main__":
    main()
