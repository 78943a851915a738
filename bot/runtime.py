"""What one busbot process runs besides its Redis handle, built once at start-up and passed
to everything that needs it (the Slack adapter, the console, the command router, tests).

`build_runtime(bus, notifier)` starts the job runner of guarded actions in a background
thread (it also resumes jobs a dead process left and posts settle-time follow-ups);
`start_jobs=False` leaves runners to the caller (tests tick them by hand; the worker
processes of read-only commands never run jobs).
"""
from __future__ import annotations

import sys
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from bot.actions.policy import NO_GROUPS, GroupDirectory
from bot.actions.runtime import ActionRunner, hooks_for
from bot.bus import Bus
from bot.jobs.runner import JobRunner
from bot.notify import Notifier, NullNotifier

if TYPE_CHECKING:
    from bot.environments import Environments


@dataclass
class Runtime:
    bus: Bus
    notifier: Notifier  # job progress, follow-ups and alerts go out through it
    jobs: JobRunner | None  # None: runners are driven by hand (tests, read-only workers)
    poll_s: float = 1.0
    groups: GroupDirectory = NO_GROUPS  # Slack user groups for the role policy (bot/slack/groups.py)
    # the environment this runtime serves, and all of the process's (bot/environments.py);
    # set by `Environments`, which also tells whether it is protected
    environment: str = "default"
    envs: Environments | None = field(default=None, repr=False, compare=False)
    protected: bool = False
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def ensure_jobs(self) -> JobRunner | None:
        """The process's job runner, restarted if its thread died: a job created here must
        never wait for a runner that does not exist. None when built with start_jobs=False."""
        with self._lock:
            if self.jobs is not None and not self.jobs.is_alive():
                self.jobs = _start_runner(self.bus, self.notifier, self.poll_s)
            return self.jobs

    def stop(self) -> None:
        if self.jobs is not None:
            self.jobs.stop()


# How long a thread may hold the GIL while another waits for it (Python's default: 5 ms).
# A job reads its next page (hiredis and msgspec, CPU) in one thread while another sends the
# previous page's move; at 5 ms the sender waits that long after each socket call, and a
# reprocess moved a fifth fewer events a second (docs/benchmarks.md).
SWITCH_INTERVAL_S = 0.001


def _start_runner(bus: Bus, notifier: Notifier, poll_s: float) -> JobRunner:
    sys.setswitchinterval(min(sys.getswitchinterval(), SWITCH_INTERVAL_S))
    runner = ActionRunner(bus, notifier, hooks=hooks_for(notifier), poll_s=poll_s)
    runner.start()
    return runner


def build_runtime(bus: Bus, notifier: Notifier | None = None, *, start_jobs: bool = True,
                  poll_s: float = 1.0, groups: GroupDirectory = NO_GROUPS) -> Runtime:
    """Call it once at start-up (serve, console) so orphaned jobs resume right away."""
    notifier = notifier or NullNotifier()
    jobs = _start_runner(bus, notifier, poll_s) if start_jobs else None
    return Runtime(bus, notifier, jobs, poll_s, groups)
