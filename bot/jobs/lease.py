"""One process runs a job: a lease key holding the owner's token, renewed as it works.

If the owner dies, the lease expires after `BUS_JOB_LEASE` seconds and another runner
takes the job over from its cursor. The move script itself checks the lease, so a runner
that lost its lease (paused too long) cannot move anything any more.
"""
from __future__ import annotations

import os
import secrets
import socket

from bot.bus import Bus
from bot.redis_types import maybe_text


def new_owner() -> str:
    """A token naming this runner: host, pid and a random part (pids are reused)."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"


def _call(bus: Bus, op: str, job_id: str, owner: str) -> bool:
    ms = bus.settings.bus_job_lease * 1000
    return bool(bus.scripts.get("lease")(keys=[bus.keys.job_lease(job_id)], args=[op, owner, ms]))


def acquire(bus: Bus, job_id: str, owner: str) -> bool:
    return _call(bus, "acquire", job_id, owner)


def release(bus: Bus, job_id: str, owner: str) -> bool:
    return _call(bus, "release", job_id, owner)


def holder(bus: Bus, job_id: str) -> str | None:
    return maybe_text(bus.r.get(bus.keys.job_lease(job_id)))
