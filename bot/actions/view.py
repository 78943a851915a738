"""View models of jobs for the `job`/`jobs` templates and the progress message.

Strings here are mrkdwn-safe: user text is escaped, Slack user ids become mentions.
"""
from __future__ import annotations

import re

from bot.jobs.model import Job
from bot.render import md, num
from bot.timeparse import human_age, iso_ms

_SLACK_USER = re.compile(r"^[UW][A-Z0-9]{2,}$")
VERBS = {"reprocess": "Reprocess", "replay": "Replay", "purge": "Purge", "delete": "Delete",
         "restore": "Restore"}
STATUS_EMOJI = {"RUNNING": ":arrows_counterclockwise:", "CANCELLING": ":hourglass:",
                "COMPLETED": ":white_check_mark:", "CANCELLED": ":no_entry_sign:", "FAILED": ":x:"}


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
    what = f"{verb} {num(job.to_move)} entr{'y' if job.to_move == 1 else 'ies'} `{md(job.source)}` → `{md(job.target)}`"
    summary = (f"Job {job.id} ({job.kind}) {job.status}: moved {num(job.moved)}, skipped "
               f"{num(job.skipped)} of {num(job.to_move)}")
    return {
        "id": job.id, "kind": job.kind, "status": job.status, "active": job.active,
        "emoji": STATUS_EMOJI.get(job.status, ":grey_question:"), "what": what,
        "filter": md(job.params_text()) or "everything up to the fixed upper id",
        "moved": num(job.moved), "skipped": num(job.skipped), "to_move": num(job.to_move),
        "pct": pct, "rate": f"{rate:,.0f}/s" if rate else "–", "eta": eta,
        "limit": f"{num(job.rate)}/s" if job.rate else "unthrottled",
        "by": who(job.by), "approved_by": who(job.approved_by) if job.approved_by else None,
        "bounds": f"`{md(job.start)}` … `{md(job.upper)}`",
        "started": iso_ms(job.started) if job.started else None,
        "took": human_age(elapsed_ms) if job.finished and job.started else None,
        "age": human_age(now - job.created) if job.created else "?",
        "note": md(job.note) if job.note else None, "error": md(job.error) if job.error else None,
        "followup": md(job.followup) if job.followup else None,
        "summary": summary,
    }
