"""A job runner in its own process, for the kill -9 and two-process tests:
`python -m tests.job_child REDIS_URL LEASE_SECONDS` runs jobs until none is runnable."""
from __future__ import annotations

import sys
import time

from bot.bus import Bus
from bot.connection import connect
from bot.jobs.runner import JobRunner
from bot.settings import Settings


def main(url: str, lease_s: str) -> None:
    bus = Bus(connect(url), Settings(_env_file=None, bus_job_lease=int(lease_s)))
    runner = JobRunner(bus)
    print("ready", runner.owner, flush=True)
    while bus.r.scard(bus.keys.jobs_runnable):
        if runner.tick():
            print("ran", flush=True)
        time.sleep(0.05)


if __name__ == "__main__":
    main(*sys.argv[1:3])
