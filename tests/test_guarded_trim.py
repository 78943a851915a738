"""`/bus trim`: never past what a group still needs, unless forced; approval; exact preview."""
from __future__ import annotations

from commands import router
from tests.guard_helpers import buttons, click, gbus, grt, show  # noqa: F401  (gbus, grt: fixtures)
from tests.jobs_helpers import seed_events

ON_CLUSTER = True  # also on a 3-primary Redis Cluster: default names (three slots) and hash-tagged


def _approve(rt, preview):
    return click(rt, click(rt, preview, "guard_confirm", "U1"), "guard_approve", "U2")


def test_trim_without_groups_removes_the_oldest(gbus, grt):
    seed_events(gbus.r, gbus.keys.events, 1000)
    preview = router.run("trim 400", grt, "U1")
    show(preview)
    assert "removing the oldest 600. 600 of them may go" in preview.text
    done = _approve(grt, preview)
    assert "Trimmed" in done.text
    assert 400 <= gbus.r.xlen(gbus.keys.events) <= 500
    assert gbus.r.xrange(gbus.keys.events, "1000599", "1000599")  # never past the threshold


def test_the_safety_bound_keeps_what_a_group_has_not_been_delivered(gbus, grt):
    seed_events(gbus.r, gbus.keys.events, 1000)
    r, g = gbus.r, gbus.keys.group
    r.xgroup_create(gbus.keys.events, g, id="0")
    got = r.xreadgroup(g, "c1", {gbus.keys.events: ">"}, count=300)[0][1]
    r.xack(gbus.keys.events, g, *[i for i, _ in got])
    preview = router.run("trim 100", grt, "U1")
    show(preview)
    assert "300 of them may go" in preview.text and "has not been delivered it yet" in preview.text
    _approve(grt, preview)
    assert r.xrange(gbus.keys.events, "1000300", "1000300")


def test_pending_entries_stop_the_trim_unless_forced(gbus, grt):
    seed_events(gbus.r, gbus.keys.events, 500)
    r, g = gbus.r, gbus.keys.group
    r.xgroup_create(gbus.keys.events, g, id="0")
    r.xreadgroup(g, "c1", {gbus.keys.events: ">"}, count=10)
    stopped = router.run("trim 100", grt, "U1")
    show(stopped)
    assert "none may go" in stopped.text and "pending" in stopped.text and not buttons(stopped)
    forced = router.run("trim 100 force=yes", grt, "U1")
    show(forced)
    assert "400 of them may go" in forced.text
    assert "nothing to trim" in router.run("trim 1000", grt, "U1").text
