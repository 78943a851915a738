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


_RUNNER = "_busbot_job_runner"


def start_job_runner(bus: Bus, notifier: Notifier | None = None, poll_s: float = 1.0) -> JobRunner:
    """Start the background runner; the notifier also carries job progress messages.
    Call it once at start-up (serve, console) so orphaned jobs resume right away."""
    notifier = notifier or NullNotifier()
    attach(bus, notifier)
    runner = ActionRunner(bus, notifier, hooks=hooks_for(bus, notifier), poll_s=poll_s)
    bus.__dict__[_RUNNER] = runner
    runner.start()
    return runner


def ensure_job_runner(bus: Bus) -> JobRunner | None:
    """The process's runner, started now if start-up did not start one: a job created here
    must never wait for a runner that does not exist."""
    if _RUNNER in bus.__dict__ and bus.__dict__[_RUNNER] is None:
        return None  # runners are driven by hand (tests)
    runner = bus.__dict__.get(_RUNNER)
    if runner is None or not runner.is_alive():
        runner = start_job_runner(bus, notifier_for(bus))
    return runner


def manual_runners(bus: Bus) -> None:
    """Tests drive runners themselves: never start one in the background for this bus."""
    bus.__dict__[_RUNNER] = None
