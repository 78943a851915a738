"""One batch of a job wrapped in one typed call.

Source and target in one hash slot (a single Redis, or stream names sharing a hash tag on a
cluster): one atomic script, bot/lua/move_batch.lua. In two slots (the platform's default
names on a cluster): two scripts, bot.jobs.twostep, that never lose nor duplicate an entry.

Per kind: whether the source entry is deleted, which fields are copied and which
provenance fields are added (docs/architecture.md, wire conventions: reprocess keeps the
event as it is; replay writes a new envelope; purges archive every field so `dlq restore`
can put them back).
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from bot import durability
from bot.bus import Bus
from bot.jobs.model import Job
from bot.keys import same_slot


@dataclass(frozen=True)
class MoveSpec:
    delete: bool
    body: str  # "event" | "all"
    from_field: str
    job_field: str
    drop: str = ""


SPECS = {
    "reprocess": MoveSpec(True, "event", "reprocessedFrom", "reprocessJob"),
    "replay": MoveSpec(False, "event", "replayOf", "replayJob"),
    "purge": MoveSpec(True, "all", "archivedFrom", "archiveJob"),
    "delete": MoveSpec(True, "all", "archivedFrom", "archiveJob"),
    "restore": MoveSpec(True, "all", "restoredFrom", "restoreJob", "archivedFrom,archiveJob"),
}


class LeaseLost(Exception):
    """Another runner holds the job now; this one must stop."""


class NotRunning(Exception):
    """The job was cancelled (or ended) before this batch."""


class StaleBatch(Exception):
    """The cursor already moved past this batch: it ran before, nothing was done twice."""


@dataclass
class Moved:
    moved: int
    skipped: int


Item = tuple[str, str, str]  # source id, override event JSON or "", tag (envelope id) or ""


Fields = Mapping[str, Mapping[str, str]]  # source id -> the entry's fields, as read


def split(bus: Bus, job: Job) -> bool:
    """True when the job's source and target are in different cluster slots."""
    return bus.cluster and not same_slot(job.source, job.target)


def body(spec: MoveSpec, job_id: str, source_id: str, fields: Mapping[str, str],
         override: str) -> list[str] | None:
    """What a move writes for one entry (None: nothing, e.g. no `event` to republish);
    `event` FIRST, as move_batch.lua writes it."""
    event = override or fields.get("event")
    out: list[str] = ["event", event] if event is not None else []
    if spec.body == "event":
        if event is None:
            return None
    else:
        drop = {*filter(None, spec.drop.split(",")), spec.from_field, spec.job_field, "event"}
        for k, v in fields.items():
            if k not in drop:
                out += [k, v]
    return out + [spec.from_field, source_id, spec.job_field, job_id]


def move_batch(bus: Bus, job: Job, owner: str, new_cursor: str, items: list[Item],
               fields: Fields | None = None) -> Moved:
    """Move `items` and set the job's cursor to `new_cursor`. `fields` (the entries as
    read) spares a second read when the move goes between slots."""
    if split(bus, job):
        from bot.jobs import twostep
        return twostep.move(bus, job, owner, new_cursor, items, fields)
    keys, args = script_call(bus, job, owner, new_cursor, items)
    # BUS_WAIT_REPLICAS: the script, then WAIT on the same connection (bot/durability.py)
    return outcome(*durability.run_script(bus, "move_batch", keys, args))


def script_call(bus: Bus, job: Job, owner: str, new_cursor: str,
                items: list[Item]) -> tuple[list[str], list[str | int]]:
    """KEYS and ARGV of bot/lua/move_batch.lua for one batch (one slot)."""
    spec = SPECS[job.kind]
    keys = [job.source, job.target, bus.keys.job(job.id), bus.keys.job_lease(job.id),
            bus.keys.job_event_ids(job.id)]
    args: list[str | int] = [job.id, owner, job.cursor, new_cursor, "1" if spec.delete else "0", spec.body,
                             spec.from_field, spec.job_field, spec.drop, bus.settings.bus_job_lease * 1000,
                             bus.clock()]
    for item in items:
        args.extend(item)
    return keys, args


def outcome(a: int, b: str | int) -> Moved:
    """A move script's reply, its refusals raised."""
    if a == -1:
        raise StaleBatch(b)
    if a == -2:
        raise NotRunning(b)
    if a == -3:
        raise LeaseLost(b)
    return Moved(int(a), int(b))
