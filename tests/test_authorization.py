"""Who may click what: cancel needs an operator, Post to channel re-runs only read-only
commands, the alert's Reprocess checks the operator before reading anything, approvals count
only in their channel, long command text behind a button is never clipped; odd button values
and `before=0-0` get a sentence."""
from __future__ import annotations

import pytest

from bot.actions import requests
from bot.bus import Bus
from bot.render import render_reply
from bot.settings import Settings
from bot.slack.message import for_slack
from commands import button_values, router
from tests.blockcheck import assert_valid_message
from tests.conftest import FakeClock
from tests.factories import add_event
from tests.jobs_helpers import seed_dlq


def runtime(bus: Bus):
    """What `router.run` takes: the process runtime (runners driven by hand) where it exists."""
    try:
        from bot.runtime import build_runtime
    except ImportError:  # pragma: no cover - before the runtime existed, the router took the bus
        return bus
    return build_runtime(bus, start_jobs=False)


@pytest.fixture
def abus(r) -> Bus:
    return Bus(r, Settings(_env_file=None, bus_operators="U1,U2"), clock=FakeClock(), where="test redis")


@pytest.fixture
def art(abus):
    return runtime(abus)


def buttons(reply) -> dict:
    return {b["action_id"]: b for b in reply.context.get("buttons", [])}


def shown(reply) -> dict:
    message = render_reply(reply)
    assert_valid_message(message)
    return message


def test_a_non_operator_cannot_cancel_an_operators_pending_request(abus, art):
    seed_dlq(abus.r, abus.keys.dlq, 10)
    preview = router.run("reprocess type=crm.contact.created", art, "U1")
    token = buttons(preview)["guard_cancel"]["value"]
    refused = router.run_action("guard_cancel", token, art, "U9")
    shown(refused)
    assert "Only busbot operators" in refused.text
    assert requests.get(abus, token).state == "PREVIEWED"  # still there for its operator
    done = router.run_action("guard_cancel", token, art, "U1")
    assert "Cancelled" in done.text and requests.get(abus, token).state == "CANCELLED"


def test_post_to_channel_refuses_guarded_command_text(abus, art):
    seed_dlq(abus.r, abus.keys.dlq, 10)
    reply = router.run_action("bus_share", "reprocess all", art, "U1")
    shown(reply)
    assert reply.template == "error" and "read-only" in reply.text
    assert not list(abus.r.scan_iter(abus.keys.approval("*")))  # no preview, no request stored
    ok = router.run_action("bus_share", "dlq", art, "U9")
    assert ok.template != "error" and ok.context.get("shared_by") == "U9"


def test_alert_reprocess_refuses_a_non_operator_before_reading_the_dlq(abus, art, monkeypatch):
    import commands.alerts as alert_commands

    def must_not_run(*args, **kwargs):
        raise AssertionError("the DLQ was read before the operator check")
    monkeypatch.setattr(alert_commands, "dlq_top", must_not_run)
    reply = router.run_action("alert_reprocess", "dlq_size|1", art, "U9")
    shown(reply)
    assert "Only busbot operators" in reply.text


def _approval_request(abus, art, channel: str | None):
    seed_dlq(abus.r, abus.keys.dlq, 10)
    preview = router.run("reprocess type=crm.contact.created", art, "U1")
    request = router.run_action("guard_confirm", buttons(preview)["guard_confirm"]["value"], art, "U1", channel)
    assert request.template == "guard_approval"
    return buttons(request)["guard_approve"]["value"]


@pytest.mark.parametrize("button", ["guard_approve", "guard_reject"])
def test_an_approval_counts_only_in_the_channel_it_was_posted_to(abus, art, button):
    token = _approval_request(abus, art, "C_OPS")
    assert requests.get(abus, token).channel == "C_OPS"
    for elsewhere in ("C_OTHER", ""):
        refused = router.run_action(button, token, art, "U2", elsewhere)
        shown(refused)
        assert "another channel" in refused.text
        assert requests.get(abus, token).state == "AWAITING"
    accepted = router.run_action(button, token, art, "U2", "C_OPS")
    assert requests.get(abus, token).state in ("APPROVED", "REJECTED") and accepted.template != "error"


def test_surfaces_other_than_slack_are_not_bound_to_the_channel(abus, art):
    """The console, the dashboard and the API pass no channel: they check their callers."""
    token = _approval_request(abus, art, "C_OPS")
    router.run_action("guard_approve", token, art, "U2")
    assert requests.get(abus, token).state == "APPROVED"


def test_a_request_confirmed_outside_slack_records_no_channel(abus, art):
    token = _approval_request(abus, art, None)
    assert requests.get(abus, token).channel == ""
    router.run_action("guard_approve", token, art, "U2", "C_ANY")
    assert requests.get(abus, token).state == "APPROVED"


def test_a_command_too_long_for_a_button_is_kept_not_clipped(abus, art):
    long_type = "t." + "x" * 2100
    add_event(abus.r, abus.keys.events, 1_764_000_000_000, type_=long_type)
    add_event(abus.r, abus.keys.events, 1_764_000_000_001, type_=long_type)
    text = f"events 1 type={long_type}"
    reply = router.run(text, art, "U9")
    message = shown(reply)
    older = buttons(reply)["bus_run"]["value"]
    assert len(older) <= button_values.MAX_VALUE and older.startswith(button_values.PREFIX)
    share = [e for b in for_slack(reply, message)["blocks"] if b["type"] == "actions"
             for e in b["elements"] if e["action_id"] == "bus_share"][0]
    assert len(share["value"]) <= button_values.MAX_VALUE
    assert button_values.command_of(abus, share["value"]) == text  # the whole text, not a clipped one
    page = router.run_action("bus_run", older, art, "U9")
    assert page.template == "events" and page.context["rows"][0]["type"] == long_type
    shared = router.run_action("bus_share", share["value"], art, "U9")
    assert shared.template == "events" and shared.context["rows"][0]["type"] == long_type


def test_a_button_whose_kept_command_expired_says_so(abus, art):
    reply = router.run_action("bus_run", button_values.PREFIX + "gone", art, "U9")
    shown(reply)
    assert reply.template == "error" and "too old" in reply.text


@pytest.mark.parametrize("text", ["events before=0-0", "events before=0", "dlq list before=0-0",
                                  "dlq list before=00-00"])
def test_paging_before_the_first_possible_id_is_a_sentence(abus, art, text):
    add_event(abus.r, abus.keys.events, 1_764_000_000_000)
    abus.r.xadd(abus.keys.dlq, {"event": "{}"})
    reply = router.run(text, art, "U9")
    shown(reply)
    assert reply.template == "error" and "Nothing is older than" in reply.text


@pytest.mark.parametrize("value", ["", "no_such_rule|1", "|", "lag|x"])
def test_alert_buttons_naming_no_rule_get_a_sentence(abus, art, value):
    for action_id in ("alert_ack", "alert_snooze_1h", "alert_dlq_top"):
        reply = router.run_action(action_id, value, art, "U1")
        shown(reply)
        assert reply.template != "error", reply.text  # a note, not the internal-error apology
        assert "no alert busbot knows" in reply.text
    assert not abus.r.keys("*outbox*")  # nothing queued for a thread that does not exist


def test_a_long_event_type_behind_a_list_button_is_kept_whole(abus, art):
    from tests.factories import add_dlq

    long_type = "t." + "y" * 2100
    add_dlq(abus.r, abus.keys.dlq, 1_764_000_000_000, type_=long_type)
    reply = router.run("dlq top", art, "U9")
    shown(reply)
    listing = [b for b in reply.context["row_buttons"]["types"]
               if b["action_id"] == "bus_run" and b["text"].startswith("List ")]
    assert listing and len(listing[0]["value"]) <= button_values.MAX_VALUE
    assert listing[0]["value"].startswith(button_values.PREFIX)  # the command waits in Redis
    add_dlq(abus.r, abus.keys.dlq, 1_764_000_000_001, type_="t.other")  # a List of everything shows two
    page = router.run_action("bus_run", listing[0]["value"], art, "U9")
    assert page.template == "dlq_list", page.text
    assert [row["type"] for row in page.context["rows"]] == [long_type]
