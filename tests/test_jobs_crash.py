"""kill -9 the process running a job at a random moment; another process resumes it.

Default suite: a short version. The full run (100,000 entries, >= 20 trials):
    BUSBOT_CRASH_TRIALS=20 BUSBOT_CRASH_N=100000 python -m pytest -q tests/test_jobs_crash.py

The jobs are throttled to last about two seconds, so the kill lands mid-job however busy
the machine is (each trial asserts that it did).
"""
from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter

import pytest

from bot.bus import Bus
from bot.jobs import store
from bot.settings import Settings
from tests.jobs_helpers import TYPES, copies, new_job, seed_dlq, seed_events

TRIALS = int(os.environ.get("BUSBOT_CRASH_TRIALS", "2"))
N = int(os.environ.get("BUSBOT_CRASH_N", "20000"))
LEASE_S = 2
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _child(url: str) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-m", "tests.job_child", url, str(LEASE_S)], cwd=ROOT,
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().startswith("ready")
    return proc


def _rate(to_move: int) -> int:
    """Events/s for a job of `to_move` entries to take about two seconds."""
    return max(1000, to_move // 2)


def _kill_midway(bus: Bus, url: str, job_id: str, rng: random.Random) -> int:
    """Start a runner, kill -9 it once the job has moved a random share; returns moved then,
    after checking the kill landed mid-job (something moved, not everything)."""
    to_move = store.get(bus, job_id).to_move
    target = rng.randint(1, max(1, int(to_move * 0.8)))
    key = bus.keys.job(job_id)
    proc = _child(url)
    deadline = time.monotonic() + 60
    while int(bus.r.hget(key, "moved")) < target and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.002)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    moved_at_kill = store.get(bus, job_id).moved
    assert 0 < moved_at_kill < to_move, f"the kill did not land mid-job ({moved_at_kill:,}/{to_move:,})"
    return moved_at_kill


def _finish_elsewhere(url: str) -> None:
    proc = _child(url)
    assert proc.wait(120) == 0


@pytest.fixture
def crash_bus(real_r):
    return Bus(real_r, Settings(_env_file=None, bus_job_lease=LEASE_S))


@pytest.mark.real_redis
@pytest.mark.parametrize("trial", range(TRIALS))
def test_reprocess_survives_kill_9(crash_bus, redis_server, trial):
    bus, rng = crash_bus, random.Random(trial)
    seed_dlq(bus.r, bus.keys.dlq, N)
    params = {"types": list(TYPES[:2])}  # two of three types: a third stays behind
    want = {f"{1000 + i}-0" for i in range(N) if i % 3 != 2}
    job = new_job(bus, "reprocess", bus.keys.dlq, bus.keys.events, params, upper=f"{1000 + N - 1}-0",
                  to_move=len(want), rate=_rate(len(want)))
    at_kill = _kill_midway(bus, redis_server.url, job.id, rng)
    _finish_elsewhere(redis_server.url)
    done = store.get(bus, job.id)
    moved = copies(bus.r, bus.keys.events, job.id, "reprocessedFrom", "reprocessJob")
    print(f"trial {trial}: killed at {at_kill:,}/{len(want):,} moved")
    assert done.status == "COMPLETED" and done.moved == len(want)
    assert max(Counter(moved).values()) == 1 and set(moved) == want
    assert bus.r.xlen(bus.keys.events) == len(want)
    left = {i for i, _ in bus.r.xrange(bus.keys.dlq)}
    assert left == {f"{1000 + i}-0" for i in range(N)} - want


@pytest.mark.real_redis
@pytest.mark.parametrize("trial", range(TRIALS))
def test_replay_survives_kill_9(crash_bus, redis_server, trial):
    bus, rng = crash_bus, random.Random(1000 + trial)
    seed_events(bus.r, bus.keys.events, N)
    want = [f"{1_000_000 + i}-0" for i in range(N) if i % 3 == 0 and i % 2 == 0]
    job = new_job(bus, "replay", bus.keys.events, bus.keys.events, {"types": [TYPES[0]], "tenant": "ws_0"},
                  start="1000000-0", upper=f"{1_000_000 + N - 1}-0", to_move=len(want),
                  rate=_rate(len(want)))
    at_kill = _kill_midway(bus, redis_server.url, job.id, rng)
    _finish_elsewhere(redis_server.url)
    copied = copies(bus.r, bus.keys.events, job.id, "replayOf", "replayJob", start=f"{1_000_000 + N}")
    print(f"trial {trial}: killed at {at_kill:,}/{len(want):,} copied")
    assert store.get(bus, job.id).status == "COMPLETED"
    assert sorted(copied) == want  # each source entry exactly once
    assert bus.r.xlen(bus.keys.events) == N + len(want)


@pytest.mark.real_redis
def test_two_runner_processes_share_jobs_and_take_over(crash_bus, redis_server):
    """Two jobs, two processes: each job is run by exactly one; when one dies, the other
    finishes its job from the cursor."""
    bus = crash_bus
    seed_dlq(bus.r, bus.keys.dlq, 20_000)
    seed_events(bus.r, bus.keys.events, 20_000)
    a = new_job(bus, "reprocess", bus.keys.dlq, bus.keys.events, {}, upper="20999-0", rate=4000,
                to_move=20_000)
    b = new_job(bus, "replay", bus.keys.events, bus.keys.events, {}, start="1000000-0",
                upper="1019999-0", rate=4000, to_move=20_000)
    p1, p2 = _child(redis_server.url), _child(redis_server.url)
    deadline = time.monotonic() + 30
    owners = {}
    while len(owners) < 2 and time.monotonic() < deadline:
        for j in (a, b):
            h = bus.r.get(bus.keys.job_lease(j.id))
            if h:
                owners[j.id] = h
        time.sleep(0.01)
    assert len(set(owners.values())) == 2  # one job each
    os.kill(p1.pid, signal.SIGKILL)
    p1.wait()
    assert p2.wait(120) == 0
    assert store.get(bus, a.id).status == store.get(bus, b.id).status == "COMPLETED"
    moved = copies(bus.r, bus.keys.events, a.id, "reprocessedFrom", "reprocessJob")
    replayed = copies(bus.r, bus.keys.events, b.id, "replayOf", "replayJob", start="1020000")
    assert len(moved) == len(set(moved)) == 20_000 and len(replayed) == len(set(replayed)) == 20_000
