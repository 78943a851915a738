"""Silences (matching, expiry, not hiding `/bus alerts`), routing by severity, the mention on
critical, the environment's name, links and the trend line: through the alert runner, the
outbox and a recording transport, with an injected clock."""
from __future__ import annotations

import json

import pytest

from bot.actions import audit
from bot.alerts import silences
from bot.alerts.runner import AlertRunner
from bot.alerts.silences import Silence
from bot.render import render_reply
from commands.router import run, run_action
from tests.alerts.helpers import FakeTransport, drain_dlq, fill_dlq, tick
from tests.blockcheck import assert_valid_message
from tests.e2e.blocks import buttons, valid_message
from tests.runtime_helpers import manual_runtime

OPS = "U0OPS"


@pytest.fixture
def slack():
    return FakeTransport()


@pytest.fixture
def ops(alerting):
    alerting.settings = alerting.settings.model_copy(update={"bus_operators": OPS})
    return alerting


@pytest.fixture
def runner(ops, slack):
    return AlertRunner(ops, slack)


def hold(bus, clock, runner, dlq: int) -> None:
    """The DLQ at `dlq` entries for the hold time: two checks, BUS_ALERT_FOR apart."""
    have = bus.r.xlen(bus.keys.dlq)
    if dlq > have:
        fill_dlq(bus.r, bus.keys.dlq, dlq - have)
    else:
        drain_dlq(bus.r, bus.keys.dlq, dlq)
    tick(runner)
    clock.advance(bus.settings.bus_alert_for)
    tick(runner)


def blob(call) -> str:
    valid_message(call["message"])
    assert_valid_message(call["message"])
    return json.dumps(call["message"], ensure_ascii=False)


def command(bus, text: str, user: str = OPS):
    return run(text, manual_runtime(bus), user)


# matching ------------------------------------------------------------------------------

def test_a_silence_matches_what_it_names_and_only_while_it_lasts():
    s = Silence(id="a", rule="lag", group="analytics", created_by=OPS, created_ms=0, expires_ms=100)
    assert s.matches("lag:analytics", "warning") and s.matches("lag:analytics", "critical")
    assert not s.matches("lag:billing", "warning") and not s.matches("idle:analytics", "warning")
    assert not s.matches("dlq_size", "warning")
    warn = Silence(id="b", severity="warning", created_by=OPS, created_ms=0, expires_ms=100)
    assert warn.matches("dlq_size", "warning") and not warn.matches("dlq_size", "critical")
    assert silences.matching([s, warn], "lag:analytics", "warning", now=50) is not None
    assert silences.matching([s, warn], "lag:analytics", "warning", now=100) is None  # expired


def test_durations():
    assert silences.parse_duration("2h") == 7_200_000
    assert silences.parse_duration("1h30m") == 5_400_000
    assert silences.parse_duration("1d") == 86_400_000
    assert silences.parse_duration("soon") is None and silences.parse_duration("2 h") is None


# silences through the alert checks -----------------------------------------------------

def test_a_silenced_alert_fires_posts_nothing_and_still_shows_in_bus_alerts(ops, clock, runner, slack):
    reply = command(ops, "silence rule=dlq_size for=2h reason=known incident")
    assert "Silenced" in reply.text and reply.visibility == "channel"
    hold(ops, clock, runner, 150)
    assert slack.calls == []  # nothing posted
    alerts = command(ops, "alerts")
    row = next(r for r in alerts.context["rows"] if r["id"] == "dlq_size")
    assert row["level"] == "warning" and row["silence"]["by"] == OPS
    assert "silenced" in alerts.text
    rendered = json.dumps(render_reply(alerts), ensure_ascii=False)
    assert "silenced by" in rendered and "known incident" in rendered
    assert_valid_message(render_reply(alerts))


def test_an_episode_begun_under_a_silence_is_posted_once_when_the_silence_ends(ops, clock, runner, slack):
    command(ops, "silence rule=dlq_size for=1h")
    hold(ops, clock, runner, 150)
    assert slack.calls == []
    clock.advance(3600)  # the silence expires
    tick(runner)
    tick(runner)
    assert [c["op"] for c in slack.calls] == ["post"] and "DLQ size — WARNING" in blob(slack.calls[0])
    tick(runner)
    assert len(slack.calls) == 1


def test_expire_now_ends_a_silence_early_and_is_audited(ops, clock, runner, slack):
    command(ops, "silence rule=dlq_size for=2h")
    listing = command(ops, "silences")
    message = render_reply(listing)
    assert_valid_message(message)
    silence_id = buttons(message)["silence_expire"]
    hold(ops, clock, runner, 150)
    assert slack.calls == []
    refused = run_action("silence_expire", silence_id, manual_runtime(ops), "U0BOB")
    assert "operators" in refused.text and silences.active(ops, clock())
    ended = run_action("silence_expire", silence_id, manual_runtime(ops), OPS)
    assert "Ended the silence" in ended.text and ended.replaces
    assert silences.active(ops, clock()) == []
    again = run_action("silence_expire", silence_id, manual_runtime(ops), OPS)
    assert "already ended" in again.text
    tick(runner)
    assert [c["op"] for c in slack.calls] == ["post"]
    whats = [e.what for e in audit.latest(ops, 10)]
    assert "silence.create" in whats and "silence.expire" in whats


def test_a_warning_silence_lets_the_escalation_to_critical_through(ops, clock, runner, slack):
    command(ops, "silence severity=warning for=2h")
    hold(ops, clock, runner, 150)
    assert slack.calls == []
    hold(ops, clock, runner, 600)
    assert [c["op"] for c in slack.calls] == ["post"] and "DLQ size — CRITICAL" in blob(slack.calls[0])


def test_silencing_one_group_leaves_the_others(ops, clock, runner, slack):
    for group in ("analytics", "billing"):
        ops.r.xgroup_create(ops.keys.events, group, id="0", mkstream=True)
    ops.r.xadd(ops.keys.events, {"event": "{}"})
    ops.settings = ops.settings.model_copy(update={"bus_lag_warn": 0, "bus_lag_crit": 10})
    command(ops, "silence rule=lag group=analytics for=2h")
    tick(runner)
    clock.advance(ops.settings.bus_alert_for)
    tick(runner)
    posted = [blob(c) for c in slack.calls if c["op"] == "post"]
    assert any("Consumer lag (billing)" in p for p in posted)
    assert not any("Consumer lag (analytics)" in p for p in posted)


def test_the_silence_command_refuses_what_it_cannot_mean(ops):
    for text, says in [("silence for=2h", "at least one"), ("silence rule=lagg", "rule=lag"),
                       ("silence rule=dlq_size group=analytics", "not a rule per consumer group"),
                       ("silence rule=dlq_size for=soon", "not a duration"),
                       ("silence rule=dlq_size for=30d", "at most"),
                       ("silence severity=high", "warning"),
                       ("silence rule=dlq_size because", "reason="),
                       ("silence rule=redis", "cannot be silenced")]:
        reply = command(ops, text)
        assert reply.template == "error" and says in json.dumps(render_reply(reply)), text
    assert silences.load(ops) == []
    refused = command(ops, "silence rule=dlq_size", user="U0BOB")
    assert "operators" in refused.text and silences.load(ops) == []


def test_rule_with_its_group_and_an_unquoted_reason(ops):
    command(ops, "silence rule=lag:analytics for=30m reason=deploy in progress")
    [s] = silences.load(ops)
    assert (s.rule, s.group, s.reason) == ("lag", "analytics", "deploy in progress")
    assert s.expires_ms - s.created_ms == 1_800_000


def test_silence_button_on_the_alert(ops, clock, runner, slack):
    hold(ops, clock, runner, 150)
    value = buttons(slack.calls[0]["message"])["alert_silence_2h"]
    reply = run_action("alert_silence_2h", value, manual_runtime(ops), OPS)
    assert "Silenced for 2 h" in reply.text
    [s] = silences.active(ops, clock())
    assert (s.rule, s.group, s.severity, s.created_by) == ("dlq_size", None, None, OPS)
    tick(runner)  # the root shows it, its thread says who
    update, line = slack.calls[1], slack.calls[2]
    assert update["op"] == "update" and "Silenced by <@U0OPS>" in blob(update)
    assert "alert_silence_2h" not in buttons(update["message"])
    assert line["thread_ts"] and "Silenced for 2 h by <@U0OPS>" in blob(line)
    again = run_action("alert_silence_2h", value, manual_runtime(ops), OPS)
    assert "already silenced" in again.text and len(silences.active(ops, clock())) == 1
    hold(ops, clock, runner, 600)  # an escalation under the silence posts nothing; the root is edited
    assert [c["op"] for c in slack.calls[3:]] == ["update"]
    assert "DLQ size — CRITICAL" in blob(slack.calls[3]) and "Silenced by" in blob(slack.calls[3])
    drain_dlq(ops.r, ops.keys.dlq, 0)
    tick(runner)
    clock.advance(ops.settings.bus_alert_for)
    tick(runner)
    assert [c["op"] for c in slack.calls[4:]] == ["update"] and "resolved" in blob(slack.calls[4])


# routing, mention, environment, links, trend -----------------------------------------

@pytest.fixture
def routed(ops):
    ops.settings = ops.settings.model_copy(update={
        "bus_alert_channel_critical": "C0CRIT", "bus_alert_mention": "S0ONCALL",
        "bus_environment_name": "production", "bus_runbook_url": "https://wiki.example.com/runbook",
        "bus_dashboard_url": "https://busbot.example.com/admin/events"})
    return ops


def test_warning_goes_to_the_alert_channel_and_critical_to_its_own_with_a_mention(routed, clock, runner, slack):
    hold(routed, clock, runner, 150)
    [warn] = slack.calls
    assert warn["channel"] == "C0ALERTS" and "<!subteam^" not in blob(warn)
    assert "production" in warn["message"]["text"] and "*Environment*\\nproduction" in blob(warn)
    assert "https://wiki.example.com/runbook#scenario-high-dlq-growth" in blob(warn)
    assert "https://busbot.example.com/admin/events/dlq" in blob(warn)
    hold(routed, clock, runner, 600)  # escalates: one more root, in the critical channel
    ops = [(c["op"], c["channel"], c["thread_ts"]) for c in slack.calls[1:]]
    crit_ts = slack.calls[1]["ts"]
    assert ops == [("post", "C0CRIT", None), ("update", "C0ALERTS", None), ("update", "C0CRIT", None),
                   ("post", "C0CRIT", crit_ts)]
    assert "<!subteam^S0ONCALL>" in blob(slack.calls[1]) and "DLQ size — CRITICAL" in blob(slack.calls[1])
    drain_dlq(routed.r, routed.keys.dlq, 0)
    tick(runner)
    clock.advance(routed.settings.bus_alert_for)
    tick(runner)
    resolved = [(c["op"], c["channel"]) for c in slack.calls[5:]]
    assert resolved == [("update", "C0ALERTS"), ("update", "C0CRIT"), ("post", "C0CRIT")]
    assert "resolved" in blob(slack.calls[5]) and "<!subteam^" not in blob(slack.calls[5])


def test_a_critical_fire_posts_once_in_the_critical_channel(routed, clock, runner, slack):
    hold(routed, clock, runner, 600)
    assert [(c["op"], c["channel"]) for c in slack.calls] == [("post", "C0CRIT")]


def test_only_a_critical_channel_posts_criticals_and_nothing_else(ops, clock, runner, slack):
    ops.settings = ops.settings.model_copy(update={"bus_alert_channel": None, "bus_alert_channel_critical": "C0CRIT"})
    hold(ops, clock, runner, 150)
    assert slack.calls == []
    hold(ops, clock, runner, 600)
    assert [(c["op"], c["channel"]) for c in slack.calls] == [("post", "C0CRIT")]


class LookupTransport(FakeTransport):
    def __init__(self, groups: dict[str, str]):
        super().__init__()
        self.groups = groups

    def usergroup_id(self, handle: str) -> str | None:
        return self.groups.get(handle.lstrip("@"))


def test_a_mention_handle_is_looked_up_else_shown_as_text(ops, clock):
    ops.settings = ops.settings.model_copy(update={"bus_alert_mention": "@oncall-platform"})
    found = LookupTransport({"oncall-platform": "S0PLAT"})
    hold(ops, clock, AlertRunner(ops, found), 600)
    assert "<!subteam^S0PLAT>" in blob(found.calls[0])
    unknown = LookupTransport({})
    ops.r.delete(*ops.r.keys(ops.settings.bus_prefix + ":bus:alert*"))
    hold(ops, clock, AlertRunner(ops, unknown), 600)
    text = blob(unknown.calls[0])
    assert "@oncall-platform" in text and "<!subteam" not in text


def test_the_alert_shows_its_trend_with_the_change(ops, clock, runner, slack):
    fill_dlq(ops.r, ops.keys.dlq, 150)
    tick(runner)
    clock.advance(120)
    fill_dlq(ops.r, ops.keys.dlq, 70)
    tick(runner)
    clock.advance(180)
    tick(runner)
    assert "DLQ size 150 -> 220 in 5m" in blob(slack.calls[0])


class GroupsClient:
    def __init__(self, fail: bool = False):
        self.calls, self.fail = 0, fail

    def usergroups_list(self, include_disabled: bool = False) -> dict:
        self.calls += 1
        if self.fail:
            raise ConnectionError("no Slack")
        return {"ok": True, "usergroups": [{"id": "S0PLAT", "handle": "oncall-platform"}]}


def test_slack_transport_looks_handles_up_once_and_survives_slack_down():
    from types import SimpleNamespace

    from bot.slack.transport import SlackTransport
    client = GroupsClient()
    transport = SlackTransport(SimpleNamespace(client=client))
    assert transport.usergroup_id("@oncall-platform") == "S0PLAT"
    assert transport.usergroup_id("@OnCall-Platform") == "S0PLAT"
    assert transport.usergroup_id("@nobody") is None and client.calls == 1  # cached
    down = GroupsClient(fail=True)
    transport = SlackTransport(SimpleNamespace(client=down))
    assert transport.usergroup_id("@oncall-platform") is None
    assert transport.usergroup_id("@oncall-platform") is None and down.calls == 1  # not asked at every post


def test_two_processes_post_an_episode_begun_under_a_silence_once(ops, clock, slack):
    first, second = AlertRunner(ops, slack), AlertRunner(ops, slack)
    command(ops, "silence rule=dlq_size for=1h")
    fill_dlq(ops.r, ops.keys.dlq, 150)
    for _ in range(2):
        tick(first)
        tick(second)
        clock.advance(ops.settings.bus_alert_for)
    assert slack.calls == []
    clock.advance(3600)
    for _ in range(3):
        first.check()
        second.check()
        first.deliver()
        second.deliver()
    assert [c["op"] for c in slack.calls] == ["post"]
