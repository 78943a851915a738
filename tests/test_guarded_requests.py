"""What a guarded step or a cancel reads back after writing: a request or job deleted in
between is an answer (missing, no such job), never an error."""
from __future__ import annotations

import pytest

from bot.actions import requests
from bot.actions.requests import GuardedRequest, StepRefused
from bot.jobs import store
from commands import router
from tests.guard_helpers import click, gbus, grt, show  # noqa: F401  (gbus, grt: fixtures)
from tests.jobs_helpers import seed_dlq


def test_a_request_deleted_right_after_its_step_reads_as_missing(gbus, monkeypatch):
    req = requests.create(gbus, GuardedRequest(token="", kind="reprocess", command="reprocess all",
                                               requester="U1"))
    script = gbus.scripts.get("approval_step")

    def step_then_delete(keys, args):
        out = script(keys=keys, args=args)
        gbus.r.delete(keys[0])  # gone (deleted by hand) before the step reads it back
        return out

    monkeypatch.setattr(gbus.scripts, "get", lambda name: step_then_delete)
    with pytest.raises(StepRefused) as refused:
        requests.step(gbus, req.token, "PREVIEWED", "CONFIRMED", confirmed_by="U1")
    assert refused.value.reason == "missing" and refused.value.request is None


def test_a_step_returns_the_request_as_it_now_is(gbus):
    req = requests.create(gbus, GuardedRequest(token="", kind="reprocess", command="reprocess all",
                                               requester="U1"))
    moved = requests.step(gbus, req.token, "PREVIEWED", "CONFIRMED", confirmed_by="U1")
    assert (moved.state, moved.confirmed_by) == ("CONFIRMED", "U1")


def test_cancelling_a_job_deleted_meanwhile_says_there_is_no_job(gbus, grt, monkeypatch):
    seed_dlq(gbus.r, gbus.keys.dlq, 4)
    job = click(grt, click(grt, router.run("reprocess all", grt, "U1"), "guard_confirm", "U1"),
                "guard_approve", "U2")
    job_id = job.context["job"]["id"]
    real_cancel = store.request_cancel

    def deleted_then_cancelled(bus, job_id, owner):
        bus.r.delete(bus.keys.job(job_id))  # expired (or deleted by hand) after the cancel looked it up
        return real_cancel(bus, job_id, owner)

    monkeypatch.setattr(store, "request_cancel", deleted_then_cancelled)
    reply = router.run_action("job_cancel", job_id, grt, "U3")
    show(reply)
    assert reply.text.startswith("There is no job ")
