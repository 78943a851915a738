"""The settle-time follow-up of a reprocess (the runbook's "Monitor for success/failure"):
BUS_SETTLE_SECONDS after the job ends, count how many of the events it moved came back to
the DLQ, by event id and error, and say so in the job's thread.

Each follow-up is claimed with ZREM, so with several bot processes it is posted once.
"""
from __future__ import annotations

from collections import Counter

from pydantic import BaseModel

from bot.actions import audit
from bot.bus import Bus
from bot.envelope import parse_entry
from bot.jobs import store
from bot.jobs.model import Job
from bot.notify import Message, Notifier
from bot.redis_types import entries, texts

READ = 1000
SHOW_IDS = 10


class Followup(BaseModel):
    job_id: str
    moved: int
    back: int
    event_ids: list[str]
    errors: list[tuple[str, int]]
    scanned: int


def schedule(bus: Bus, job: Job) -> None:
    if job.kind == "reprocess" and job.moved:
        due = (job.finished or bus.clock()) + bus.settings.bus_settle_seconds * 1000
        bus.r.zadd(bus.keys.jobs_followups, {job.id: due})


def check(bus: Bus, job: Job) -> Followup:
    """Walk the DLQ entries added since the job started; which carry an event it moved?"""
    members = bus.keys.job_event_ids(job.id)
    ids: list[str] = []
    errors: Counter[str] = Counter()
    back, scanned, cursor = 0, 0, f"{job.started}-0"
    while True:
        read = entries(bus.r.xrange(bus.keys.dlq, cursor, "+", count=READ))
        if not read:
            break
        scanned += len(read)
        cursor = "(" + read[-1][0]
        rows = [(i, f, _event_id(f)) for i, f in read]
        hits = bus.r.smismember(members, [eid or "" for _, _, eid in rows])
        for (_, f, eid), hit in zip(rows, hits):
            if hit and eid:
                back += 1
                if len(ids) < SHOW_IDS:
                    ids.append(eid)
                error = bus.masker.text(f.get("error") or "")  # the follow-up is posted: masked
                errors[(error.strip() or "(no error text)").splitlines()[0][:120]] += 1
        if len(rows) < READ:
            break
    return Followup(job_id=job.id, moved=job.moved, back=back, event_ids=ids,
                    errors=errors.most_common(5), scanned=scanned)


def _event_id(fields: dict[str, str]) -> str | None:
    return parse_entry("0-0", fields).event_id


def run_due(bus: Bus, notifier: Notifier) -> int:
    """Post every follow-up that is due and not yet claimed by another process."""
    due = texts(bus.r.zrangebyscore(bus.keys.jobs_followups, "-inf", bus.clock()))
    done = 0
    for job_id in due:
        if not bus.r.zrem(bus.keys.jobs_followups, job_id):
            continue  # another process claimed it
        job = store.get(bus, job_id)
        if job is None:
            continue
        f = check(bus, job)
        text = summary(f)
        store.update(bus, job_id, followup=text)
        audit.record(bus, "busbot", "reprocess.followup", job.params_text(), text, job_id)
        notifier.post(Message("job_followup", view(f, text), text), thread_ts=job.msg_ts or None)
        done += 1
    return done


def view(f: Followup, text: str) -> dict:
    return {"job_id": f.job_id, "back": f.back, "text": text, "scanned": f.scanned,
            "errors": [[n, e] for e, n in f.errors], "ids": list(f.event_ids),
            "more": f.back - len(f.event_ids)}


def summary(f: Followup) -> str:
    if f.back == 0:
        return f"None of the {f.moved:,} reprocessed events came back to the DLQ: the fix held."
    return (f"{f.back:,} of the {f.moved:,} reprocessed events came back to the DLQ "
            f"({100 * f.back / f.moved:.0f}%).")
