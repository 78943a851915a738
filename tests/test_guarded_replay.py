"""`/bus replay`: range preview, approval, marked copies, limits and errors."""
from __future__ import annotations

import json

from bot.jobs import store
from bot.jobs.runner import JobRunner
from bot.phrase import plain
from commands import router
from tests.guard_helpers import buttons, click, gbus, grt, show  # noqa: F401  (gbus, grt: fixtures)
from tests.jobs_helpers import TYPES, copies, seed_events

ON_CLUSTER = True  # also on a 3-primary Redis Cluster: default names (three slots) and hash-tagged

T0 = "1970-01-01T00:16:40Z"  # 1,000,000 ms: the first seeded event


def _run(rt, text):
    request = click(rt, router.run(text, rt, "U1"), "guard_confirm", "U1")
    job_id = click(rt, request, "guard_approve", "U2").context["job"]["id"]
    JobRunner(rt.bus).tick()
    return store.get(rt.bus, job_id)


def test_replay_range_by_type_and_tenant(gbus, grt):
    seed_events(gbus.r, gbus.keys.events, 60)
    text = f"replay from={T0} to=1970-01-01T00:16:40.029Z types={TYPES[0]} tenant=ws_0"
    preview = router.run(text, grt, "U1")
    show(preview)
    assert "5 of the 30 events" in preview.text  # i in 0..29 with i % 6 == 0
    job = _run(grt, text)
    assert job.status == "COMPLETED" and job.moved == 5
    src = copies(gbus.r, gbus.keys.events, job.id, "replayOf", "replayJob", start="1000060")
    assert src == [f"{1_000_000 + i}-0" for i in range(0, 30, 6)]
    for _, f in gbus.r.xrange(gbus.keys.events, "1000060", "+"):
        ev = json.loads(f["event"])
        assert ev["tenantId"] == "ws_0" and ev["data"]["__replay"] is True
        assert ev["correlationId"] == f"replay-{job.id}"


def test_limit_fixes_the_upper_bound_and_rate_is_kept(gbus, grt):
    seed_events(gbus.r, gbus.keys.events, 50)
    text = f"replay from={T0} to=1h limit=7 rate=500"
    preview = router.run(text, grt, "U1")
    assert "limit=7" in " ".join(plain(n) for n in preview.context["notes"])
    job = _run(grt, text)
    assert (job.moved, job.upper, job.rate) == (7, "1000006-0", 500)


def test_replay_errors_and_empty_ranges(gbus, grt):
    seed_events(gbus.r, gbus.keys.events, 5)
    after = router.run("replay from=1h to=2h", grt, "U1")
    show(after)
    assert "is after to" in after.text
    assert "needs from=WHEN" in router.run("replay types=a", grt, "U1").text
    assert "not a time" in router.run("replay from=yesterday", grt, "U1").text
    empty = router.run("replay from=2h to=1h", grt, "U1")
    show(empty)
    assert "nothing to replay" in empty.text
    offered = buttons(empty)
    assert set(offered) == {"bus_form"} and offered["bus_form"]["value"] == "replay"  # nothing to confirm


def test_says_when_the_range_starts_before_the_oldest_entry(gbus, grt):
    seed_events(gbus.r, gbus.keys.events, 5)
    preview = router.run("replay from=1970-01-01T00:00:00Z to=1970-01-02T00:00:00Z", grt, "U1")
    show(preview)
    assert "before the oldest entry" in plain(preview.context["warnings"][0])
