"""The job runner of guarded actions: jobs, then the settle-time follow-ups that are due.
`bot.runtime.build_runtime` starts one per process."""
from __future__ import annotations

from bot.actions import followup
from bot.actions.progress import ActionHooks
from bot.jobs.runner import JobRunner
from bot.notify import Notifier


def hooks_for(notifier: Notifier) -> ActionHooks:
    """Progress message, audit of the end, and the follow-up schedule of a job."""
    return ActionHooks(notifier, on_final=followup.schedule)


class ActionRunner(JobRunner):
    def after_tick(self) -> None:
        followup.run_due(self.bus, self.notifier)
