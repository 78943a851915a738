"""Actions where you look: buttons on `dlq show`, `dlq top` rows and filtered `dlq list` start
the guarded flow with the filters they show; `dlq list`, `reprocess` and `dlq purge` share
the filters (type, tenant, error, signature, since, until); the edit keeps masked values."""
from __future__ import annotations

import json

import pytest

from bot.bus import Bus
from bot.console.render_text import render_reply_text
from bot.envelope import parse_entry
from bot.jobs.runner import JobRunner
from bot.jobs.select import matches
from bot.runtime import Runtime
from bot.services.signature import signature
from bot.settings import Settings
from commands import router
from commands.edit import unmasked
from tests.conftest import FakeClock, names
from tests.guard_helpers import show
from tests.jobs_helpers import seed_dlq
from tests.runtime_helpers import manual_runtime


@pytest.fixture
def obus(r, request) -> Bus:
    """A bus whose operators are U1, U2 and U3, with a fake clock."""
    return Bus(r, Settings(_env_file=None, bus_operators="U1,U2,U3", **names(request)), clock=FakeClock(),
               where="test redis")


@pytest.fixture
def ort(obus) -> Runtime:
    return manual_runtime(obus)


def all_buttons(reply) -> list[dict]:
    ctx = reply.context
    return (ctx.get("buttons", []) + ctx.get("bulk", [])
            + [b for rows in ctx.get("row_buttons", {}).values() for b in rows])


def labelled(reply) -> dict[str, dict]:
    return {b["text"]: b for b in all_buttons(reply)}


def test_every_dlq_top_row_has_list_and_reprocess_these(obus, ort):
    seed_dlq(obus.r, obus.keys.dlq, 30)  # error "timeout" every 5th entry, "boom" otherwise
    reply = router.run("dlq top 25", ort, "U1")
    show(reply)  # valid Block Kit within the limits, and a console rendering
    rows = reply.context["row_buttons"]
    assert len(rows["types"]) == 2 * 3 and len(rows["tenants"]) == 2 * 2 and len(rows["errors"]) == 2 * 2
    by_label = labelled(reply)
    assert by_label["List crm.contact.created"]["value"] == "dlq list type=crm.contact.created"
    assert by_label["Reprocess these 10: crm.contact.created"]["value"] == "reprocess type=crm.contact.created"
    assert by_label["Reprocess these 6: timeout"] == {"text": "Reprocess these 6: timeout", "action_id": "bus_act",
                                                      "value": "reprocess signature=timeout"}
    screen = render_reply_text(reply, width=100)
    assert any(c.label == "Reprocess these 15: ws_0" and c.value == "reprocess tenant=ws_0" for c in screen.choices)


def test_reprocess_these_previews_exactly_the_row_and_the_job_moves_those(obus, ort):
    seed_dlq(obus.r, obus.keys.dlq, 30)
    top = router.run("dlq top", ort, "U1")
    button = labelled(top)["Reprocess these 6: timeout"]
    preview = router.run_action(button["action_id"], button["value"], ort, "U1")
    show(preview)
    assert not preview.replaces, "the preview comes beside the top list, not in its place"
    assert "6 of 30 DLQ entries match" in preview.text
    confirm = {b["action_id"]: b for b in preview.context["buttons"]}["guard_confirm"]
    request = router.run_action("guard_confirm", confirm["value"], ort, "U1")
    router.run_action("guard_approve", confirm["value"], ort, "U2")
    assert "Approval needed" in request.text
    JobRunner(obus).tick()
    left = [parse_entry(i, f) for i, f in obus.r.xrange(obus.keys.dlq)]
    assert len(left) == 24 and all(e.error == "boom" for e in left)


def test_others_cannot_start_a_guarded_action_from_a_button(obus, ort):
    seed_dlq(obus.r, obus.keys.dlq, 3)
    reply = router.run_action("bus_act", "dlq purge", ort, "U0NOBODY")
    assert "Only busbot operators" in reply.text
    assert obus.r.xlen(obus.keys.dlq) == 3


def test_a_filtered_list_offers_reprocess_and_delete_of_all_it_matches(obus, ort):
    seed_dlq(obus.r, obus.keys.dlq, 30)
    unfiltered = router.run("dlq list 5", ort, "U1")
    assert unfiltered.context["bulk"] == []
    listed = router.run("dlq list 5 type=crm.contact.created tenant=ws_1", ort, "U1")
    show(listed)
    assert len(listed.context["rows"]) == 5
    bulk = {b["text"]: b["value"] for b in listed.context["bulk"]}
    assert bulk == {"Reprocess these 5": "reprocess type=crm.contact.created tenant=ws_1",
                    "Delete these 5": "dlq purge type=crm.contact.created tenant=ws_1"}
    preview = router.run_action("bus_act", bulk["Delete these 5"], ort, "U1")
    assert "5 of 30 DLQ entries match" in preview.text


def test_since_and_until_bound_the_list_and_the_selection(obus, ort):
    seed_dlq(obus.r, obus.keys.dlq, 30)  # ids 1000-0 … 1029-0: one entry per millisecond
    window = "since=1970-01-01T00:00:01.010Z until=1970-01-01T00:00:01.019Z"
    listed = router.run(f"dlq list 15 {window}", ort, "U1")
    assert [r["id"] for r in listed.context["rows"]] == [f"{ms}-0" for ms in range(1019, 1009, -1)]
    preview = router.run(f"reprocess {window}", ort, "U1")
    show(preview)
    assert "10 of 30 DLQ entries match" in preview.text
    purge = router.run(f"dlq purge type=agent.run.completed {window}", ort, "U1")
    assert "3 of 30 DLQ entries match" in purge.text  # 1011, 1014, 1017
    backwards = router.run("dlq list since=1h until=2h", ort, "U1")
    assert "is after" in backwards.text


def test_several_types_and_a_signature_filter_the_list_like_the_job():
    e = parse_entry("1-0", {"event": json.dumps({"id": "e1", "type": "a.b"}), "error": "timeout after 5003ms"})
    sig = signature(e.error)
    assert matches({"signature": sig}, e) and not matches({"signature": "boom"}, e)
    assert matches({"types": ["x", "a.b"]}, e)


def test_dlq_show_offers_reprocess_edit_and_delete(obus, ort):
    seed_dlq(obus.r, obus.keys.dlq, 2)
    obus.r.xadd(obus.keys.dlq, {"error": "no event at all"}, id="2000-0")
    shown = router.run("dlq show 1001-0", ort, "U1")
    show(shown)
    assert [(b["text"], b["action_id"], b["value"]) for b in shown.context["buttons"]] == [
        ("Reprocess", "bus_act", "reprocess 1001-0"), ("Edit and retry", "bus_edit", "1001-0"),
        ("Delete", "bus_act", "dlq delete 1001-0")]
    bare = router.run("dlq show 2000-0", ort, "U1")
    assert [b["text"] for b in bare.context["buttons"]] == ["Delete"], "nothing to reprocess or edit"


def test_the_console_gets_the_usage_where_slack_opens_a_form(obus, ort):
    for text, usage in (("replay", "/bus replay from=WHEN"), ("reprocess", "/bus reprocess <id>")):
        reply = router.run(text, ort, "U1")
        screen = render_reply_text(reply, width=120).text
        assert usage in screen and "form" in screen, screen
    edit = router.run("dlq edit 1000-0", ort, "U1")
    assert "No entry" in edit.text


def test_an_edit_keeps_the_real_value_of_masked_fields_left_alone():
    raw = {"id": "e1", "data": {"email": "ann@example.com", "n": 1, "tags": ["a", "b"]}}
    shown = {"id": "e1", "data": {"email": "a***@example.com", "n": 1, "tags": ["a", "b"]}}
    edited = {"id": "e1", "data": {"email": "a***@example.com", "n": 2, "tags": ["a", "b"], "new": True}}
    assert unmasked(edited, shown, raw) == {"id": "e1", "data": {"email": "ann@example.com", "n": 2,
                                                                 "tags": ["a", "b"], "new": True}}
    replaced = {"id": "e1", "data": {"email": "bob@example.com", "n": 1, "tags": ["a", "b"]}}
    assert unmasked(replaced, shown, raw)["data"]["email"] == "bob@example.com"


def test_an_iso_time_is_read_to_the_exact_millisecond():
    from bot.timeparse import parse_iso_ms, parse_when
    # 1.019 s as a float times 1000 is 1018.99…: the `until=` bound used to drop the last millisecond
    assert parse_when("1970-01-01T00:00:01.019Z", 0) == 1019
    assert parse_iso_ms("2025-12-05T10:30:00.019Z") == 1_764_930_600_019


def test_an_edit_may_change_the_type_only_when_the_operator_says_so():
    import pytest

    from commands.edit import EditRefused, check_edit
    event = {"id": "e1", "type": "crm.contact.updated", "source": "platform",
             "timestamp": "2025-12-05T10:30:00.000Z", "data": {}}
    with pytest.raises(EditRefused, match="type changed"):
        check_edit(json.dumps(event), "crm.contact.created", type_change=False)
    assert check_edit(json.dumps(event), "crm.contact.created", type_change=True) == event
    for broken, says in (({**event, "timestamp": "yesterday"}, "ISO-8601"), ({**event, "data": [1]}, "object"),
                         ([event], "JSON object")):
        with pytest.raises(EditRefused, match=says):
            check_edit(json.dumps(broken), "crm.contact.updated", type_change=False)


def test_an_empty_replay_offers_the_form_to_try_other_values(obus, ort):
    reply = router.run("replay from=2h to=1h", ort, "U1")
    show(reply)
    assert [b["action_id"] for b in reply.context["buttons"]] == ["bus_form"]


def test_dlq_top_with_every_row_full_stays_within_block_kit_limits(obus, ort):
    p = obus.r.pipeline(transaction=False)
    for i in range(40):  # 40 types, tenants and error signatures: the top 25 of each get buttons
        p.xadd(obus.keys.dlq, {"event": json.dumps({"id": f"e{i}", "type": f"svc{i}.thing.happened-" + "x" * 40,
                                                    "tenantId": f"tenant-{chr(97 + i % 26)}{i}"}),
                               "error": f"handler {chr(97 + i % 26) * (i + 1)} failed"}, id=f"{1000 + i}-0")
    p.execute()
    reply = router.run("dlq top 25", ort, "U1")
    message = show(reply)  # 50 blocks at most, 25 elements an actions block, 75 characters a label
    assert sum(len(rows) for rows in reply.context["row_buttons"].values()) == 3 * 25 * 2
    assert sum(1 for b in message["blocks"] if b["type"] == "actions") == 3 * 3 + 1
