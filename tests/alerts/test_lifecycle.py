"""The Slack lifecycle through the outbox, with a recording notifier and an injected clock:
one root message per episode, updated in place, thread lines, reminders, buttons, 429."""
from __future__ import annotations

import json

import pytest

from bot.alerts.outbox import root_ref
from bot.alerts.runner import AlertRunner
from bot.notify import DeliveryFailed, RateLimited
from bot.render import render_reply
from commands.router import run_action
from tests.alerts.helpers import FakeTransport, drain_dlq, fill_dlq, tick
from tests.e2e.blocks import buttons, valid_message
from tests.runtime_helpers import manual_runtime


@pytest.fixture
def slack():
    return FakeTransport()


@pytest.fixture
def runner(alerting, slack):
    return AlertRunner(alerting, slack)


def fire(bus, clock, runner, n=150):
    fill_dlq(bus.r, bus.keys.dlq, n - bus.r.xlen(bus.keys.dlq))
    tick(runner)
    clock.advance(bus.settings.bus_alert_for)
    tick(runner)


def texts(call) -> str:
    valid_message(call["message"])
    return str(call["message"])


def test_fire_escalate_resolve_updates_one_message(alerting, clock, runner, slack):
    fire(alerting, clock, runner)
    assert slack.ops() == [("post", None)]
    root = slack.calls[0]
    assert "DLQ size — WARNING" in texts(root) and "150 entries" in texts(root)
    assert "Review and reprocess" in texts(root)
    assert set(buttons(root["message"])) >= {"alert_ack", "alert_snooze_1h", "alert_snooze_4h", "alert_dlq_top"}
    ts = root["ts"]
    fill_dlq(alerting.r, alerting.keys.dlq, 450)
    tick(runner)
    clock.advance(300)
    tick(runner)
    assert slack.ops()[1:] == [("update", ts), ("post", ts)]
    assert "CRITICAL" in texts(slack.calls[1]) and "Escalated to *critical*" in texts(slack.calls[2])
    drain_dlq(alerting.r, alerting.keys.dlq, 10)
    tick(runner)
    clock.advance(300)
    tick(runner)
    assert slack.ops()[3:] == [("update", ts), ("post", ts)]
    resolved = texts(slack.calls[3])
    assert "Resolved* after 15m" in resolved and "peak 600 entries" in resolved
    assert "alert_ack" not in buttons(slack.calls[3]["message"])
    assert "Resolved after 15m; peak 600 entries" in texts(slack.calls[4])


def test_deescalation_updates_and_a_new_episode_gets_a_new_message(alerting, clock, runner, slack):
    fire(alerting, clock, runner, 600)
    drain_dlq(alerting.r, alerting.keys.dlq, 200)
    tick(runner)
    clock.advance(300)
    tick(runner)
    assert [c["op"] for c in slack.calls] == ["post", "update", "post"]
    assert "De-escalated to *warning*" in texts(slack.calls[2])
    drain_dlq(alerting.r, alerting.keys.dlq, 0)
    tick(runner)
    clock.advance(300)
    tick(runner)
    fire(alerting, clock, runner)
    new_roots = [c for c in slack.calls if c["op"] == "post" and c["thread_ts"] is None]
    assert len(new_roots) == 2 and new_roots[0]["ts"] != new_roots[1]["ts"]


def test_reminders_then_acknowledge_stops_them(alerting, clock, runner, slack):
    fire(alerting, clock, runner)
    ts = slack.calls[0]["ts"]
    clock.advance(alerting.settings.bus_alert_repeat)
    tick(runner)
    assert slack.ops()[1:] == [("update", ts), ("post", ts)] and "Reminder" in texts(slack.calls[2])
    value = buttons(slack.calls[0]["message"])["alert_ack"]
    reply = run_action("alert_ack", value, manual_runtime(alerting), "U0BOB")
    assert "Acknowledged" in reply.text
    runner.deliver()
    assert slack.ops()[3:] == [("update", ts), ("post", ts)]
    assert "Acknowledged by <@U0BOB>" in texts(slack.calls[3]) and "alert_ack" not in buttons(slack.calls[3]["message"])
    clock.advance(alerting.settings.bus_alert_repeat * 3)
    tick(runner)
    assert len(slack.calls) == 5


def test_snooze_mutes_reminders_for_its_hours(alerting, clock, runner, slack):
    fire(alerting, clock, runner)
    value = buttons(slack.calls[0]["message"])["alert_snooze_4h"]
    assert "Snoozed" in run_action("alert_snooze_4h", value, manual_runtime(alerting), "U0BOB").text
    runner.deliver()
    assert "snoozed until" in texts(slack.calls[1]) and "snoozed for 4 h by <@U0BOB>" in texts(slack.calls[2])
    clock.advance(4 * 3600 - 1)
    tick(runner)
    assert len(slack.calls) == 3
    clock.advance(1)
    tick(runner)
    assert "Reminder" in texts(slack.calls[-1])


def test_a_button_on_a_resolved_episode_changes_nothing(alerting, clock, runner, slack):
    fire(alerting, clock, runner)
    value = buttons(slack.calls[0]["message"])["alert_ack"]
    drain_dlq(alerting.r, alerting.keys.dlq, 0)
    tick(runner)
    clock.advance(300)
    tick(runner)
    n = len(slack.calls)
    assert "no longer firing" in run_action("alert_ack", value, manual_runtime(alerting), "U0BOB").text
    runner.deliver()
    assert len(slack.calls) == n


def test_top_dlq_types_posts_in_the_alert_thread(alerting, clock, runner, slack):
    fire(alerting, clock, runner)
    value = buttons(slack.calls[0]["message"])["alert_dlq_top"]
    assert "thread" in run_action("alert_dlq_top", value, manual_runtime(alerting), "U0BOB").text
    runner.deliver()
    assert slack.ops()[1] == ("post", slack.calls[0]["ts"])
    assert "approval.item.created" in texts(slack.calls[1])


def test_429_waits_for_retry_after_then_says_it_is_late(alerting, clock, runner, slack):
    slack.failures = [RateLimited(200)]
    fire(alerting, clock, runner)
    assert slack.calls == []
    clock.advance(199)
    runner.deliver()
    assert slack.calls == []
    clock.advance(1)
    runner.deliver()
    assert slack.ops() == [("post", None)]
    assert "Delivered late" in texts(slack.calls[0])


def test_transient_errors_are_retried_with_backoff_and_permanent_ones_dropped(alerting, clock, runner, slack):
    slack.failures = [DeliveryFailed("timeout"), DeliveryFailed("HTTP 500")]
    fire(alerting, clock, runner)
    assert slack.calls == []
    clock.advance(5)
    runner.deliver()  # second failure, next try in 10 s
    clock.advance(9)
    runner.deliver()
    assert slack.calls == []
    clock.advance(1)
    runner.deliver()
    assert slack.ops() == [("post", None)] and "Delivered late" not in texts(slack.calls[0])
    slack.failures = [DeliveryFailed("message_not_found", permanent=True)]
    clock.advance(alerting.settings.bus_alert_repeat)
    tick(runner)
    assert slack.ops()[1:] == [("post", slack.calls[0]["ts"])]  # the update was dropped, the line went out


def test_a_root_post_recorded_before_a_crash_is_not_posted_again(alerting, clock, runner, slack):
    fire(alerting, clock, runner)
    episode = int(buttons(slack.calls[0]["message"])["alert_ack"].split("|")[1])
    assert root_ref(alerting, "dlq_size", episode) == ("C0ALERTS", slack.calls[0]["ts"])
    outbox = alerting.keys.alert_outbox("dlq_size")
    alerting.r.rpush(outbox, json.dumps({"rule": "dlq_size", "episode": episode, "kind": "post", "created_ms": 0,
                                         "view": {}}))
    alerting.r.sadd(alerting.keys.alert_outbox_index, "dlq_size")
    runner.deliver()
    assert len(slack.calls) == 1 and alerting.r.llen(outbox) == 0


def test_reprocess_opens_the_guarded_preview_for_the_top_type(alerting, clock, runner, slack):
    alerting.settings = alerting.settings.model_copy(update={"bus_operators": "U0OPS"})
    fire(alerting, clock, runner)
    value = buttons(slack.calls[0]["message"])["alert_reprocess"]
    preview = render_reply(run_action("alert_reprocess", value, manual_runtime(alerting), "U0OPS"))
    valid_message(preview)
    assert "approval.item.created" in str(preview) and "150" in str(preview)
    refused = render_reply(run_action("alert_reprocess", value, manual_runtime(alerting), "U0BOB"))
    assert "approval.item.created" not in str(refused)


def test_a_second_acknowledge_changes_nothing(alerting, clock, runner, slack):
    fire(alerting, clock, runner)
    value = buttons(slack.calls[0]["message"])["alert_ack"]
    assert "Acknowledged" in run_action("alert_ack", value, manual_runtime(alerting), "U0BOB").text
    again = run_action("alert_ack", value, manual_runtime(alerting), "U0CAROL")
    assert "<@U0BOB> already acknowledged" in json.dumps(render_reply(again)["blocks"])
    runner.deliver()
    acked = [c for c in slack.calls if c["op"] == "post" and "Acknowledged by" in texts(c)]
    assert len(acked) == 1 and "U0CAROL" not in json.dumps(slack.calls)
