"""`/bus ...` through the real HTTP endpoint; answers read from the response_url stand-in."""
from __future__ import annotations

from tests.e2e.blocks import buttons, valid_message
from tests.e2e.slack_stub import command_body


def test_health_is_private_with_a_post_to_channel_button(ask, bus):
    bus.r.xadd(bus.keys.events, {"event": '{"id": "e1", "type": "auth.user.created"}'})
    bus.r.xgroup_create(bus.keys.events, bus.keys.group, "0")
    msg = ask("health")
    valid_message(msg)
    assert msg["response_type"] == "ephemeral"
    assert msg["text"].startswith("Event bus is healthy: 1 events")
    assert buttons(msg)["bus_share"] == "health"


def test_ack_is_empty_and_the_answer_follows_through_response_url(bot, stub):
    """The ack carries nothing; the answer arrives separately (its speed is in bench_ack)."""
    status, body = bot.post_signed(command_body("health", stub.response_url("fast")))
    assert (status, body) == (200, "")
    assert stub.wait_for("/response/fast")


def test_help_lists_the_commands(ask):
    msg = ask("help")
    valid_message(msg)
    assert "health" in msg["text"] and "help" in msg["text"]


def test_unknown_subcommand_gets_usage_and_did_you_mean(ask):
    msg = ask("helth")
    valid_message(msg)
    assert "`helth` is not a busbot command" in str(msg["blocks"])
    assert "Did you mean `/bus health`?" in str(msg["blocks"])
    assert "bus_share" not in buttons(msg), "errors are not offered to the channel"


def test_malformed_arguments_get_the_usage_line(ask):
    msg = ask("health now=1")
    valid_message(msg)
    assert "`now=` is not an option of `health`" in str(msg["blocks"])
    assert "Usage: `/bus health`" in str(msg["blocks"])


def test_empty_text_is_help(ask):
    assert "busbot commands" in ask("")["text"]


def test_dlq_top(ask, bus):
    for n in range(3):
        bus.r.xadd(bus.keys.dlq, {"event": f'{{"id": "e{n}", "type": "crm.contact.created", "tenantId": "ws_1"}}',
                                  "error": f"timeout after {5000 + n}ms", "movedAt": "2025-12-05T10:30:00Z"})
    msg = ask("dlq top")
    valid_message(msg)
    assert "crm.contact.created" in str(msg["blocks"])


def test_dlq_show_missing_id_says_so(ask):
    msg = ask("dlq show 1764000000000-0")
    valid_message(msg)
    assert "1764000000000-0" in str(msg["blocks"])
    assert "Traceback" not in str(msg)


def test_events_5(ask, bus):
    ids = [bus.r.xadd(bus.keys.events, {"event": f'{{"id": "ev{n}", "type": "workspace.member.added"}}'})
           for n in range(8)]
    msg = ask("events 5")
    valid_message(msg)
    shown = [i for i in ids if i in str(msg["blocks"])]
    assert shown == ids[3:], "the newest five, and only those"
    assert buttons(msg)["bus_run"].startswith("events 5"), "a paging button for the older ones"


def test_dlq_top_over_a_dlq_of_malformed_entries(ask, bus):
    bus.r.xadd(bus.keys.dlq, {"event": "{not json", "error": "boom"})
    bus.r.xadd(bus.keys.dlq, {"type": "flat.entry", "payload": "{}"})
    bus.r.xadd(bus.keys.dlq, {"junk": "x"})
    msg = ask("dlq top")
    valid_message(msg)
    text = str(msg["blocks"])
    assert "DLQ top: 3 entries" in text and "Malformed entries: 2." in text
    assert "flat.entry" in text, "a flat entry is shown under its own type, not dropped"


def test_commands_on_a_bus_that_does_not_exist_yet(ask):
    for text in ("health", "events 5", "dlq top", "groups"):
        msg = ask(text)
        valid_message(msg)
        assert "Traceback" not in str(msg) and "internal error" not in msg["text"], text
