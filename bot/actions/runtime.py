"""The job runner of a serving process (and of the console): `start_job_runner(bus,
notifier)` starts it in a background thread; any process's runner resumes orphaned jobs."""
from __future__ import annotations

from bot.actions.progress import ActionHooks
from bot.bus import Bus
from bot.jobs.runner import JobRunner
from bot.notify import Notifier, NullNotifier, attach, notifier_for


def hooks_for(bus: Bus) -> ActionHooks:
    """Hooks with the notifier attached to this bus (progress message, audit of the end)."""
    return ActionHooks(notifier_for(bus))


class ActionRunner(JobRunner):
    pass


def start_job_runner(bus: Bus, notifier: Notifier | None = None, poll_s: float = 1.0) -> JobRunner:
    """Start the background runner; the notifier also carries job progress messages."""
    notifier = notifier or NullNotifier()
    attach(bus, notifier)
    runner = ActionRunner(bus, notifier, hooks=ActionHooks(notifier), poll_s=poll_s)
    runner.start()
    return runner
