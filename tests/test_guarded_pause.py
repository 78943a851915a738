"""`/bus pause` and `/bus resume`: an operator's confirm, the pause key, the announcement."""
from __future__ import annotations

import json

import pytest

from bot.actions import audit
from commands import router
from tests.guard_helpers import buttons, click, gbus, grt, show  # noqa: F401  (gbus, grt: fixtures)

ON_CLUSTER = True  # also on a 3-primary Redis Cluster: default names (three slots) and hash-tagged


@pytest.fixture
def grouped(gbus):  # noqa: F811
    gbus.r.xadd(gbus.keys.events, {"event": "{}"})
    gbus.r.xgroup_create(gbus.keys.events, gbus.keys.group, id="0")
    return gbus


def test_pause_then_resume_with_a_confirm_each(grouped, grt):
    bus = grouped
    preview = router.run("pause reason=deploy", grt, "U1")
    show(preview)
    assert buttons(preview)["guard_confirm"]["text"] == "Pause"  # no second operator needed
    assert bus.r.get(bus.keys.paused(bus.keys.group)) is None
    done = click(grt, preview, "guard_confirm", "U1")
    assert "paused" in done.text
    value = json.loads(bus.r.get(bus.keys.paused(bus.keys.group)))
    assert value["by"] == "U1" and value["reason"] == "deploy" and value["at"]
    assert "already paused" in router.run("pause", grt, "U2").text
    resumed = click(grt, router.run(f"resume {bus.keys.group}", grt, "U2"), "guard_confirm", "U2")
    assert "resumed" in resumed.text and bus.r.get(bus.keys.paused(bus.keys.group)) is None
    assert "not paused" in router.run("resume", grt, "U2").text
    whats = [e.what for e in audit.latest(bus, 20)]
    assert "pause.done" in whats and "resume.done" in whats


def test_pause_announces_on_the_control_channel(grouped, grt):
    bus = grouped
    sub = bus.r.pubsub()
    sub.subscribe(bus.keys.control_channel)
    sub.get_message(timeout=1)
    click(grt, router.run("pause", grt, "U1"), "guard_confirm", "U1")
    msg = sub.get_message(timeout=2)
    assert json.loads(msg["data"])["state"] == "paused"
    sub.close()


def test_unknown_group_and_non_operator(grouped, grt):
    reply = router.run("pause nosuch", grt, "U1")
    show(reply)
    assert "No consumer group nosuch" in reply.text
    assert "Only busbot operators" in router.run("pause", grt, "U9").text


def test_health_shows_the_paused_group(grouped, grt):
    click(grt, router.run("pause", grt, "U1"), "guard_confirm", "U1")
    health = router.run("health", grt, "U1")
    assert "paused by U1" in json.dumps(show(health))
