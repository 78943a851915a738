"""The guarded flow through `router.run` / `run_action`, with every reply rendered and
checked against Block Kit: preview, confirm, approval, job, audit, and the refusals."""
from __future__ import annotations

import threading
import time

import pytest

from bot.actions import audit
from bot.actions.progress import ActionHooks
from bot.jobs import lease, store
from bot.jobs.runner import JobRunner, run_job
from commands import router
from tests.guard_helpers import buttons, click, gbus, grt, show  # noqa: F401  (gbus, grt: fixtures)
from tests.jobs_helpers import copies, seed_dlq

CRM = "crm.contact.created"
ON_CLUSTER = True  # also on a 3-primary Redis Cluster: default names (three slots) and hash-tagged


def run_jobs(bus, notifier=None) -> None:
    JobRunner(bus, hooks=ActionHooks(notifier)).tick()


def test_bulk_preview_counts_exactly_and_binds_a_dangerous_confirm(gbus, grt):
    seed_dlq(gbus.r, gbus.keys.dlq, 30)
    reply = router.run("reprocess type=crm.contact.created tenant=ws_1", grt, "U1")
    show(reply)
    assert reply.template == "guard_preview"
    assert "5 of 30 DLQ entries match type=crm.contact.created tenant=ws_1; the 25 others" in reply.text
    confirm = buttons(reply)["guard_confirm"]
    assert confirm["confirm"]["title"] and confirm["text"] == "Request approval"
    assert ["crm.contact.created", 5] in reply.context["breakdown"]["by_type"]


def test_empty_selection_says_so_and_offers_only_its_form(gbus, grt):
    seed_dlq(gbus.r, gbus.keys.dlq, 5)
    reply = router.run("reprocess type=no.such.type", grt, "U1")
    show(reply)
    assert "No DLQ entry matches type=no.such.type" in reply.text
    offered = buttons(reply)
    assert set(offered) == {"bus_form"} and offered["bus_form"]["value"] == "reprocess"  # nothing to confirm


def test_bulk_reprocess_end_to_end_with_approval(gbus, grt):
    seed_dlq(gbus.r, gbus.keys.dlq, 30)
    notifier = grt.notifier
    preview = router.run("reprocess type=crm.contact.created", grt, "U1")
    request = click(grt, preview, "guard_confirm", "U1")
    assert request.template == "guard_approval" and request.visibility == "channel"
    approved = click(grt, request, "guard_approve", "U2")
    assert approved.template == "job" and approved.replaces
    job_id = approved.context["job"]["id"]
    gbus.r.xadd(gbus.keys.dlq, {"event": '{"type": "crm.contact.created"}'})  # after preview
    run_jobs(gbus, notifier)
    job = store.get(gbus, job_id)
    assert (job.status, job.moved, job.by, job.approved_by) == ("COMPLETED", 10, "U1", "U2")
    assert len(copies(gbus.r, gbus.keys.events, job_id, "reprocessedFrom", "reprocessJob")) == 10
    assert gbus.r.xlen(gbus.keys.dlq) == 21  # 20 others + the one that arrived after the preview
    final = notifier.posts[-1][0] if not notifier.updates else notifier.updates[-1][1]
    assert "COMPLETED" in final.text
    whats = [e.what for e in audit.latest(gbus, 20)]
    for step in ("reprocess_bulk.request", "reprocess_bulk.confirm", "reprocess_bulk.approve",
                 "reprocess.start", "reprocess.completed"):
        assert step in whats
    show(router.run("job " + job_id, grt, "U3"))
    show(router.run("jobs", grt, "U3"))
    show(router.run("audit 5", grt, "U3"))


def test_double_clicks_run_nothing_twice(gbus, grt):
    seed_dlq(gbus.r, gbus.keys.dlq, 9)
    preview = router.run("reprocess all", grt, "U1")
    request = click(grt, preview, "guard_confirm", "U1")
    again = click(grt, preview, "guard_confirm", "U1")
    assert "already sent for approval" in again.text
    click(grt, request, "guard_approve", "U2")
    twice = click(grt, request, "guard_approve", "U3")
    assert "already approved by U2" in twice.text and "nothing runs twice" in twice.text
    assert len(store.recent(gbus, 10)) == 1


def test_self_approval_is_refused_and_the_request_stays_open(gbus, grt):
    seed_dlq(gbus.r, gbus.keys.dlq, 3)
    request = click(grt, router.run("reprocess all", grt, "U1"), "guard_confirm", "U1")
    own = click(grt, request, "guard_approve", "U1")
    assert "another operator" in own.text and store.recent(gbus, 1) == []
    assert click(grt, request, "guard_approve", "U2").template == "job"
    assert audit.latest(gbus, 10)[-3].what == "reprocess_bulk.approve.refused"


def test_non_operators_are_refused_politely_and_audited(gbus, grt):
    seed_dlq(gbus.r, gbus.keys.dlq, 3)
    reply = router.run("reprocess all", grt, "U9")
    show(reply)
    assert "Only busbot operators" in reply.text and reply.visibility == "private"
    request = click(grt, router.run("reprocess all", grt, "U1"), "guard_confirm", "U1")
    assert "Only busbot operators" in click(grt, request, "guard_approve", "U9").text
    refusals = [e for e in audit.latest(gbus, 10) if e.what == "refused"]
    assert [e.who for e in refusals] == ["U9", "U9"]


def test_expired_buttons_offer_to_start_again(gbus, grt):
    seed_dlq(gbus.r, gbus.keys.dlq, 3)
    preview = router.run("reprocess all", grt, "U1")
    gbus.clock.advance(15 * 60 + 1)
    out = click(grt, preview, "guard_confirm", "U1")
    assert "expired" in out.text and out.replaces
    assert buttons(out)["bus_run"]["value"] == "reprocess all"
    request = click(grt, router.run("reprocess all", grt, "U1"), "guard_confirm", "U1")
    gbus.clock.advance(15 * 60 + 1)
    assert "expired" in click(grt, request, "guard_approve", "U2").text
    assert store.recent(gbus, 5) == []


def test_reject_and_cancel_run_nothing(gbus, grt):
    seed_dlq(gbus.r, gbus.keys.dlq, 3)
    request = click(grt, router.run("reprocess all", grt, "U1"), "guard_confirm", "U1")
    rejected = click(grt, request, "guard_reject", "U2")
    assert "rejected" in rejected.text and rejected.visibility == "channel"
    assert "was rejected by U2" in click(grt, request, "guard_approve", "U3").text
    cancelled = click(grt, router.run("reprocess all", grt, "U1"), "guard_cancel", "U1")
    assert "nothing ran" in cancelled.text
    assert gbus.r.xlen(gbus.keys.dlq) == 3 and store.recent(gbus, 5) == []


@pytest.mark.parametrize("ident", ["1001-0", "evt_1"])
def test_single_reprocess_needs_only_a_confirm_and_runs_at_once(gbus, ident, grt):
    seed_dlq(gbus.r, gbus.keys.dlq, 3)
    preview = router.run(f"reprocess {ident}", grt, "U1")
    show(preview)
    assert buttons(preview)["guard_confirm"]["text"] == "Reprocess"
    done = click(grt, preview, "guard_confirm", "U1")
    assert done.context["job"]["status"] == "COMPLETED" and done.context["job"]["moved"] == "1"
    rows = gbus.r.xrange(gbus.keys.events)
    assert len(rows) == 1 and rows[0][1]["reprocessedFrom"] == "1001-0"
    assert [i for i, _ in gbus.r.xrange(gbus.keys.dlq)] == ["1000-0", "1002-0"]


def test_a_single_reprocess_leased_first_by_another_runner_answers_with_its_result(gbus, grt, monkeypatch):
    """A runner polling the runnable jobs (in this process or another) may lease the entry's
    job between its creation and the click's own lease: the click still answers with the
    job's end, not "running"."""
    seed_dlq(gbus.r, gbus.keys.dlq, 3)
    preview = router.run("reprocess 1001-0", grt, "U1")
    workers: list[threading.Thread] = []
    real_create = store.create

    def runner_work(job_id: str) -> None:
        time.sleep(0.2)  # a runner slower than the click: the click must wait for it, not answer first
        try:
            run_job(gbus, job_id, "other-runner")
        finally:
            lease.release(gbus, job_id, "other-runner")

    def created_then_taken(bus, job, *args, **kwargs):
        out = real_create(bus, job, *args, **kwargs)
        assert lease.acquire(bus, out.id, "other-runner")  # the runner's poll found it first
        workers.append(threading.Thread(target=runner_work, args=(out.id,)))
        workers[-1].start()
        return out

    monkeypatch.setattr(store, "create", created_then_taken)
    try:
        done = click(grt, preview, "guard_confirm", "U1")
    finally:
        for worker in workers:
            worker.join(30)
    assert workers, "no job was created"
    assert done.context["job"]["status"] == "COMPLETED" and done.context["job"]["moved"] == "1"
    assert [i for i, _ in gbus.r.xrange(gbus.keys.dlq)] == ["1000-0", "1002-0"]


@pytest.mark.parametrize("text, says", [
    ("reprocess 17x-0", "No entry"),
    ("reprocess 12-34-56", "not a valid stream id"),
    ("reprocess 999-0", ":dlq` has the stream id"),
    ("reprocess", "needs an id, type=T or all"),
    ("reprocess 1000-0 type=x", "either an id"),
    ("job cancel jnope", "There is no job jnope"),
    ("job jnope", "There is no job"),
])
def test_clear_errors(gbus, text, says, grt):
    seed_dlq(gbus.r, gbus.keys.dlq, 1)
    reply = router.run(text, grt, "U1")
    show(reply)
    assert says in reply.text


def test_cancel_of_a_finished_job_says_so(gbus, grt):
    seed_dlq(gbus.r, gbus.keys.dlq, 2)
    done = click(grt, router.run("reprocess 1000-0", grt, "U1"), "guard_confirm", "U1")
    reply = router.run(f"job cancel {done.context['job']['id']}", grt, "U1")
    show(reply)
    assert "already ended (COMPLETED)" in reply.text


def test_cancel_of_a_running_job_and_one_job_per_stream(gbus, grt):
    seed_dlq(gbus.r, gbus.keys.dlq, 6)
    job = click(grt, click(grt, router.run("reprocess all", grt, "U1"), "guard_confirm", "U1"),
                "guard_approve", "U2")
    busy = router.run("reprocess all", grt, "U1")
    assert "still running" in busy.text
    cancel = router.run_action("job_cancel", job.context["job"]["id"], grt, "U3")
    show(cancel)
    assert cancel.context["job"]["status"] == "CANCELLED"
    run_jobs(gbus)
    assert gbus.r.xlen(gbus.keys.dlq) == 6
