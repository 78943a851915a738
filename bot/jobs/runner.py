"""Driving jobs: batches under a lease, a rate limit, cancel between batches, and pausing
while Redis is unreachable. `bot.runtime.build_runtime` runs a `JobRunner` in a
background thread of the serving process (and the console); it runs each job it leases in
a thread of its own, so jobs on different streams go side by side, and any runner takes
over a job whose owner died.

An unthrottled job reads its source with bot/lua/scan_batch.lua (candidates only, decided
here by the preview's own test) and moves each read in one call of bot/lua/move_batch.lua
while the next read runs on another connection; the size of a batch grows while calls
answer fast and halves when they do not, so no call holds Redis for long."""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from bot import durability
from bot.bus import Bus
from bot.jobs import lease, scan, store, twostep, wake
from bot.jobs.model import Job
from bot.jobs.mover import LeaseLost, NotRunning, StaleBatch, move_batch, split
from bot.jobs.pace import Pacer, Wait, burst_for
from bot.notify import Notifier, NullNotifier
from bot.redis_errors import UNREACHABLE, describe, is_refused, refusal
from bot.redis_types import texts

log = logging.getLogger(__name__)

READ = 1000  # source entries examined per read of a throttled job (~1 ms on the server)
MAX_SIZE = 1000  # entries moved per call of an unthrottled job, at most
MAX_READ = 2000  # entries examined per read of an unthrottled job, at most
FAST_S, SLOW_S = 0.005, 0.02  # a call answered within FAST_S doubles its size, one over SLOW_S halves it
PROGRESS_EVERY_S = 2.0
OUTAGE_BACKOFF_S = (0.2, 0.5, 1, 2, 5)
PARALLEL = 8  # jobs one runner runs side by side (each in its own thread)


class Hooks:
    """What a runner tells the outside world; the default does nothing."""

    def progress(self, bus: Bus, job: Job, final: bool = False) -> None:
        pass


def _chunk(job: Job) -> int:
    """Entries per Lua call of a throttled job: the batch size, smaller under a low rate so
    pacing is smooth."""
    return max(1, min(job.batch, job.rate // 10)) if job.rate else job.batch


def _resized(n: int, seconds: float, most: int) -> int:
    if seconds < FAST_S:
        return min(most, n * 2)
    if seconds > SLOW_S:
        return max(1, n // 2)
    return n


@dataclass
class Pace:
    """How an unthrottled job sizes its moves and its reads (each by the time its own calls
    take: a read of the main stream's one-field entries costs less an entry than a move),
    and its read-ahead."""
    size: int
    read: int = 0
    ahead: scan.ReadAhead | None = None
    reader: scan.Reader = field(default_factory=scan.Reader)

    def __post_init__(self) -> None:
        self.read = self.read or self.size

    def observe(self, seconds: float) -> None:
        self.size = _resized(self.size, seconds, MAX_SIZE)

    def observe_read(self, seconds: float) -> None:
        self.read = _resized(self.read, seconds, MAX_READ)

    def close(self) -> None:
        if self.ahead is not None:
            self.ahead.close()
            self.ahead = None


def _reads_ahead(bus: Bus, job: Job) -> bool:
    """Whether the next read may go while a move runs: unthrottled, on one Redis that needs
    no WAIT (elsewhere the moves keep their own order of calls)."""
    return not job.rate and not bus.cluster and not durability.wanted(bus) and not split(bus, job)


def _read(bus: Bus, job: Job, lo: str, sizing: Pace) -> scan.Read:
    if job.rate:
        return sizing.reader.read(bus, job, lo, READ)
    if _reads_ahead(bus, job):
        got = sizing.ahead.next(lo) if sizing.ahead is not None else None
        if got is None:
            sizing.ahead = scan.ReadAhead(bus, job, lo, lambda: sizing.read, sizing.observe_read, sizing.reader)
            got = sizing.ahead.next(lo)  # a fresh read-ahead starts at lo: never None
        return got if got is not None else sizing.reader.read(bus, job, lo, sizing.read)
    t0 = time.monotonic()
    got = sizing.reader.read(bus, job, lo, sizing.read)
    sizing.observe_read(time.monotonic() - t0)
    return got


def run_batch(bus: Bus, job: Job, owner: str,
              pace: Callable[[Job, int], bool | None] | None = None, sizing: Pace | None = None) -> bool:
    """One read of the source from the job's cursor, its selected entries moved in atomic
    chunks (each chunk one Lua call that also advances the cursor). A throttled job reads
    READ entries and moves chunks of `_chunk(job)`; an unthrottled one reads `sizing.read`
    entries and moves chunks of `sizing.size`, the next read already under way. `pace(job, n)` runs before
    each chunk of n entries; when it returns False (the runner is stopping) the batch ends
    there. False when nothing is left."""
    lo = "(" + job.cursor if job.cursor else job.start
    sizing = sizing or Pace(job.batch)
    got = _read(bus, job, lo, sizing)
    if not got.last:
        return False
    items = got.items if got.items is not None else scan.decide(bus, job, got.rows)
    read = dict(got.rows)
    chunk = _chunk(job) if job.rate else sizing.size
    for i in range(0, max(1, len(items)), chunk):
        part = items[i:i + chunk]
        cursor = part[-1][0] if i + chunk < len(items) else got.last
        if pace and pace(job, len(part)) is False:
            return True  # stopping: the cursor is where the last chunk left it
        t0 = time.monotonic()
        done = move_batch(bus, job, owner, cursor, part, read)
        if not job.rate:
            sizing.observe(time.monotonic() - t0)
        job.cursor, job.moved, job.skipped = cursor, job.moved + done.moved, job.skipped + done.skipped
    return True


def paused_note(bus: Bus, exc: BaseException) -> str:
    """The progress message's note while a job waits for Redis, naming the cause."""
    sentence, _ = describe(exc, bus.where)
    return f"paused: {sentence} The job resumes by itself once Redis answers again."


def failed_error(exc: BaseException) -> str:
    """The job's status sentence when it ends on an error it cannot wait out."""
    if is_refused(exc):
        sentence, hint = refusal(exc)
        return f"{sentence} {hint}"
    return f"internal error ({type(exc).__name__}); see the log"


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
    bucket = Pacer(job.rate, burst_for(job.rate, _chunk(job)), clock, wait)
    sizing = Pace(max(1, job.batch))
    shown = [clock()]

    def pacer(j: Job, n: int) -> bool:
        """Before each chunk: hold the job's rate (events/s), and update the progress
        message every PROGRESS_EVERY_S. False once the runner is stopping: the wait was cut
        short, so the chunk must not go."""
        bucket.take(n)
        if stop.is_set():
            return False
        if clock() - shown[0] >= PROGRESS_EVERY_S:
            shown[0] = clock()
            hooks.progress(bus, store.get(bus, job_id) or j)
        return True

    hooks.progress(bus, job)  # the message appears as the job starts
    try:
        return _drive(bus, job, owner, hooks, stop, wait, bucket, sizing, pacer)
    finally:
        sizing.close()


def _drive(bus: Bus, job: Job, owner: str, hooks: Hooks, stop: threading.Event, wait: Wait,
           bucket: Pacer, sizing: Pace, pacer: Callable[[Job, int], bool]) -> Job | None:
    """run_job's loop: batch after batch until the job ends, the lease is lost or the
    runner stops."""
    job_id, outage = job.id, 0
    while not stop.is_set():
        try:
            current = store.get(bus, job_id)
            if current is None or current.status not in ("RUNNING", "CANCELLING"):
                return current
            job = current
            if job.status == "CANCELLING":
                twostep.close(bus, job, owner)
                job = store.finish(bus, job, "CANCELLED")
                hooks.progress(bus, job, final=True)
                return job
            if outage:
                store.update(bus, job_id, note="")
                outage = 0
            if not run_batch(bus, job, owner, pacer, sizing):
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
        except UNREACHABLE as exc:
            pause = OUTAGE_BACKOFF_S[min(outage, len(OUTAGE_BACKOFF_S) - 1)]
            outage += 1
            log.warning("job %s: Redis unreachable, pausing %.1fs", job_id, pause)
            job.note = paused_note(bus, exc)
            hooks.progress(bus, job)
            wait(pause)
            bucket.reset()  # the outage is not owed time: no burst once Redis is back
            continue
    return job


class JobRunner(threading.Thread):
    """Polls the runnable set and runs each job it can lease in a thread of its own (at
    most PARALLEL at once), so a slow throttled job delays neither a job on another stream
    nor the settle-time follow-ups. A job created in this process wakes it at once
    (bot/jobs/wake.py). Runners of several processes work side by side; the lease makes
    each job run in exactly one. `tick()` runs the jobs one after another in the caller's
    thread instead (tests, the crash-test child)."""

    def __init__(self, bus: Bus, notifier: Notifier | None = None, hooks: Hooks | None = None,
                 poll_s: float = 1.0, parallel: int = PARALLEL):
        super().__init__(name="busbot-jobs", daemon=True)
        self.bus, self.poll_s, self.parallel = bus, poll_s, parallel
        self.notifier = notifier or NullNotifier()
        self.hooks = hooks or Hooks()
        self.owner = lease.new_owner()
        self.stopping = threading.Event()
        self.woken = threading.Event()
        self.idle = threading.Event()  # set while the runner waits for its next poll
        self.workers: dict[str, threading.Thread] = {}

    def _runnable(self) -> list[str]:
        return sorted(texts(self.bus.r.smembers(self.bus.keys.jobs_runnable)))

    def run_one(self, job_id: str) -> None:
        """Run a job whose lease this runner holds, then release the lease. A bug or a
        refusal by Redis's ACL ends the job as FAILED (with a sentence saying why) rather
        than retrying it forever; it is raised again for the caller to log."""
        try:
            if run_job(self.bus, job_id, self.owner, self.hooks, self.stopping) is None:
                # listed without its hash (a cluster writes the two apart, the hash
                # first; or the hash expired): nothing to run, stop polling it
                self.bus.r.srem(self.bus.keys.jobs_runnable, job_id)
        except UNREACHABLE:
            raise
        except Exception as exc:
            job = store.get(self.bus, job_id)
            if job is not None and job.active:  # never turn a finished job into a failed one
                self.hooks.progress(self.bus, store.finish(self.bus, job, "FAILED", failed_error(exc)),
                                    final=True)
            raise
        finally:
            lease.release(self.bus, job_id, self.owner)

    def tick(self) -> int:
        """Run every job this runner can lease, one after another; returns how many it ran."""
        ran = 0
        for job_id in self._runnable():
            if self.stopping.is_set() or not lease.acquire(self.bus, job_id, self.owner):
                continue
            self.run_one(job_id)
            ran += 1
        return ran

    def dispatch(self) -> int:
        """Start a thread for each runnable job this runner can lease and is not running
        yet, up to `parallel` at once; returns how many it started."""
        for job_id, worker in list(self.workers.items()):
            if not worker.is_alive():
                del self.workers[job_id]
        started = 0
        for job_id in self._runnable():
            if self.stopping.is_set() or len(self.workers) >= self.parallel:
                break
            if job_id in self.workers or not lease.acquire(self.bus, job_id, self.owner):
                continue
            worker = threading.Thread(target=self._work, args=(job_id,), name=f"busbot-job-{job_id}",
                                      daemon=True)
            self.workers[job_id] = worker
            worker.start()
            started += 1
        return started

    def _work(self, job_id: str) -> None:
        """A job's thread: its errors are logged here, the thread's one boundary."""
        try:
            self.run_one(job_id)
        except UNREACHABLE:
            log.warning("job %s: Redis unreachable; the runner takes it up again later", job_id)
        except Exception:
            log.exception("job %s failed", job_id)
        finally:
            self.woken.set()  # a slot is free: look for the next job now

    def run(self) -> None:
        wake.register(self.woken)
        try:
            while not self.stopping.is_set():
                self.woken.clear()
                try:
                    self.dispatch()
                    self.after_tick()
                except UNREACHABLE:
                    log.warning("job runner: Redis unreachable; retrying")
                except Exception:  # the thread's one boundary: a bug must not stop all jobs
                    log.exception("job runner tick failed")
                self.idle.set()
                self.woken.wait(self.poll_s)
                self.idle.clear()
        finally:
            wake.unregister(self.woken)
            for worker in list(self.workers.values()):
                worker.join()  # each stops between two chunks and releases its lease

    def after_tick(self) -> None:
        """Periodic work besides jobs (settle-time follow-ups)."""

    def stop(self) -> None:
        self.stopping.set()
        self.woken.set()
