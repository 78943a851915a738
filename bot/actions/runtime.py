"""The job runner of a serving process (and of the console): `start_job_runner(bus,
notifier)` starts it in a background thread; any process's runner resumes orphaned jobs and
posts due settle-time follow-ups."""
from __future__ import annotations

from bot.actions import followup
from bot.actions.progress import ActionHooks
from bot.bus import Bus
from bot.jobs.runner import JobRunner
from bot.notify import Notifier, NullNotifier, attach, notifier_for


def hooks_for(bus: Bus, notifier: Notifier | None = None) -> ActionHooks:
    """Progress message, audit of the end, and the follow-up schedule for this bus's jobs."""
    return ActionHooks(notifier or notifier_for(bus), on_final=followup.schedule)


class ActionRunner(JobRunner):
    def after_tick(self) -> None:
        followup.run_due(self.bus, self.notifier)


def start_job_runner(bus: Bus, notifier: Notifier | None = None, poll_s: float = 1.0) -> JobRunner:
    """Start the background runner; the notifier also carries job progress messages."""
    notifier = notifier or NullNotifier()
    attach(bus, notifier)
    runner = ActionRunner(bus, notifier, hooks=hooks_for(bus, notifier), poll_s=poll_s)
    runner.start()
    return runner
