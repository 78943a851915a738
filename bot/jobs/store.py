"""Jobs in Redis: the hash per job, the index for `/bus jobs`, the set runners poll, and
the one-active-job-per-source-stream rule."""
from __future__ import annotations

import secrets

from bot.bus import Bus
from bot.jobs import lease, wake
from bot.jobs.model import ACTIVE, Job
from bot.keys import hash_tag, job_slot_matches, slot
from bot.redis_types import fields, hash_mapping, maybe_text, texts

KEEP_JOBS = 500  # newest jobs listed by `/bus jobs`; older hashes expire
FINISHED_TTL_S = 30 * 86_400


class JobConflict(Exception):
    """Another job is still active on the same source stream."""

    def __init__(self, other: Job):
        super().__init__(f"job {other.id} is still {other.status.lower()} on {other.source}")
        self.other = other


def new_job_id() -> str:
    return "j" + secrets.token_hex(4)


def slotted_job_id(bus: Bus, source: str) -> str:
    """A new job id whose hash (and so lease, moved-ids set) lands in `source`'s cluster
    slot, so one script can check the lease, advance the cursor and delete from the source.
    About 16,000 tries on average (under 0.1 s), once per job."""
    want = slot(source)
    if hash_tag(bus.keys.job("j")) != bus.keys.job("j"):  # BUS_PREFIX carries a hash tag
        if slot(bus.keys.job("j")) != want:  # every job key is in that tag's slot
            raise JobPlacement(source)
        return new_job_id()
    while True:
        job_id = new_job_id()
        if slot(bus.keys.job(job_id)) == want:
            return job_id


class JobPlacement(Exception):
    """On a cluster, BUS_PREFIX's hash tag keeps job keys out of the source stream's slot."""

    def __init__(self, source: str):
        super().__init__(f"On a Redis Cluster, the hash tag in BUS_PREFIX puts busbot's job keys in another "
                         f"slot than `{source}`, so no job can move its entries; give the streams the same "
                         "hash tag as BUS_PREFIX, or drop the tag from BUS_PREFIX.")


def get(bus: Bus, job_id: str) -> Job | None:
    h = fields(bus.r.hgetall(bus.keys.job(job_id)))
    return Job.from_hash(h) if h else None


def create(bus: Bus, job: Job, wake_runners: bool = True) -> Job:
    """Store a RUNNING job for the runners; refuses while another job holds the source.
    On a cluster the job gets an id in its source's slot (`job.id` may change here).
    `wake_runners`: this process's runners look for it at once (False: the caller runs it
    itself, and they find it at their next poll if it does not)."""
    if bus.cluster and not job_slot_matches(bus.keys, job.id, job.source):
        job.id = slotted_job_id(bus, job.source)
    active = bus.keys.job_active(job.source)
    if not bus.r.set(active, job.id, nx=True):
        other = get(bus, maybe_text(bus.r.get(active)) or "")
        if other is not None and other.active:
            raise JobConflict(other)
        bus.r.set(active, job.id)  # the previous job ended without clearing its claim
    job.created = job.created or bus.clock()
    # the job's hash first, the set runners poll last: on a cluster these keys are in
    # different slots (no MULTI), and a runner must never find an id without its hash
    bus.r.hset(bus.keys.job(job.id), mapping=hash_mapping(job.to_hash()))
    p = bus.r.pipeline(transaction=not bus.cluster)
    p.zadd(bus.keys.jobs_index, {job.id: job.created})
    p.zremrangebyrank(bus.keys.jobs_index, 0, -KEEP_JOBS - 1)
    p.execute()
    bus.r.sadd(bus.keys.jobs_runnable, job.id)
    if wake_runners:
        wake.notify()  # this process's runners look at once, not at their next poll
    return job


def recent(bus: Bus, n: int) -> list[Job]:
    ids = texts(bus.r.zrevrange(bus.keys.jobs_index, 0, n - 1))
    jobs = [get(bus, i) for i in ids]
    return [j for j in jobs if j is not None]


def update(bus: Bus, job_id: str, **fields) -> None:
    bus.r.hset(bus.keys.job(job_id), mapping={k: str(v) for k, v in fields.items()})


def finish(bus: Bus, job: Job, status: str, error: str = "") -> Job:
    """End a job: final status, out of the runnable set, its source free again."""
    now = bus.clock()
    p = bus.r.pipeline(transaction=True)  # one slot: the job's hash and its moved ids
    p.hset(bus.keys.job(job.id), mapping={"status": status, "finished": now, "updated": now,
                                          "error": error, "note": ""})
    p.expire(bus.keys.job(job.id), FINISHED_TTL_S)
    # the moved envelope ids serve the settle-time follow-up only
    p.expire(bus.keys.job_event_ids(job.id), bus.settings.bus_settle_seconds + 86_400)
    p.execute()
    # the ids a move between slots copied: kept while a stale runner might still wake up
    bus.r.expire(bus.keys.job_copied(job.id, job.target), FINISHED_TTL_S)
    bus.r.srem(bus.keys.jobs_runnable, job.id)
    if bus.r.get(bus.keys.job_active(job.source)) == job.id:
        bus.r.delete(bus.keys.job_active(job.source))
    return get(bus, job.id) or job


def _mark_cancelling(bus: Bus, job_id: str) -> bool:
    """RUNNING -> CANCELLING only if the job is still active when written (WATCH/MULTI), so
    a job that completes at the same moment stays COMPLETED."""
    key = bus.keys.job(job_id)

    def swap(pipe) -> bool:
        if pipe.hget(key, "status") not in ACTIVE:
            return False
        pipe.multi()
        pipe.hset(key, mapping={"status": "CANCELLING", "updated": str(bus.clock())})
        return True
    # with value_from_callable, transaction() returns what `swap` returns (a bool), which
    # redis-py's annotations do not allow for (they want a callable returning None)
    return bool(bus.r.transaction(swap, key, value_from_callable=True))  # type: ignore[arg-type]


def request_cancel(bus: Bus, job_id: str, owner: str) -> Job | None:
    """RUNNING -> CANCELLING; the runner stops before its next batch. A job no runner holds
    is cancelled right here. Never reverts what already moved. None: no such job (any more)."""
    if not _mark_cancelling(bus, job_id):
        return get(bus, job_id)  # unknown, or it finished meanwhile: nothing to cancel
    if lease.acquire(bus, job_id, owner):
        from bot.jobs import twostep  # it reads jobs through this module
        try:
            job = get(bus, job_id)
            if job is None:  # expired between the two reads
                return None
            twostep.close(bus, job, owner)
            return finish(bus, job, "CANCELLED")
        finally:
            lease.release(bus, job_id, owner)
    return get(bus, job_id)
