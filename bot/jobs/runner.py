"""Driving jobs: batches under a lease, a rate limit, cancel between batches, and pausing
while Redis is unreachable. `bot.runtime.build_runtime` runs a `JobRunner` in a
background thread of the serving process (and the console); any runner takes over a job
whose owner died."""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from bot.bus import Bus
from bot.envelope import parse_entry
from bot.jobs import lease, store, twostep
from bot.jobs.model import Job
from bot.jobs.mover import LeaseLost, NotRunning, StaleBatch, move_batch
from bot.jobs.pace import Pacer, Wait, burst_for
from bot.jobs.select import item, selected
from bot.notify import Notifier, NullNotifier
from bot.redis_errors import UNREACHABLE

log = logging.getLogger(__name__)

READ = 1000  # source entries read per XRANGE (~1 ms on the server)
PROGRESS_EVERY_S = 2.0
OUTAGE_BACKOFF_S = (0.2, 0.5, 1, 2, 5)


class Hooks:
    """What a runner tells the outside world; the default does nothing."""

    def progress(self, bus: Bus, job: Job, final: bool = False) -> None:
        pass


def _chunk(job: Job) -> int:
    """Entries per Lua call: the batch size, smaller under a low rate so pacing is smooth."""
    return max(1, min(job.batch, job.rate // 10)) if job.rate else job.batch


def run_batch(bus: Bus, job: Job, owner: str,
              pace: Callable[[Job, int], None] | None = None) -> bool:
    """One read of up to READ source entries, moved in atomic chunks of `_chunk(job)`
    (each chunk one Lua call that also advances the cursor). `pace(job, n)` runs before
    each chunk of n entries. False when nothing is left."""
    lo = "(" + job.cursor if job.cursor else job.start
    rows = bus.r.xrange(job.source, lo, job.upper, count=READ)
    if not rows:
        return False
    chunk, items, last = _chunk(job), [], rows[-1][0]
    read = dict(rows)
    for entry_id, fields in rows:
        e = parse_entry(entry_id, fields)
        # filters see masked text, as the preview did; the move copies the entry as it is
        masked = job.params.get("error") or job.params.get("signature") or bus.masker.names_keys
        seen = bus.masker.entry(e) if masked else e
        if selected(job.kind, job.params, seen):
            items.append(item(job, e))
    for i in range(0, max(1, len(items)), chunk):
        part = items[i:i + chunk]
        cursor = part[-1][0] if i + chunk < len(items) else last
        if pace:
            pace(job, len(part))
        done = move_batch(bus, job, owner, cursor, part, read)
        job.cursor, job.moved, job.skipped = cursor, job.moved + done.moved, job.skipped + done.skipped
    return True


def run_job(bus: Bus, job_id: str, owner: str, hooks: Hooks | None = None,
            stop: threading.Event | None = None, clock: Callable[[], float] = time.monotonic,
            wait: Wait | None = None) -> Job | None:
    """Run the job while this owner holds its lease; returns the job as it was left.
    `clock` and `wait` (default: the stop event's wait) time the rate limit, the progress
    updates and the outage back-off; tests pass a fake pair."""
    hooks, stop = hooks or Hooks(), stop or threading.Event()
    wait = wait or stop.wait
    job = store.get(bus, job_id)
    if job is None:
        return None
    if not job.started:
        store.update(bus, job_id, started=bus.clock())
    outage = 0
    bucket = Pacer(job.rate, burst_for(job.rate, _chunk(job)), clock, wait)
    shown = [clock()]

    def pacer(j: Job, n: int) -> None:
        """Before each chunk: hold the job's rate (events/s), and update the progress
        message every PROGRESS_EVERY_S."""
        bucket.take(n)
        if clock() - shown[0] >= PROGRESS_EVERY_S:
            shown[0] = clock()
            hooks.progress(bus, store.get(bus, job_id) or j)

    hooks.progress(bus, job)  # the message appears as the job starts
    while not stop.is_set():
        try:
            job = store.get(bus, job_id)
            if job is None or job.status not in ("RUNNING", "CANCELLING"):
                return job
            if job.status == "CANCELLING":
                twostep.close(bus, job, owner)
                job = store.finish(bus, job, "CANCELLED")
                hooks.progress(bus, job, final=True)
                return job
            if outage:
                store.update(bus, job_id, note="")
                outage = 0
            if not run_batch(bus, job, owner, pacer):
                twostep.close(bus, job, owner)
                job = store.finish(bus, job, "COMPLETED")
                hooks.progress(bus, job, final=True)
                return job
        except StaleBatch:
            continue  # reload: the cursor is further on than we thought
        except NotRunning:
            continue  # cancelled between our read and our move: finish on the next turn
        except LeaseLost:
            if not lease.acquire(bus, job_id, owner):
                log.info("job %s: lease taken over by %s", job_id, lease.holder(bus, job_id))
                return job
            continue
        except UNREACHABLE:
            pause = OUTAGE_BACKOFF_S[min(outage, len(OUTAGE_BACKOFF_S) - 1)]
            outage += 1
            log.warning("job %s: Redis unreachable, pausing %.1fs", job_id, pause)
            job.note = "paused: Redis is unreachable; it resumes by itself when Redis is back"
            hooks.progress(bus, job)
            wait(pause)
            bucket.reset()  # the outage is not owed time: no burst once Redis is back
            continue
    return job


class JobRunner(threading.Thread):
    """Polls the runnable set and runs the jobs it can lease, one after another: a slow
    throttled job delays the next one in this process (and its follow-ups). Runners of
    several processes work side by side; the lease makes each job run in exactly one."""

    def __init__(self, bus: Bus, notifier: Notifier | None = None, hooks: Hooks | None = None,
                 poll_s: float = 1.0):
        super().__init__(name="busbot-jobs", daemon=True)
        self.bus, self.poll_s = bus, poll_s
        self.notifier = notifier or NullNotifier()
        self.hooks = hooks or Hooks()
        self.owner = lease.new_owner()
        self.stopping = threading.Event()

    def tick(self) -> int:
        """Run every job this runner can lease; returns how many it ran."""
        ran = 0
        for job_id in sorted(self.bus.r.smembers(self.bus.keys.jobs_runnable)):
            if self.stopping.is_set() or not lease.acquire(self.bus, job_id, self.owner):
                continue
            try:
                if run_job(self.bus, job_id, self.owner, self.hooks, self.stopping) is None:
                    # listed without its hash (a cluster writes the two apart, the hash
                    # first; or the hash expired): nothing to run, stop polling it
                    self.bus.r.srem(self.bus.keys.jobs_runnable, job_id)
                ran += 1
            except UNREACHABLE:
                raise
            except Exception as exc:  # a bug: end the job as FAILED rather than retry it forever
                job = store.get(self.bus, job_id)
                if job is not None and job.active:  # never turn a finished job into a failed one
                    self.hooks.progress(self.bus, store.finish(self.bus, job, "FAILED",
                                                               f"internal error ({type(exc).__name__}); see the log"),
                                        final=True)
                raise
            finally:
                lease.release(self.bus, job_id, self.owner)
        return ran

    def run(self) -> None:
        while not self.stopping.is_set():
            try:
                self.tick()
                self.after_tick()
            except UNREACHABLE:
                log.warning("job runner: Redis unreachable; retrying")
            except Exception:  # the thread's one boundary: a bug must not stop all jobs
                log.exception("job runner tick failed")
            self.stopping.wait(self.poll_s)

    def after_tick(self) -> None:
        """Periodic work besides jobs (settle-time follow-ups)."""

    def stop(self) -> None:
        self.stopping.set()
