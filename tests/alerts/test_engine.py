"""Checks against Redis with an injected clock: state in Redis, one transition per claim,
two engines on one Redis, restart."""
from __future__ import annotations

import json

from bot.alerts.engine import run_check
from bot.alerts.machine import AlertState
from bot.alerts.state import claim, load
from bot.bus import Bus
from tests.alerts.helpers import drain_dlq, fill_dlq

ON_CLUSTER = True  # also on a 3-primary Redis Cluster: default names (three slots) and hash-tagged


def queued(bus, rule="dlq_size") -> list[dict]:
    return [json.loads(x) for x in bus.r.lrange(bus.keys.alert_outbox(rule), 0, -1)]

def kinds(bus, rule="dlq_size") -> list[str]:
    return [d["kind"] for d in queued(bus, rule)]

def test_fires_after_hold_then_updates_the_same_episode(alerting, clock):
    fill_dlq(alerting.r, alerting.keys.dlq, 150)
    run_check(alerting)
    clock.advance(299)
    run_check(alerting)
    assert kinds(alerting) == []
    clock.advance(1)
    run_check(alerting)
    assert kinds(alerting) == ["post"]
    st, _ = load(alerting, "dlq_size")
    assert st.level == "warning" and st.value == 150
    fill_dlq(alerting.r, alerting.keys.dlq, 400)
    run_check(alerting)
    clock.advance(300)
    run_check(alerting)
    out = queued(alerting)
    assert [d["kind"] for d in out] == ["post", "update", "thread"]
    assert {d["episode"] for d in out} == {st.episode}
    assert out[1]["view"]["level"] == "critical" and "Escalated" in out[2]["text"]

def test_resolve_with_hysteresis_says_duration_and_peak(alerting, clock):
    r, dlq = alerting.r, alerting.keys.dlq
    fill_dlq(r, dlq, 150)
    run_check(alerting)
    clock.advance(300)
    run_check(alerting)
    drain_dlq(r, dlq, 95)
    clock.advance(60)
    run_check(alerting)
    clock.advance(600)
    run_check(alerting)
    assert kinds(alerting) == ["post"]  # 95 is under 100 but not under 90
    drain_dlq(r, dlq, 90)
    run_check(alerting)
    clock.advance(300)
    run_check(alerting)
    out = queued(alerting)
    assert [d["kind"] for d in out] == ["post", "update", "thread"]
    assert out[1]["view"]["level"] == "resolved" and out[1]["view"]["peak"] == "150 entries"
    assert "Resolved after 21m" in out[2]["text"]

def test_two_engines_on_one_redis_claim_each_transition_once(alerting, clock):
    other = Bus(alerting.r, alerting.settings, clock=clock)
    fill_dlq(alerting.r, alerting.keys.dlq, 600)
    for _ in range(3):
        run_check(alerting)
        run_check(other)
        clock.advance(150)
    assert kinds(alerting) == ["post"]
    _, version = load(alerting, "dlq_size")
    assert version == 6  # every check wrote its state once, none overwrote another

def test_restart_reads_state_back_and_does_not_repost(alerting, clock):
    fill_dlq(alerting.r, alerting.keys.dlq, 600)
    run_check(alerting)
    clock.advance(300)
    run_check(alerting)
    restarted = Bus(alerting.r, alerting.settings, clock=clock)
    clock.advance(30)
    run_check(restarted)
    assert kinds(alerting) == ["post"]
    assert load(restarted, "dlq_size")[0].level == "critical"

def test_reminder_after_repeat_while_unacknowledged(alerting, clock):
    fill_dlq(alerting.r, alerting.keys.dlq, 150)
    run_check(alerting)
    clock.advance(300)
    run_check(alerting)
    clock.advance(alerting.settings.bus_alert_repeat)
    run_check(alerting)
    out = queued(alerting)
    assert [d["kind"] for d in out] == ["post", "update", "thread"]
    assert "Reminder" in out[2]["text"]

def test_without_a_channel_state_changes_but_nothing_is_queued(bus, clock):
    bus.clock = clock
    fill_dlq(bus.r, bus.keys.dlq, 600)
    run_check(bus)
    clock.advance(300)
    run_check(bus)
    assert load(bus, "dlq_size")[0].level == "critical" and kinds(bus) == []


def test_a_vanished_group_resolves_and_is_forgotten(alerting, clock):
    r, k = alerting.r, alerting.keys
    for _ in range(3):
        r.xadd(k.events, {"event": "{}"})
    r.xgroup_create(k.events, "old-group", id="0")
    s = alerting.settings
    alerting.settings = s.model_copy(update={"bus_lag_warn": 1, "bus_lag_crit": 100})
    run_check(alerting)
    clock.advance(300)
    run_check(alerting)
    assert load(alerting, "lag:old-group")[0].level == "warning"
    r.xgroup_destroy(k.events, "old-group")
    run_check(alerting)
    clock.advance(300)
    run_check(alerting)
    assert kinds(alerting, "lag:old-group") == ["post", "update", "thread"]
    assert "lag:old-group" not in r.smembers(k.alert_rules) and not r.exists(k.alert("lag:old-group"))


def test_a_stale_version_cannot_claim_a_transition(alerting):
    fired = AlertState(level="critical", episode=1)
    assert claim(alerting, "dlq_size", 0, fired, [{"kind": "post"}])
    assert not claim(alerting, "dlq_size", 0, fired, [{"kind": "post"}])  # the loser of the race
    assert kinds(alerting) == ["post"] and load(alerting, "dlq_size")[1] == 1


def test_deliveries_queued_under_the_outbox_name_before_the_upgrade_are_delivered(alerting):
    """Outboxes moved next to their rule's state (one cluster slot); a single Redis upgraded
    with deliveries still queued under the old name loses none of them."""
    from bot.alerts.outbox import deliver
    from tests.alerts.helpers import FakeTransport
    if alerting.cluster:
        return  # busbot never ran on a cluster under the old names
    legacy = alerting.keys.legacy_alert_outbox("msg.old")
    assert legacy != alerting.keys.alert_outbox("msg.old")
    item = {"kind": "post", "channel": "C0JOBS", "rule": "msg.old", "episode": 1,
            "message": {"text": "queued before the upgrade", "blocks": []}, "created_ms": alerting.clock()}
    alerting.r.rpush(legacy, json.dumps(item))
    alerting.r.sadd(alerting.keys.alert_outbox_index, "msg.old")
    slack = FakeTransport()
    deliver(alerting, slack, "C0ALERTS")
    assert [c["op"] for c in slack.calls] == ["post"] and not alerting.r.exists(legacy)
    assert "msg.old" not in alerting.r.smembers(alerting.keys.alert_outbox_index)
