"""The atomic batch (bot/lua/move_batch.lua) wrapped in one typed call.

Per kind: whether the source entry is deleted, which fields are copied and which
provenance fields are added (docs/architecture.md, wire conventions: reprocess keeps the event as it is; replay writes a
new envelope; purges archive every field so `dlq restore` can put them back).
"""
from __future__ import annotations

from dataclasses import dataclass

from bot.bus import Bus
from bot.jobs.model import Job


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


def move_batch(bus: Bus, job: Job, owner: str, new_cursor: str, items: list[Item]) -> Moved:
    spec = SPECS[job.kind]
    keys = [job.source, job.target, bus.keys.job(job.id), bus.keys.job_lease(job.id),
            bus.keys.job_event_ids(job.id)]
    args = [job.id, owner, job.cursor, new_cursor, "1" if spec.delete else "0", spec.body,
            spec.from_field, spec.job_field, spec.drop, bus.settings.bus_job_lease * 1000,
            bus.clock()]
    for item in items:
        args.extend(item)
    a, b = bus.scripts.get("move_batch")(keys=keys, args=args)
    if a == -1:
        raise StaleBatch(b)
    if a == -2:
        raise NotRunning(b)
    if a == -3:
        raise LeaseLost(b)
    return Moved(int(a), int(b))
