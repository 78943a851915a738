"""What a job tells the channel and the audit stream: one message that updates with
progress (moved, skipped, rate, ETA) and ends as the summary; completion is audited."""
from __future__ import annotations

import logging

from bot.actions import audit
from bot.actions.view import job_view
from bot.bus import Bus
from bot.jobs import store
from bot.jobs.model import Job
from bot.jobs.runner import Hooks
from bot.notify import Message, Notifier, NullNotifier

log = logging.getLogger(__name__)


def job_message(bus: Bus, job: Job) -> Message:
    view = job_view(job, bus.clock())
    return Message("job", {"job": view}, view["summary"])


class ActionHooks(Hooks):
    def __init__(self, notifier: Notifier | None = None, on_final=None):
        self.notifier = notifier or NullNotifier()
        self.on_final = on_final  # e.g. schedule the settle-time follow-up

    def progress(self, bus: Bus, job: Job, final: bool = False) -> None:
        if final:
            audit.record(bus, job.by, f"{job.kind}.{job.status.lower()}", job.params_text(),
                         f"moved {job.moved}, skipped {job.skipped} of {job.to_move}", job.id)
            if self.on_final:
                self.on_final(bus, job)
        msg = job_message(bus, job)
        if job.msg_ts:
            self.notifier.update(job.msg_ts, msg)
            return
        ts = self.notifier.post(msg)
        if ts:
            store.update(bus, job.id, msg_ts=ts)
