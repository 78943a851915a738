"""kill -9 the process running a job on a 3-primary Redis Cluster, at a random moment, and
let another process resume it. With the platform's default names the DLQ, the main stream
and the replay target are in different slots, so every batch is the two-script move
(bot/jobs/twostep.py): the kill lands between, inside or after its scripts.

A long test, excluded by default (`-m chaos`); results are recorded in docs/redis.md:
    CI=1 python -m pytest -m chaos -s -p no:cacheprovider tests/test_jobs_cluster_crash.py
BUSBOT_CLUSTER_CRASH_TRIALS (20) and BUSBOT_CLUSTER_CRASH_N (100000) size it.
"""
from __future__ import annotations

import json
import os
import random
from collections import Counter

import pytest

from bot.bus import Bus
from bot.jobs import store
from bot.jobs.mover import split
from bot.settings import Settings
from tests.jobs_helpers import TYPES, copies, new_job, seed_dlq, seed_events
from tests.test_jobs_crash import LEASE_S, _finish_elsewhere, _kill_midway, _rate

pytestmark = pytest.mark.chaos

TRIALS = int(os.environ.get("BUSBOT_CLUSTER_CRASH_TRIALS", "20"))
N = int(os.environ.get("BUSBOT_CLUSTER_CRASH_N", "100000"))
REPLAY_TARGET = "hyvve:events:replay"


@pytest.fixture
def crash_bus(cluster_r):
    bus = Bus(cluster_r, Settings(_env_file=None, bus_job_lease=LEASE_S))
    assert bus.cluster
    return bus


def _envelope_ids(bus: Bus, stream: str, job_id: str) -> list[str]:
    out, last = [], "-"
    while True:
        rows = bus.r.xrange(stream, last, "+", count=10_000)
        out += [json.loads(f["event"])["id"] for _, f in rows if f.get("reprocessJob") == job_id]
        if len(rows) < 10_000:
            return out
        last = "(" + rows[-1][0]


@pytest.mark.parametrize("trial", range(TRIALS))
def test_reprocess_between_slots_survives_kill_9(crash_bus, redis_cluster, trial):
    bus, rng = crash_bus, random.Random(trial)
    seed_dlq(bus.r, bus.keys.dlq, N)
    want = {f"{1000 + i}-0" for i in range(N) if i % 3 != 2}
    job = new_job(bus, "reprocess", bus.keys.dlq, bus.keys.events, {"types": list(TYPES[:2])},
                  upper=f"{1000 + N - 1}-0", to_move=len(want), rate=_rate(len(want)))
    assert split(bus, job)
    at_kill = _kill_midway(bus, redis_cluster.url, job.id, rng)
    _finish_elsewhere(redis_cluster.url)
    done = store.get(bus, job.id)
    moved = copies(bus.r, bus.keys.events, job.id, "reprocessedFrom", "reprocessJob")
    envelopes = _envelope_ids(bus, bus.keys.events, job.id)
    print(f"reprocess trial {trial}: killed at {at_kill:,}/{len(want):,} moved; "
          f"lost {len(want - set(moved))}, duplicated {len(moved) - len(set(moved))} by reprocessedFrom, "
          f"{len(envelopes) - len(set(envelopes))} by envelope id")
    assert done.status == "COMPLETED" and done.moved == len(want)
    assert max(Counter(moved).values()) == 1 and set(moved) == want
    assert len(envelopes) == len(set(envelopes)) == len(want)
    left = {i for i, _ in bus.r.xrange(bus.keys.dlq)}
    assert left == {f"{1000 + i}-0" for i in range(N)} - want


@pytest.mark.parametrize("trial", range(TRIALS))
def test_replay_between_slots_survives_kill_9(crash_bus, redis_cluster, trial):
    bus, rng = crash_bus, random.Random(1000 + trial)
    seed_events(bus.r, bus.keys.events, N)
    want = [f"{1_000_000 + i}-0" for i in range(N) if i % 3 == 0 and i % 2 == 0]
    job = new_job(bus, "replay", bus.keys.events, REPLAY_TARGET, {"types": [TYPES[0]], "tenant": "ws_0"},
                  start="1000000-0", upper=f"{1_000_000 + N - 1}-0", to_move=len(want), rate=_rate(len(want)))
    assert split(bus, job)
    at_kill = _kill_midway(bus, redis_cluster.url, job.id, rng)
    _finish_elsewhere(redis_cluster.url)
    copied = copies(bus.r, REPLAY_TARGET, job.id, "replayOf", "replayJob")
    print(f"replay trial {trial}: killed at {at_kill:,}/{len(want):,} copied; "
          f"lost {len(set(want) - set(copied))}, duplicated {len(copied) - len(set(copied))} by replayOf")
    assert store.get(bus, job.id).status == "COMPLETED"
    assert sorted(copied) == want  # each source entry exactly once
    assert bus.r.xlen(bus.keys.events) == N and bus.r.xlen(REPLAY_TARGET) == len(want)
