"""Redis stops answering mid-job (the server process is frozen with SIGSTOP, so clients
time out as on a network cut): the job pauses, says so, and resumes without duplicates."""
from __future__ import annotations

import os
import signal
import threading
import time

import pytest
import redis

from bot.bus import Bus
from bot.jobs import lease, store
from bot.jobs.runner import Hooks, run_job
from bot.settings import Settings
from tests.jobs_helpers import copies, new_job, seed_dlq
from tests.redis_server import freezable_server


class Notes(Hooks):
    def __init__(self):
        self.notes: list[str] = []

    def progress(self, bus, job, final=False):
        self.notes.append(job.note or ("final " + job.status if final else ""))


frozen_server = pytest.fixture(name="frozen_server")(freezable_server)


@pytest.mark.real_redis
def test_job_pauses_while_redis_is_unreachable_and_resumes(frozen_server):
    r = redis.Redis.from_url(frozen_server.url, decode_responses=True, socket_timeout=0.3,
                             socket_connect_timeout=0.3)
    bus = Bus(r, Settings(_env_file=None, bus_job_lease=30))
    seed_dlq(r, bus.keys.dlq, 6000)
    job = new_job(bus, "reprocess", bus.keys.dlq, bus.keys.events, {}, upper="6999-0", rate=3000,
                  batch=100, to_move=6000)
    assert lease.acquire(bus, job.id, "me")
    hooks = Notes()
    worker = threading.Thread(target=run_job, args=(bus, job.id, "me", hooks))
    worker.start()
    deadline = time.monotonic() + 30
    while int(r.hget(bus.keys.job(job.id), "moved") or 0) == 0:  # the job is under way
        assert time.monotonic() < deadline and worker.is_alive()
        time.sleep(0.01)
    os.kill(frozen_server.proc.pid, signal.SIGSTOP)
    time.sleep(1.5)  # the length of the outage, not a synchronisation
    os.kill(frozen_server.proc.pid, signal.SIGCONT)
    worker.join(60)
    done = store.get(bus, job.id)
    assert done.status == "COMPLETED" and done.moved == 6000
    moved = copies(r, bus.keys.events, job.id, "reprocessedFrom", "reprocessJob")
    assert len(moved) == len(set(moved)) == 6000 and r.xlen(bus.keys.dlq) == 0
    # the freeze hit mid-job, and the note names it
    assert any(n.startswith("paused: ") and "did not answer in time" in n for n in hooks.notes), hooks.notes
    assert hooks.notes[-1] == "final COMPLETED" and done.note == ""
