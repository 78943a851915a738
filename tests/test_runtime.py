"""The runtime each process builds once: its job runner resumes orphaned jobs, a dead runner
is replaced before a job waits for it, and what a runtime carries belongs to it alone."""
from __future__ import annotations

import dataclasses
import time

from bot.jobs import store
from bot.runtime import build_runtime
from commands import router
from tests.guard_helpers import buttons, gbus  # noqa: F401  (gbus: fixture)
from tests.jobs_helpers import new_job, seed_dlq
from tests.runtime_helpers import RecordingNotifier, manual_runtime


def _wait_until(check, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "gave up waiting"
        time.sleep(0.01)


def test_its_runner_resumes_a_job_no_process_runs(gbus):  # noqa: F811
    seed_dlq(gbus.r, gbus.keys.dlq, 5)
    job = new_job(gbus, "reprocess", gbus.keys.dlq, gbus.keys.events, {}, to_move=5)
    notifier = RecordingNotifier()
    rt = build_runtime(gbus, notifier, poll_s=0.01)
    try:
        _wait_until(lambda: store.get(gbus, job.id).status == "COMPLETED")
    finally:
        rt.stop()
        rt.jobs.join(10)
    assert gbus.r.xlen(gbus.keys.events) == 5 and notifier.posts


def test_a_dead_runner_is_replaced_before_a_job_needs_it(gbus):  # noqa: F811
    rt = build_runtime(gbus, poll_s=0.01)
    first = rt.jobs
    first.stop()
    first.join(10)
    try:
        again = rt.ensure_jobs()
        assert again is not first and again.is_alive() and rt.jobs is again
    finally:
        rt.stop()


def test_runners_driven_by_hand_are_never_started(gbus):  # noqa: F811
    rt = manual_runtime(gbus)
    seed_dlq(gbus.r, gbus.keys.dlq, 3)
    preview = router.run("reprocess 1000-0", rt, "U1")
    done = router.run_action("guard_confirm", buttons(preview)["guard_confirm"]["value"], rt, "U1")
    assert done.template == "job" and rt.jobs is None and rt.ensure_jobs() is None


def test_two_runtimes_over_one_bus_keep_their_own_notifier(gbus):  # noqa: F811
    seed_dlq(gbus.r, gbus.keys.dlq, 3)
    mine, other = manual_runtime(gbus), manual_runtime(dataclasses.replace(gbus))
    preview = router.run("reprocess 1000-0", mine, "U1")
    router.run_action("guard_confirm", buttons(preview)["guard_confirm"]["value"], mine, "U1")
    assert mine.notifier.posts and not other.notifier.posts


def test_a_copied_bus_has_the_scripts_of_its_client(gbus):  # noqa: F811
    copy = dataclasses.replace(gbus, where="elsewhere")
    assert copy.scripts.get("lease").sha == gbus.scripts.get("lease").sha
    assert copy.scripts is not gbus.scripts and copy.scripts.get("lease") is copy.scripts.get("lease")
