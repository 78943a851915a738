"""`/bus dlq delete|purge|restore`: archived first, removed, and put back."""
from __future__ import annotations

from bot.jobs.runner import JobRunner
from commands import router
from tests.guard_helpers import buttons, click, gbus, grt, show  # noqa: F401  (gbus, grt: fixtures)
from tests.jobs_helpers import seed_dlq

ON_CLUSTER = True  # also on a 3-primary Redis Cluster: default names (three slots) and hash-tagged


def _approved(rt, text):
    request = click(rt, router.run(text, rt, "U1"), "guard_confirm", "U1")
    return click(rt, request, "guard_approve", "U2")


def test_delete_archives_then_removes_with_one_confirm(gbus, grt):
    seed_dlq(gbus.r, gbus.keys.dlq, 3)
    preview = router.run("dlq delete evt_2", grt, "U1")
    show(preview)
    assert buttons(preview)["guard_confirm"]["text"] == "Delete"
    done = click(grt, preview, "guard_confirm", "U1")
    assert done.context["job"]["status"] == "COMPLETED"
    assert [i for i, _ in gbus.r.xrange(gbus.keys.dlq)] == ["1000-0", "1001-0"]
    (_, f), = gbus.r.xrange(gbus.keys.dlq_archive)
    assert f["archivedFrom"] == "1002-0" and f["error"] and f["attempts"] == "3"


def test_purge_by_type_needs_approval_and_restore_puts_it_back(gbus, grt):
    seed_dlq(gbus.r, gbus.keys.dlq, 12)
    preview = router.run("dlq purge type=crm.contact.created", grt, "U1")
    show(preview)
    assert "4 of 12 DLQ entries match" in preview.text
    job_id = _approved(grt, "dlq purge type=crm.contact.created").context["job"]["id"]
    JobRunner(gbus).tick()
    assert gbus.r.xlen(gbus.keys.dlq) == 8 and gbus.r.xlen(gbus.keys.dlq_archive) == 4
    restore = router.run(f"dlq restore {job_id}", grt, "U1")
    show(restore)
    assert "4 archived entries" in restore.text
    click(grt, restore, "guard_confirm", "U1")
    JobRunner(gbus).tick()
    assert gbus.r.xlen(gbus.keys.dlq) == 12 and gbus.r.xlen(gbus.keys.dlq_archive) == 0
    again = router.run(f"dlq restore {job_id}", grt, "U1")
    assert "holds no entries" in again.text and not buttons(again)


def test_purge_of_nothing_and_restore_of_a_reprocess(gbus, grt):
    seed_dlq(gbus.r, gbus.keys.dlq, 2)
    empty = router.run("dlq purge type=nope", grt, "U1")
    show(empty)
    assert "nothing to purge" in empty.text and not buttons(empty)
    done = click(grt, router.run("reprocess 1000-0", grt, "U1"), "guard_confirm", "U1")
    wrong = router.run(f"dlq restore {done.context['job']['id']}", grt, "U1")
    assert "was a reprocess" in wrong.text


def test_archive_keeps_entries_for_the_retention_only(gbus, grt):
    seed_dlq(gbus.r, gbus.keys.dlq, 2)
    gbus.r.xadd(gbus.keys.dlq_archive, {"event": "{}", "archiveJob": "jold"}, id="1-0")
    job_id = _approved(grt, "dlq purge").context["job"]["id"]
    JobRunner(gbus).tick()
    assert gbus.r.xlen(gbus.keys.dlq_archive) == 2  # purge previews expire old archive entries
    assert "holds no entries" in router.run("dlq restore jold", grt, "U1").text
    assert job_id
