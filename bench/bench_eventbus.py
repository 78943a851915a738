"""Event bus worker and publisher: worker throughput with a no-op handler against bare
redis-py XREADGROUP/XACK loops in the same run (without writes, and with the metadata entry
the worker writes per event), with the CPU each side spends per event; single publish
latency, batch publish throughput. Starts its own redis-server on a free port; prints
Markdown.

    python -m bench.bench_eventbus                   # 50,000 events, 5 rounds
    python -m bench.bench_eventbus --events 5000 --rounds 9
    python -m bench.bench_eventbus --events 500000 --rounds 3
    python -m bench.bench_eventbus --profile         # + where one worker run spends its time
"""
from __future__ import annotations

import argparse
import statistics
import time

import orjson
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


def bare_loop(r: redis.Redis, bus: Bus, group: str, n: int, kind: str) -> float:
    """What a hand-written consumer does: read 100, (parse,) acknowledge them in one call.
    The `+writes` kinds also write the metadata entry the bus's conventions ask for, one per
    event, in the same round trip as the acknowledgement: `pipeline` as redis-py's pipeline
    (XACK and an XADD per event), `script` as one call of the worker's own settle script
    (the same server work as the worker, the cheapest way found to send it)."""
    stream = bus.keys.events
    settle = bus.scripts.get("eventbus_settle")
    keys = [stream, bus.keys.metadata, bus.keys.worker_counts(group)]
    r.xgroup_create(stream, group, "0")
    t0 = time.perf_counter()
    done = 0
    while done < n:
        [(_, entries)] = r.xreadgroup(group, "bare", {stream: ">"}, count=BATCH)
        ids = [eid for eid, _ in entries]
        if kind == "bare":
            r.xack(stream, group, *ids)
        else:
            events = [orjson.loads(fields["event"]) for _, fields in entries]
            if kind == "bare+json":
                r.xack(stream, group, *ids)
            elif kind == "bare+pipeline":
                p = r.pipeline(transaction=False)
                p.xack(stream, group, *ids)
                for eid, e in zip(ids, events):
                    p.xadd(bus.keys.metadata, {
                        "eventId": e["id"], "type": e["type"], "status": "completed",
                        "durationMs": 0, "group": group, "consumer": "bare", "entryId": eid,
                        "attempts": 1}, maxlen=100_000, approximate=True)
                p.execute()
            else:
                rows = [(eid, e["id"], e["type"], "completed", 0, 1)
                        for eid, e in zip(ids, events)]
                settle(keys=keys, args=[group, "bare", 100_000, orjson.dumps(rows)])
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
    rate = n / (time.perf_counter() - t0)
    w.close()
    return rate


def profile_worker(bus: Bus, n: int) -> None:
    """Where the worker's own time goes (cProfile, top functions by own time)."""
    import cProfile
    import pstats

    pr = cProfile.Profile()
    pr.enable()
    worker_loop(bus, "profiled", n)
    pr.disable()
    bus.r.xgroup_destroy(bus.keys.events, "profiled")
    pstats.Stats(pr).sort_stats("tottime").print_stats(15)


def server_cpu(r: redis.Redis) -> float:
    """CPU seconds the redis-server process has used (user + system)."""
    cpu = r.info("cpu")
    return cpu["used_cpu_user"] + cpu["used_cpu_sys"]


def make_events(n: int, start: int = 0) -> list[dict]:
    return [new_event("crm.contact.created", {"contactId": f"ct_{i}", "email": "a@b.io"},
                      tenant="ws_acme", user="usr_1") for i in range(start, start + n)]


KINDS = ("bare", "bare+json", "bare+pipeline", "bare+script", "worker")
LABELS = {
    "bare": "bare `XREADGROUP` + one `XACK` per batch",
    "bare+json": "bare loop + `orjson.loads` of each event",
    "bare+pipeline": "bare loop + parse + `XACK` and a metadata `XADD` per event, one pipeline",
    "bare+script": "bare loop + parse + `XACK` and a metadata `XADD` per event, one script call",
    "worker": "**busbot `Worker`, no-op handler** (+ metadata entry each)",
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=50_000)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--singles", type=int, default=5_000, help="single publishes timed")
    ap.add_argument("--profile", action="store_true",
                    help="also print a cProfile of one worker run")
    args = ap.parse_args()

    server = RedisServer().start()
    try:
        r = connect(server.url)
        bus = Bus(r, Settings(_env_file=None))
        pub = Publisher(bus)
        for i in range(0, args.events, 10_000):  # in chunks: 500,000 events held at once
            chunk = make_events(min(10_000, args.events - i), i)  # would need gigabytes
            for j in range(0, len(chunk), 1000):
                pub.publish_many(chunk[j:j + 1000])
        size = len(orjson.dumps(make_events(1)[0]))

        runs: dict[str, list[float]] = {k: [] for k in KINDS}
        server_us: dict[str, list[float]] = {k: [] for k in KINDS}  # redis-server CPU/event
        client_us: dict[str, list[float]] = {k: [] for k in KINDS}  # this process's CPU/event
        for n in range(args.rounds):
            for kind in KINDS if n % 2 == 0 else KINDS[::-1]:
                group = f"{kind}-{n}"
                cpu0, own0 = server_cpu(r), time.process_time()
                if kind == "worker":
                    runs[kind].append(worker_loop(bus, group, args.events))
                else:
                    runs[kind].append(bare_loop(r, bus, group, args.events, kind))
                client_us[kind].append((time.process_time() - own0) * 1e6 / args.events)
                server_us[kind].append((server_cpu(r) - cpu0) * 1e6 / args.events)
                r.xgroup_destroy(bus.keys.events, group)
                r.delete(bus.keys.metadata, bus.keys.worker_counts(group))
        if args.profile:
            profile_worker(bus, args.events)

        version = r.info("server")["redis_version"]
        events = make_events(max(args.singles, 20_000))
        single = []
        for i in range(args.singles):
            e = events[i]
            t0 = time.perf_counter()
            pub.publish(e)
            single.append((time.perf_counter() - t0) * 1000)
        batch_rates = {}
        for batch in (100, 1000):
            rates = []
            for _ in range(args.rounds):
                t0 = time.perf_counter()
                for i in range(0, 20_000, batch):
                    pub.publish_many(events[i:i + batch])
                rates.append(20_000 / (time.perf_counter() - t0))
            batch_rates[batch] = statistics.median(rates)
    finally:
        server.stop()

    def best_writes(i: int) -> float:
        return max(runs["bare+pipeline"][i], runs["bare+script"][i])

    med = {k: statistics.median(v) for k, v in runs.items()}
    ratio = [runs["worker"][i] / best_writes(i) for i in range(args.rounds)]
    print(f"{args.events:,} events of {size} bytes, {args.rounds} rounds (median shown), one "
          f"process, redis-server {version} on 127.0.0.1\n")
    print("| consumer (batch 100) | events/s | vs bare loop | vs bare loop + same writes "
          "(the faster of the two) | wall µs/event | CPU µs/event: client + redis-server |")
    print("|---|---|---|---|---|---|")
    for kind in KINDS:
        vs_writes = statistics.median(
            [runs[kind][i] / best_writes(i) for i in range(args.rounds)])
        print(f"| {LABELS[kind]} | {med[kind]:,.0f} | {med[kind] / med['bare']:.0%} | "
              f"{vs_writes:.0%} | {1e6 / med[kind]:.1f} | "
              f"{statistics.median(client_us[kind]):.1f} + "
              f"{statistics.median(server_us[kind]):.1f} |")
    print(f"\nworker / (bare loop + same writes), each round: "
          f"{', '.join(f'{x:.0%}' for x in ratio)}\n")
    print("| publish | result |")
    print("|---|---|")
    q = statistics.quantiles(single, n=100)
    print(f"| single `publish`, {args.singles:,} calls | p50 {statistics.median(single):.3f} ms, "
          f"p95 {q[94]:.3f} ms, p99 {q[98]:.3f} ms |")
    for batch, rate in batch_rates.items():
        print(f"| `publish_many`, batches of {batch:,} | {rate:,.0f} events/s |")


if __name__ == "__main__":
    main()
