"""Running an approved (or confirmed) request: a job for moves, inline for the rest.

A single-entry job runs right here so the click's answer is the result; bulk jobs go to
the background runners (bot/actions/runtime.py).
"""
from __future__ import annotations

import time

from bot.actions import audit
from bot.actions.requests import GuardedRequest, set_job
from bot.bus import Bus
from bot.jobs import lease, store
from bot.jobs.model import Job
from bot.jobs.runner import Hooks, run_job

JOB_KIND = {"reprocess_one": "reprocess", "reprocess_bulk": "reprocess", "delete": "delete",
            "purge": "purge", "restore": "restore", "replay": "replay"}
INLINE_MAX = 1
INLINE_WAIT_S = 10.0  # how long a single entry's click waits for a runner that leased its job first


def start_job(bus: Bus, req: GuardedRequest, hooks: Hooks, owner: str) -> Job:
    """Create the job the request describes (raises store.JobConflict while the source is
    busy); run it now when it is a single entry."""
    job = Job(id=store.new_job_id(), kind=JOB_KIND[req.kind], source=req.source,
              target=req.target, params=req.params, start=req.start, upper=req.upper,
              to_move=req.to_move, rate=int(req.params.get("rate") or 0),
              batch=int(req.params.get("batch") or bus.settings.bus_job_batch), by=req.requester,
              approved_by=req.approved_by, request=req.token)
    store.create(bus, job, wake_runners=job.to_move > INLINE_MAX)  # a single entry runs right here
    set_job(bus, req.token, job.id)
    audit.record(bus, req.approved_by or req.confirmed_by, f"{job.kind}.start", req.command,
                 f"{job.to_move} to move", job.id)
    if job.to_move <= INLINE_MAX:
        if not lease.acquire(bus, job.id, owner):  # a runner's poll (here or in another process) took it first
            return _ended(bus, job)
        try:
            run_job(bus, job.id, owner, hooks)
        finally:
            lease.release(bus, job.id, owner)
    return store.get(bus, job.id) or job


def _ended(bus: Bus, job: Job, wait_s: float = INLINE_WAIT_S) -> Job:
    """The job once it is no longer active, so a single entry's answer is still its result;
    as it stands after `wait_s` when its runner takes longer."""
    deadline = time.monotonic() + wait_s
    while True:
        current = store.get(bus, job.id) or job
        if not current.active or time.monotonic() >= deadline:
            return current
        time.sleep(0.02)
