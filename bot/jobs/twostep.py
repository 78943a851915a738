"""A batch moved between two hash slots of a Redis Cluster, exactly once.

A Lua script may only touch one slot, so a batch whose source and target streams hash to
different slots (the platform's default names) moves in two scripts:

1. `copy` (bot/lua/move_copy.lua), in the TARGET's slot: append each entry and record its
   source id in the job's copied-ids set, skipping ids already recorded;
2. `commit` (bot/lua/move_commit.lua), in the SOURCE's slot, under the job's lease and
   only from the cursor it expects: delete the batch from the source (when the kind
   deletes), count it and advance the cursor.

A crash after step 1 leaves the entries recorded; whoever resumes reads the same batch
again from the cursor, step 1 writes none of it twice, step 2 deletes and counts it. A
runner that lost its lease fails step 2 (its copies are recorded, so the new owner only
deletes them). When a job ends, `close` marks the set closed (step 1 then refuses) and
settles a batch that was copied but not committed, so nothing stays in both streams.

With BUS_WAIT_REPLICAS, step 1 is followed by WAIT on the target's node before step 2.
"""
from __future__ import annotations

from bot import durability
from bot.bus import Bus
from bot.envelope import parse_entry
from bot.jobs.model import Job
from bot.jobs.mover import SPECS, Fields, Item, LeaseLost, Moved, NotRunning, StaleBatch, body, outcome, split

CLOSED = "~closed"  # never a stream id
SETTLE_READ = 1000  # a batch copied and not committed lies within this many entries


def _read(bus: Bus, stream: str, ids: list[str]) -> dict[str, dict[str, str]]:
    p = bus.r.pipeline(transaction=False)
    for i in ids:
        p.xrange(stream, i, i, count=1)
    return {rows[0][0]: rows[0][1] for rows in p.execute() if rows}


def copy(bus: Bus, job: Job, items: list[Item], fields: Fields) -> tuple[list[tuple[str, str]], int]:
    """Step 1. Returns (source id, tag) of each entry now recorded as copied, and how many
    selected entries had nothing to write (or were gone before this read)."""
    spec = SPECS[job.kind]
    args: list[str | int] = []
    done: list[tuple[str, str]] = []
    skipped = 0
    for source_id, override, tag in items:
        f = fields.get(source_id)
        out = body(spec, job.id, source_id, f, override) if f is not None else None
        if out is None:
            skipped += 1
            continue
        args += [source_id, len(out), *out]
        done.append((source_id, tag))
    if args:
        n = _copy_script(bus, job, args)
        if int(n) < 0:
            raise NotRunning("ended")
    return done, skipped


def _copy_script(bus: Bus, job: Job, args: list[str | int]) -> int:
    """The copy script; with BUS_WAIT_REPLICAS, on one connection to the target's node
    followed by WAIT there, so a failover of the target's shard cannot forget copies whose
    deletes the source's shard then commits (the source side may forget: the batch reruns
    and the record keeps it from being written twice)."""
    keys = [job.target, bus.keys.job_copied(job.id, job.target)]
    script = bus.scripts.get("move_copy")
    wanted = bus.settings.bus_wait_replicas
    if not wanted:
        return int(script(keys=keys, args=args))
    node = bus.r.get_node_from_key(job.target)  # type: ignore[attr-defined]
    client = node.redis_connection.client()  # one connection: WAIT counts its writes
    try:
        n = int(script(keys=keys, args=args, client=client))
        durability.wait_replicas(bus, client, wanted)
        return n
    finally:
        client.close()


def commit(bus: Bus, job: Job, owner: str, new_cursor: str, done: list[tuple[str, str]],
           skipped: int) -> Moved:
    """Step 2 (see the module's docstring)."""
    spec = SPECS[job.kind]
    args: list[str | int] = [owner, job.cursor, new_cursor, "1" if spec.delete else "0",
                             bus.settings.bus_job_lease * 1000, bus.clock(), skipped]
    for source_id, tag in done:
        args += [source_id, tag]
    keys = [job.source, bus.keys.job(job.id), bus.keys.job_lease(job.id), bus.keys.job_event_ids(job.id)]
    return outcome(*bus.scripts.get("move_commit")(keys=keys, args=args))


def move(bus: Bus, job: Job, owner: str, new_cursor: str, items: list[Item],
         fields: Fields | None = None) -> Moved:
    p = bus.r.pipeline(transaction=False)  # the lease and the job's hash share a slot
    p.get(bus.keys.job_lease(job.id))
    p.hget(bus.keys.job(job.id), "status")
    holder, status = p.execute()
    if holder != owner:  # a runner that knows it lost the job copies nothing (step 2 checks again)
        raise LeaseLost(str(holder))
    if status != "RUNNING":  # cancelled: no new copy starts (step 2 still settles one under way)
        raise NotRunning(str(status))
    if fields is None:
        fields = _read(bus, job.source, [i[0] for i in items])
    done, skipped = copy(bus, job, items, fields)
    return commit(bus, job, owner, new_cursor, done, skipped)


def close(bus: Bus, job: Job, owner: str) -> None:
    """Before a job between slots ends (this owner holds its lease): no copy starts any
    more, and entries already copied past the cursor are deleted from the source and
    counted, so none is left in both streams."""
    if not split(bus, job):
        return
    from bot.jobs import store
    from bot.jobs.select import item

    copied = bus.keys.job_copied(job.id, job.target)
    bus.r.sadd(copied, CLOSED)
    current = store.get(bus, job.id)
    if current is None:
        return
    lo = "(" + current.cursor if current.cursor else current.start
    rows = bus.r.xrange(current.source, lo, current.upper, count=SETTLE_READ)
    if not rows:
        return
    flags = bus.r.smismember(copied, [entry_id for entry_id, _ in rows])
    done = [item(current, parse_entry(entry_id, dict(f or {}))) for (entry_id, f), hit in zip(rows, flags) if hit]
    if done:
        try:
            commit(bus, current, owner, done[-1][0], [(d[0], d[2]) for d in done], 0)
        except (LeaseLost, StaleBatch, NotRunning):
            pass  # another owner settles it
