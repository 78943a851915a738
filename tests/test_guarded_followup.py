"""The settle-time follow-up: which reprocessed events came back to the DLQ, posted once."""
from __future__ import annotations

import json

from bot.actions import followup
from bot.actions.runtime import ActionRunner, hooks_for
from bot.console.render_text import render_text
from bot.jobs import store
from bot.render import render
from commands import router
from tests.blockcheck import assert_valid_message
from tests.guard_helpers import click, gbus, grt  # noqa: F401  (gbus, grt: fixtures)
from tests.jobs_helpers import seed_dlq
from tests.runtime_helpers import RecordingNotifier


def test_followup_counts_the_events_that_came_back(gbus, grt):
    seed_dlq(gbus.r, gbus.keys.dlq, 9)
    notifier = grt.notifier
    request = click(grt, router.run("reprocess all", grt, "U1"), "guard_confirm", "U1")
    job_id = click(grt, request, "guard_approve", "U2").context["job"]["id"]
    runner = ActionRunner(gbus, notifier, hooks=hooks_for(notifier))
    runner.tick()
    # two of the moved events fail again and come back; an unrelated one arrives too
    for i, err in ((3, "timeout: crm down"), (5, "timeout: crm down")):
        gbus.r.xadd(gbus.keys.dlq, {"event": json.dumps({"id": f"evt_{i}", "type": "x"}), "error": err})
    gbus.r.xadd(gbus.keys.dlq, {"event": json.dumps({"id": "other", "type": "x"}), "error": "e"})
    runner.after_tick()
    assert not [p for p, _ in notifier.posts if p.template == "job_followup"]  # not settled yet
    gbus.clock.advance(gbus.settings.bus_settle_seconds + 1)
    runner.after_tick()
    runner.after_tick()  # claimed once: no second post
    posts = [(p, ts) for p, ts in notifier.posts if p.template == "job_followup"]
    assert len(posts) == 1
    message, thread = posts[0]
    assert thread == store.get(gbus, job_id).msg_ts  # in the job's thread
    assert message.text.startswith("2 of the 9 reprocessed events came back")
    assert "timeout: crm down" in json.dumps(message.context["errors"])
    assert_valid_message({**render(message.template, message.context), "text": message.text})
    assert "`evt_3`" in json.dumps(render(message.template, message.context)["blocks"])
    console = render_text(message.template, message.context, width=100).text
    assert "2× timeout: crm down" in console and "`evt_3`" in console
    assert store.get(gbus, job_id).followup == message.text


def test_followup_when_nothing_came_back(gbus, grt):
    seed_dlq(gbus.r, gbus.keys.dlq, 2)
    done = click(grt, router.run("reprocess 1000-0", grt, "U1"), "guard_confirm", "U1")
    gbus.clock.advance(gbus.settings.bus_settle_seconds + 1)
    notifier = RecordingNotifier()
    assert followup.run_due(gbus, notifier) == 1
    assert "None of the 1 reprocessed events came back" in notifier.posts[0][0].text
    assert done.context["job"]["id"]
