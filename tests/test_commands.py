"""Every read command through the router, rendered and validated as Block Kit; the error
boundary (usage, typos, Redis down, internal errors)."""
from __future__ import annotations

import json

import pytest

import commands.health
from bot.bus import Bus
from bot.connection import connect
from bot.render import render_reply
from commands.router import run, run_action
from tests.blockcheck import assert_valid_message
from tests.factories import add_dlq, add_event
from tests.redis_server import free_port
from tests.runtime_helpers import manual_runtime

T0 = 1_764_000_000_000
ON_CLUSTER = True  # also on a 3-primary Redis Cluster: default names (three slots) and hash-tagged


def answer(text, bus, user="U1"):
    reply = run(text, manual_runtime(bus), user)
    message = render_reply(reply)
    assert_valid_message(message)
    return reply, message


def all_text(message) -> str:
    return json.dumps(message["blocks"], ensure_ascii=False)


@pytest.fixture
def busy(bus):
    """A bus with events, a group with pending entries and a DLQ with nasty content."""
    r, k = bus.r, bus.keys
    for i in range(60):
        add_event(r, k.events, T0 + i * 1000, type_=["approval.item.created", "crm.contact.created"][i % 2])
    r.xgroup_create(k.events, k.group, id="0")
    r.xreadgroup(k.group, "host-1", {k.events: ">"}, count=5)
    for i in range(30):
        add_dlq(r, k.dlq, T0 + i, type_="approval.<item>&created", tenant=f"ws_{i % 3}",
                error=("Error <b>&" + "x" * 5000) if i == 3 else f"timeout after {i}ms for ap_{i}")
    r.xadd(k.dlq, {"garbage": "1"}, id=f"{T0 + 100}-0")
    return bus


READ_COMMANDS = ["help", "help dlq", "health", "groups", "events", "events 25", "events 3 type=crm.contact.created",
                 "redis", "dlq", "dlq top", "dlq top 25", "dlq list", "dlq list 15", "dlq list type=nope",
                 "dlq list since=1d error=timeout", "/bus health", "HEALTH"]


@pytest.mark.parametrize("text", READ_COMMANDS)
def test_every_read_command_renders_valid_block_kit(busy, text):
    reply, message = answer(text, busy)
    assert reply.template != "error", message


@pytest.mark.parametrize("text", READ_COMMANDS[:12])
def test_read_commands_on_an_empty_bus(bus, text):
    reply, _ = answer(text, bus)
    assert reply.template != "error"


def test_user_text_is_escaped_and_long_errors_clipped(busy):
    _, message = answer(f"dlq show {T0 + 3}-0", busy)
    text = all_text(message)
    assert "&lt;b&gt;&amp;" in text and "<b>" not in text
    _, listing = answer("dlq list 15", busy)
    assert "approval.&lt;item&gt;&amp;created" in all_text(listing)


def test_dlq_top_content(busy):
    reply, message = answer("dlq top", busy)
    text = all_text(message)
    assert "31 entries" in message["blocks"][0]["text"]["text"]
    assert "timeout after <n>ms for <id>" in reply.context["errors"][0][2]
    assert "dlq list type='approval.<item>&created'" in text  # button value: command text, shell-quoted


def test_event_and_dlq_show_find_by_both_ids(busy):
    r, k = busy.r, busy.keys
    sid, ev = add_dlq(r, k.dlq, T0 + 500, error="boom")
    for ident in (sid, ev["id"]):
        reply, message = answer(f"dlq show {ident}", busy)
        assert reply.template == "dlq_show" and "boom" in all_text(message)
        reply, _ = answer(f"event {ident}", busy)
        assert reply.template == "event" and reply.context["f"].in_dlq


@pytest.mark.parametrize("first", ["dlq list 5", "events 5", "events 5 type=crm.contact.created"])
def test_paging_button_runs_the_next_page(busy, first):
    reply, message = answer(first, busy)
    [older] = [b for blk in message["blocks"] if blk["type"] == "actions" for b in blk["elements"]
               if b["text"]["text"].startswith("Older")]
    page2 = run_action(older["action_id"], older["value"], manual_runtime(busy), "U1")
    assert page2.replaces and page2.template == reply.template
    assert [b["text"]["text"] for b in render_reply(page2)["blocks"][-2]["elements"]][0] == "Newest"
    ids1 = [row["id"] for row in reply.context["rows"]]
    ids2 = [row["id"] for row in page2.context["rows"]]
    assert len(ids2) == 5 and max(ids2) < min(ids1)
    assert_valid_message(render_reply(page2))


def test_share_button_posts_in_channel(busy):
    reply = run_action("bus_share", "health", manual_runtime(busy), "U7")
    assert (reply.visibility, reply.shareable, reply.context["shared_by"]) == ("channel", False, "U7")


@pytest.mark.parametrize("text,expected", [
    ("helth", "Did you mean `/bus health`?"),
    ("dlq tpo", "Did you mean `/bus dlq top`?"),
    ("frobnicate", "`frobnicate` is not a busbot command."),
    ("events lots", "N must be a whole number from 1 to 25, not `lots`."),
    ("events 0", "N must be from 1 to 25, not 0."),
    ("dlq top 99", "N must be from 1 to 25, not 99."),
    ("event", "`event` needs a stream id"),
    ("dlq show", "`dlq show` needs a DLQ stream id"),
    ("dlq list colour=red", "`colour=` is not an option of `dlq list`"),
    ("dlq list since=yesterday", "“yesterday” is not a time"),
    ("dlq list type=", "`type=` needs a value."),
    ("health now", "`health` does not take `now` here."),
    ('dlq list error="unclosed', "A quote in your command is not closed."),
    ("events before=abc", "`before=` takes a stream id"),
    ("dlq show 1764000000000-0", "No entry `1764000000000-0` in the DLQ"),
    ("event clxnothere", "No entry `clxnothere`"),
    ("events ²", "N must be a whole number from 1 to 25, not `²`."),
    ("dlq list since=99999999999w", "is before 1970"),
    ("dlq list since=0001-01-01T00:00:00Z", "is before 1970"),
    ("events before=99999999999999999999-0", "`before=` takes a stream id"),
    ("event 99999999999999999999", "No entry `99999999999999999999`"),
])
def test_bad_input_gets_one_clear_sentence(bus, text, expected):
    reply, message = answer(text, bus)
    assert reply.template == "error" and not reply.shareable
    assert expected in reply.text + " " + all_text(message)
    assert "Traceback" not in all_text(message)


def test_usage_errors_show_the_usage_line(bus):
    reply, _ = answer("events lots", bus)
    assert reply.context["hint"] == ["Usage: ", {"code": "/bus events [N] [type=T]"}]


def test_redis_down_is_one_sentence(settings):
    dead = Bus(connect(f"redis://127.0.0.1:{free_port()}/0"), settings, where="redis://127.0.0.1:1")
    for text in ("health", "dlq top", "dlq list", "event 1-0", "groups", "redis"):
        reply, message = answer(text, dead)
        assert reply.template == "error"
        assert reply.text == "Redis at redis://127.0.0.1:1 refused the connection: nothing listens on that port."


def test_internal_error_becomes_a_sentence_and_is_logged(bus, monkeypatch, caplog):
    def broken(_bus):
        raise KeyError("surprise")
    monkeypatch.setattr(commands.health, "get_health", broken)
    reply, message = answer("health", bus)
    assert reply.text == "busbot hit an internal error running that command; it is logged."
    assert "surprise" not in all_text(message)
    assert "KeyError" in caplog.text


def test_unknown_button_is_explained(bus):
    reply = run_action("from_an_old_version", "x", manual_runtime(bus), "U1")
    assert reply.template == "error" and "older busbot message" in reply.text


OPERATOR_COMMANDS = {"reprocess": "reprocess all", "dlq delete": "dlq delete 1-0", "dlq purge": "dlq purge",
                     "dlq edit": "dlq edit 1-0",
                     "dlq restore": "dlq restore j1", "replay": "replay from=2h to=1h", "trim": "trim 10",
                     "pause": "pause", "resume": "resume", "job cancel": "job cancel j1",
                     "approvals": "approvals", "approval": "approval tok1", "silence": "silence rule=dlq_size"}


def test_every_operator_command_refuses_others_politely_and_audits(bus):
    from commands.registry import REGISTRY
    operator_commands = {c.name for c in REGISTRY.all() if c.role == "operator"}
    assert operator_commands == set(OPERATOR_COMMANDS)  # a new one must be added here
    for name, text in OPERATOR_COMMANDS.items():
        reply, message = answer(text, bus, user="U0NOBODY")
        assert reply.visibility == "private"
        assert "Only busbot operators can" in reply.text and "you are not one of them" in reply.text, name
    audited = bus.r.xrange(bus.keys.audit)
    assert len(audited) == len(OPERATOR_COMMANDS)
    assert all(fields.get("result", "") for _, fields in audited)


def test_dlq_show_of_old_format_and_malformed_entries(bus):
    r, k = bus.r, bus.keys
    old, _ = add_dlq(r, k.dlq, T0, old_format=True, error="boom")
    r.xadd(k.dlq, {"garbage": "1"}, id=f"{T0 + 1}-0")
    reply, message = answer(f"dlq show {old}", bus)
    assert reply.template == "dlq_show" and "not recorded" in all_text(message)
    reply, message = answer(f"dlq show {T0 + 1}-0", bus)
    assert reply.template == "dlq_show" and "_no error message_" in all_text(message)


def test_a_template_failure_is_one_sentence_and_logged(caplog):
    from bot.render import RENDER_FAILED
    from commands.reply import Reply
    message = render_reply(Reply("health", {}, "x", "health"))  # missing context: a template bug
    assert_valid_message(message)
    assert message["text"] == RENDER_FAILED and "rendering health" in caplog.text


def test_dlq_top_buttons_survive_odd_type_names(bus):
    for i, t in enumerate(["a b", "it's", "plain.type"]):
        add_dlq(bus.r, bus.keys.dlq, T0 + i, type_=t)
    _, message = answer("dlq top", bus)
    lists = [b["value"] for blk in message["blocks"] if blk["type"] == "actions" for b in blk["elements"]
             if b["value"].startswith("dlq list")]
    shown = {run(v, manual_runtime(bus)).context["rows"][0]["type"] for v in lists}
    assert shown == {"a b", "it's", "plain.type"}
    assert f"{T0 + 2}-0" in all_text(message)  # the newest example id of each row


def test_every_operator_button_refuses_others_before_its_handler_runs(bus):
    from commands.actions import OPERATOR_ACTIONS
    assert set(OPERATOR_ACTIONS) == {"guard_confirm", "guard_cancel", "guard_approve", "guard_reject",
                                     "job_cancel", "alert_reprocess", "bus_act", "bus_form", "bus_edit",
                                     "bus_edit_submit", "alert_silence_2h", "silence_expire"}
    for action_id, what in OPERATOR_ACTIONS.items():
        reply = run_action(action_id, "no-such-token", manual_runtime(bus), "U0NOBODY")
        assert reply.text == f"Only busbot operators can {what}, and you are not one of them.", action_id
    assert len(bus.r.xrange(bus.keys.audit)) == len(OPERATOR_ACTIONS)
