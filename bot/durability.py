"""Waiting for replicas: `BUS_WAIT_REPLICAS=N` makes a job's batch count as done only once N
replicas hold it.

Redis replicates asynchronously: a batch the primary has applied (entries copied to the
target, deleted from the source, the job's cursor moved, all in one script) may not have
reached a replica when the primary dies. The promoted replica then holds the job as it was
before that batch: nothing is lost and nothing is doubled in Redis (the batch is all or
nothing there too), but the batch runs again, and consumers that read its entries from
the old primary see them a second time. `WAIT N timeout` after each batch bounds that to
the one batch in flight.

WAIT only counts the writes of the connection it is sent on, so the script and its WAIT go
over one connection: `run_script()` does both; `wait_replicas()` is the WAIT alone, for a
caller that pins its own connection (`pinned()`).

On a Redis Cluster a move between slots writes in two shards (bot/jobs/twostep.py): with
replicas and no waiting, a failover of the target's shard loses the copies its replica had
not received, so `cluster_unwaited()` warns at start-up and in `/bus redis`.
"""
from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import redis

from bot.bus import Bus
from bot.redis_errors import UNREACHABLE, NotReplicated

log = logging.getLogger(__name__)

TRIES = 5  # WAITs on one connection before the batch is reported as not replicated


def wanted(bus: Bus) -> int:
    """How many replicas must hold a batch (0: no waiting; never on a Redis Cluster, where
    WAIT answers for one shard only, nor on the embedded demo Redis)."""
    n = bus.settings.bus_wait_replicas
    return n if n > 0 and bus.mode in ("standalone", "sentinel") else 0


@contextmanager
def pinned(bus: Bus) -> Iterator[redis.Redis]:
    """A client whose commands all go over one connection of the bus's pool (the bus's own
    client when no waiting is asked for)."""
    if not wanted(bus):
        yield bus.r
        return
    client = bus.r.client()
    try:
        yield client
    finally:
        client.close()


def wait_replicas(bus: Bus, client: redis.Redis, n: int | None = None) -> int:
    """`WAIT n timeout` on `client`, the connection that made the writes; retried on it a
    few times (a replica reconnecting catches up), then NotReplicated. Returns how many
    replicas acknowledged (0 when none are wanted)."""
    n = wanted(bus) if n is None else n
    if n <= 0:
        return 0
    timeout_ms = max(1, int(bus.settings.bus_wait_timeout * 1000))
    acked = 0
    for attempt in range(1, TRIES + 1):
        acked = int(client.wait(n, timeout_ms))
        if acked >= n:
            return acked
        log.warning("%d of %d replicas hold the last batch after %.1fs (try %d of %d)", acked, n,
                    bus.settings.bus_wait_timeout, attempt, TRIES)
    raise NotReplicated(f"only {acked} of {n} replicas acknowledged the batch within "
                        f"{TRIES} x {bus.settings.bus_wait_timeout:g}s (BUS_WAIT_REPLICAS)")


def run_script(bus: Bus, name: str, keys: Sequence[Any], args: Sequence[Any]) -> Any:
    """`bus.scripts.get(name)(keys, args)`, then, with BUS_WAIT_REPLICAS, WAIT on the same
    connection before the result counts."""
    script = bus.scripts.get(name)
    with pinned(bus) as client:  # the bus's own client when no waiting is asked for
        result = script(keys=list(keys), args=list(args), client=client)
        wait_replicas(bus, client)  # returns at once then
        return result


def replicas_short(bus: Bus) -> str | None:
    """A warning when fewer replicas are connected than BUS_WAIT_REPLICAS asks for (jobs
    would pause at their first batch); None when enough are, or when it cannot be told."""
    n = wanted(bus)
    if not n:
        return None
    try:
        connected = int(bus.r.info("replication").get("connected_slaves", 0))
    except (redis.RedisError, ValueError):
        return None
    if connected >= n:
        return None
    return (f"BUS_WAIT_REPLICAS={n} but Redis at {bus.where} has {connected} replica(s) connected: "
            "jobs will pause at their first batch until enough replicas are.")


def cluster_unwaited(bus: Bus, replicas: int) -> str | None:
    """A warning for a Redis Cluster whose primaries have up to `replicas` connected replicas
    while BUS_WAIT_REPLICAS is 0: a failover of the shard a job copies into forgets the copies
    its replica had not received, whose deletes the source's shard has already committed.
    None elsewhere, or when waiting is asked for."""
    if not bus.cluster or replicas < 1 or bus.settings.bus_wait_replicas > 0:
        return None
    return ("BUS_WAIT_REPLICAS is 0 on a Redis Cluster with replicas, so a failover of a job's target "
            "shard can lose the entries its replica had not received yet. Set `BUS_WAIT_REPLICAS=1` "
            "(docs/redis.md, \"Cluster failover\").")


def cluster_replicas(bus: Bus) -> int:
    """The most replicas any primary of the cluster has connected (0 when it cannot be told)."""
    try:
        answers = bus.r.info("replication", target_nodes=redis.RedisCluster.PRIMARIES)  # type: ignore[call-arg]
        if not isinstance(answers, dict):
            return 0
        # one primary: its own answer; several: one answer per node
        per_node = [answers] if "role" in answers else [a for a in answers.values() if isinstance(a, dict)]
        return max((int(a.get("connected_slaves", 0)) for a in per_node), default=0)
    except UNREACHABLE:
        return 0
    except (redis.RedisError, ValueError):  # INFO refused (ACL, managed Redis) or not a number
        return 0


def cluster_not_waited(bus: Bus) -> str | None:
    """`cluster_unwaited()` for the cluster as it is now (start-up asks)."""
    if not bus.cluster or bus.settings.bus_wait_replicas > 0:
        return None
    return cluster_unwaited(bus, cluster_replicas(bus))
