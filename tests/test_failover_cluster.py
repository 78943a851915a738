"""A reprocess job through a failover on a Redis Cluster with replicas (3 primaries and 3
replicas on free ports, cluster-node-timeout 1000 ms). With the platform's default names the
DLQ, the main stream and the job's hash are in different slots, the DLQ and the main stream
on different primaries, so each batch is the two-script move (copy in the main stream's
slot, commit in the DLQ's). A primary is killed with SIGKILL mid-job: the job pauses while
the cluster is down, resumes on the promoted replica and finishes; lost and duplicated
entries are counted by envelope `id` and by `reprocessedFrom`.

The default run kills the DLQ's primary once. The measurement (docs/redis.md, "Cluster
failover") runs several trials each way, killing the DLQ's primary or the main stream's,
with and without BUS_WAIT_REPLICAS:
    CI=1 python -m pytest -m chaos -s -p no:cacheprovider tests/test_failover_cluster.py
BUSBOT_CLUSTER_FAILOVER_TRIALS (3) sizes it."""
from __future__ import annotations

import json
import os
import time
from collections import Counter
from collections.abc import Callable, Iterator

import pytest
import redis

from bot.bus import Bus
from bot.connection import open_bus
from bot.jobs.model import Job
from bot.jobs.mover import split
from bot.jobs.runner import Hooks, JobRunner
from bot.settings import Settings
from tests.jobs_helpers import new_job, seed_dlq
from tests.redis_server import RedisCluster, require_binary, until

N = 20_000
BATCH = 200
TRIALS = int(os.environ.get("BUSBOT_CLUSTER_FAILOVER_TRIALS", "3"))
HOLD_S = 2.0  # how long the dying primary's replica falls behind before the kill (measurement)


@pytest.fixture
def cluster() -> Iterator[RedisCluster]:
    """3 primaries, 3 replicas; every node stopped at teardown, whatever the test did."""
    if not require_binary():
        pytest.skip("needs redis-server")
    setup = RedisCluster(replicas=1, node_timeout_ms=1000)
    setup.start()
    try:
        yield setup
    finally:
        setup.stop()


class Notes(Hooks):
    """Keeps every note the runner shows (a pause names its cause there)."""

    def __init__(self) -> None:
        self.notes: list[str] = []

    def progress(self, bus: Bus, job: Job, final: bool = False) -> None:
        if job.note:
            self.notes.append(job.note)


def on_node(port: int, read: Callable[[redis.Redis], object]) -> int:
    """`read` on the node on `port` itself (a primary or a replica), as a number."""
    client = redis.Redis(port=port, decode_responses=True, single_connection_client=True)
    try:
        client.execute_command("READONLY")
        return int(read(client) or 0)  # type: ignore[call-overload]
    finally:
        client.close()


def moved_on(port: int, key: str) -> int:
    """The job's moved count as the node on `port` holds it."""
    return on_node(port, lambda c: c.hget(key, "moved"))


def outcome(bus: Bus, job_id: str, n: int) -> dict[str, int]:
    """Lost and written-twice entries of the job, by `reprocessedFrom` and by envelope id."""
    expected_ids = {f"{1000 + i}-0" for i in range(n)}
    expected_envelopes = {f"evt_{i}" for i in range(n)}
    sources: list[str] = []
    envelopes: list[str] = []
    last = "-"
    while True:
        rows = bus.r.xrange(bus.keys.events, last, "+", count=10_000)
        for _, f in rows:
            if f.get("reprocessJob") == job_id:
                sources.append(f["reprocessedFrom"])
                envelopes.append(json.loads(f["event"])["id"])
        if len(rows) < 10_000:
            break
        last = "(" + rows[-1][0]
    rest = bus.r.xrange(bus.keys.dlq)
    left = {eid for eid, _ in rest}
    left_envelopes = {json.loads(f["event"])["id"] for _, f in rest}
    return {"lost": len(expected_ids - set(sources) - left),
            "lost by envelope id": len(expected_envelopes - set(envelopes) - left_envelopes),
            "twice": sum(c - 1 for c in Counter(sources).values()),
            "twice by envelope id": sum(c - 1 for c in Counter(envelopes).values()),
            "left in DLQ": len(left)}


def run_through_failover(cluster: RedisCluster, victim: str, wait_replicas: int, rate: int,
                         kill_after: int, hold_s: float = 0) -> dict[str, object]:
    """Seed N DLQ entries, start a reprocess at `rate`, SIGKILL the primary of `victim`
    ("dlq" or "events") once `kill_after` entries moved, let its replica take over, bring the
    old primary back as a replica (so BUS_WAIT_REPLICAS=1 can be met again), and wait for
    the job to complete. `hold_s`: the victim's replica stops receiving its stream that
    long before the kill (a lagging replica). Returns the counts and what the runner said
    meanwhile."""
    bus = open_bus(Settings(_env_file=None, redis_url=cluster.url, bus_wait_replicas=wait_replicas,
                            bus_wait_timeout=1.0))
    assert bus.cluster
    dlq_port, events_port = cluster.primary_of(bus.keys.dlq), cluster.primary_of(bus.keys.events)
    assert dlq_port != events_port
    victim_port = dlq_port if victim == "dlq" else events_port
    replica = cluster.replica_of(victim_port)
    relay = cluster.relay(victim_port) if hold_s else None
    seed_dlq(bus.r, bus.keys.dlq, N)
    cluster.wait_ok()
    job = new_job(bus, "reprocess", bus.keys.dlq, bus.keys.events, {}, upper=f"{1000 + N - 1}-0",
                  rate=rate, batch=BATCH, to_move=N)
    assert split(bus, job)
    job_key = bus.keys.job(job.id)
    assert cluster.primary_of(job_key) == dlq_port  # the job's hash is in the DLQ's slot
    hooks = Notes()
    runner = JobRunner(bus, hooks=hooks, poll_s=0.05)
    runner.start()
    try:
        until("the job moving", lambda: moved_on(dlq_port, job_key) >= kill_after)
        if relay is not None:
            relay.hold()
            time.sleep(hold_s)  # the measured scenario: the replica is hold_s behind (not a synchronisation)
        at_kill = moved_on(dlq_port, job_key)
        copies_at_kill = on_node(events_port, lambda c: c.xlen(bus.keys.events))
        t0 = time.monotonic()
        cluster.kill(victim_port)
        # the job's hash and the main stream as they are after the failover (the replica of
        # the dead primary, the live primary for the other)
        kept = moved_on(replica if victim == "dlq" else dlq_port, job_key)
        copies_kept = on_node(replica if victim == "events" else events_port, lambda c: c.xlen(bus.keys.events))
        assert cluster.wait_failover(bus.keys.dlq if victim == "dlq" else bus.keys.events, victim_port) == replica
        failover_s = time.monotonic() - t0
        cluster.restart(victim_port)
        until("the job completing after the failover",
              lambda: bus.r.hget(job_key, "status") == "COMPLETED")
        resumed_s = time.monotonic() - t0
        final_moved = int(bus.r.hget(job_key, "moved") or 0)
        counts = outcome(bus, job.id, N)
    finally:
        runner.stop()
        runner.join(15)
        bus.r.close()
    return {"victim": victim, "wait": wait_replicas, "at kill": at_kill, "moved again": at_kill - kept,
            "copies forgotten": copies_at_kill - copies_kept, "moved": final_moved,
            "failover s": round(failover_s, 1),
            "done s": round(resumed_s, 1), "paused": any(n.startswith("paused:") for n in hooks.notes),
            **counts}


def test_a_reprocess_job_survives_the_dlq_primary_dying(cluster):
    result = run_through_failover(cluster, "dlq", 0, rate=4000, kill_after=4000)
    print(f"\n{result}")
    assert result["paused"], "the runner never said it was waiting for Redis"
    assert result["moved"] == N
    assert (result["lost"], result["lost by envelope id"]) == (0, 0)
    assert (result["twice"], result["twice by envelope id"]) == (0, 0)
    assert result["left in DLQ"] == 0


@pytest.mark.chaos
@pytest.mark.parametrize("trial", range(TRIALS))
@pytest.mark.parametrize("wait_replicas", [0, 1])
@pytest.mark.parametrize("victim", ["dlq", "events"])
def test_what_a_cluster_failover_costs(cluster, victim, wait_replicas, trial):
    """The DLQ's primary (the commit side and the job's hash) or the main stream's (the copy
    side) dies at a point that varies with the trial, its replica HOLD_S behind. Nothing may
    be written twice; with BUS_WAIT_REPLICAS=1 nothing may be lost."""
    result = run_through_failover(cluster, victim, wait_replicas, rate=2000, kill_after=2000 + 3000 * trial,
                                  hold_s=HOLD_S)
    print(f"\n{result}")
    assert result["paused"]
    assert (result["twice"], result["twice by envelope id"], result["left in DLQ"]) == (0, 0, 0)
    if wait_replicas or victim == "dlq":
        assert (result["lost"], result["lost by envelope id"]) == (0, 0)
    else:  # the copies the main stream's replica never got, their deletes committed: gone
        assert result["lost"] == result["lost by envelope id"] <= result["copies forgotten"]
    if wait_replicas and victim == "events":
        assert result["copies forgotten"] <= BATCH  # at most the copy in flight, never committed
