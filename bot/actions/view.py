"""View models of jobs for the `job`/`jobs` templates and the progress message.

Plain data, no markup: sentences are phrases (bot.phrase) with code spans and people as
separate parts, a status is a symbol name (bot.symbols); each renderer formats them.
"""
from __future__ import annotations

import re

from bot.jobs.model import Job
from bot.phrase import Phrase, code, person, phrase
from bot.plural import plural
from bot.render import md, num
from bot.timeparse import MAX_ID_PART, human_age, id_ms, iso_ms

_SLACK_USER = re.compile(r"^[UW][A-Z0-9]{2,}$")
VERBS = {"reprocess": "Reprocess", "replay": "Replay", "purge": "Purge", "delete": "Delete",
         "restore": "Restore"}
SYMBOLS = {"RUNNING": "running", "CANCELLING": "cancelling", "COMPLETED": "completed",
           "CANCELLED": "cancelled", "FAILED": "failed"}


def who(user: str | None) -> str:
    """A Slack user id as a mention, anything else (console) as escaped text."""
    if not user:
        return "nobody"
    return f"<@{user}>" if _SLACK_USER.match(user) else md(user)


def job_view(job: Job, now: int) -> dict:
    elapsed_ms = max(1, (job.finished or job.updated or now) - job.started) if job.started else 0
    rate = job.done * 1000 / elapsed_ms if elapsed_ms else None
    left = max(0, job.to_move - job.done)
    eta = human_age(int(left / rate * 1000)) if rate and job.active and left else None
    pct = 100 * job.done // job.to_move if job.to_move else 100
    verb = VERBS.get(job.kind, job.kind)
    what = phrase(f"{verb} {plural(job.to_move, 'entry')} ", code(job.source), " → ", code(job.target))
    summary = (f"Job {job.id} ({job.kind}) {job.status}: moved {num(job.moved)}, skipped "
               f"{num(job.skipped)} of {num(job.to_move)}")
    return {
        "id": job.id, "kind": job.kind, "status": job.status, "active": job.active,
        "symbol": SYMBOLS.get(job.status, "unknown"), "what": what,
        "filter": selection(job),
        "moved": num(job.moved), "skipped": num(job.skipped), "to_move": num(job.to_move),
        "pct": pct, "rate": f"{rate:,.0f}/s" if rate else "–", "eta": eta,
        "limit": f"{num(job.rate)}/s" if job.rate else "unthrottled",
        "by": person(job.by), "approved_by": person(job.approved_by) if job.approved_by else None,
        "bounds": phrase(readable_id(job.start), " … ", readable_id(job.upper)),
        "started": iso_ms(job.started) if job.started else None,
        "took": human_age(elapsed_ms) if job.finished and job.started else None,
        "age": human_age(now - job.created) if job.created else "?",
        "note": job.note or None, "error": job.error or None, "followup": job.followup or None,
        "summary": summary, "buttons": job_buttons(job.id) if job.active else [],
    }


def selection(job: Job) -> str:
    """What the job was asked to move, as the user chose it: entries by id, filters, or all."""
    ids = job.params.get("ids") or []
    chosen = f"{plural(len(ids), 'entry')} chosen by id" if ids else ""
    return " ".join(p for p in (chosen, job.params_text()) if p) or "everything up to the fixed upper id"


def readable_id(entry_id: str | None) -> Phrase:
    """A bound as the operator reads it: the id with its time, and for a bound that means
    "everything in that millisecond" (sequence 2^64-1) only the time."""
    if not entry_id or entry_id in ("-", "+"):
        return phrase({"-": "the first entry", "+": "the last entry"}.get(entry_id or "", "–"))
    iso = iso_ms(id_ms(entry_id))
    ms, _, seq = entry_id.partition("-")
    if seq.isdigit() and int(seq) == MAX_ID_PART and iso:
        return phrase("the end of ", iso)
    return phrase(code(entry_id), f" ({iso})" if iso else "")


def job_buttons(job_id: str) -> list[dict]:
    """Refresh and Cancel on a running job's message."""
    return [{"text": "Refresh", "action_id": "bus_run", "value": f"job {job_id}"},
            {"text": "Cancel job", "action_id": "job_cancel", "value": job_id, "style": "danger",
             "confirm": {"title": f"Cancel job {job_id}?",
                         "text": "The job stops before its next batch. What already moved stays moved.",
                         "confirm": "Cancel job", "deny": "Keep running"}}]
