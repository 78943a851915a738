"""`/bus jobs`, `/bus job <id>`, `/bus job cancel <id>`."""
from __future__ import annotations

from bot.actions.view import job_view
from bot.jobs import store
from bot.phrase import code, phrase
from bot.plural import plural
from commands.guard import cancel_job_reply, job_reply
from commands.invocation import Invocation
from commands.registry import REGISTRY
from commands.reply import CommandError, Reply

LIST = 20
JOB_ID = phrase("a job id (see ", code("/bus jobs"), ")")


@REGISTRY.command("jobs", "Recent reprocess, replay and purge jobs with their progress.",
                  group="Actions")
def jobs_command(inv: Invocation) -> Reply:
    now = inv.bus.clock()
    jobs = [job_view(j, now) for j in store.recent(inv.bus, LIST)]
    running = sum(1 for j in jobs if j["active"])
    return Reply("jobs", {"jobs": jobs}, f"{plural(len(jobs), 'recent job')}, {running} running")


@REGISTRY.command("job <id>", "One job: progress, rate, ETA, who asked and who approved.",
                  max_positional=1, group="Actions")
def job_command(inv: Invocation) -> Reply:
    job_id = inv.required(0, JOB_ID)
    job = store.get(inv.bus, job_id)
    if job is None:
        raise CommandError(phrase("There is no job ", code(job_id), "."),
                           phrase(code("/bus jobs"), " lists the recent ones."))
    reply = job_reply(inv.bus, job, replace=False)
    return reply


@REGISTRY.command("job cancel <id>", "Stop a running job between batches (what moved stays).",
                  max_positional=1, role="operator", group="Actions")
def job_cancel_command(inv: Invocation) -> Reply:
    job_id = inv.required(0, JOB_ID)
    return cancel_job_reply(inv.rt, job_id, inv.user_id)
