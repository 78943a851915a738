"""Personal data in events never leaves busbot: every output path shows masked values, no
filter finds a masked value, and what Redis holds (and what reprocess puts back) is the
original event."""
from __future__ import annotations

import json
import logging

import pytest

from bot.actions import followup
from bot.actions.runtime import ActionRunner, hooks_for
from bot.bus import Bus
from bot.console.render_text import render_reply_text, render_text
from bot.mask import DEFAULT, Masker, parse_fields
from bot.redact import install_log_redaction
from bot.render import render, render_reply
from bot.settings import Settings, SettingsError, load_settings
from commands import router
from tests.blockcheck import assert_valid_message
from tests.conftest import FakeClock, names
from tests.guard_helpers import buttons, click
from tests.runtime_helpers import manual_runtime
from tests.web.conftest import TOKENS, csrf_of, dash_app

EMAIL = "zelda.quartermain@hyrule-mail.example"
PHONE = "+44 7700 900123"
CARD = "4111 1111 1111 1111"
TOKEN = "sk_live_9fQ2xZpL3mN8wR4t"
NAME = "Zelda Quartermain"
# what must never appear anywhere busbot writes to (fragments included)
SECRETS = (EMAIL, "zelda.quartermain", "hyrule-mail", PHONE, "7700 900", CARD, "4111111111111111",
           "4111 1111 1111", TOKEN, "9fQ2xZ", NAME, "Quartermain")
T0 = 1_764_000_000_000


def leaked(text: str) -> list[str]:
    return [s for s in SECRETS if s.lower() in text.lower()]


@pytest.fixture
def mbus(r, request) -> Bus:
    settings = Settings(_env_file=None, bus_operators="U1,U2,api:alice", bus_mask_fields="data.customer.name",
                        bus_api_tokens=",".join(f"{k}:{v}" for k, v in TOKENS.items()),
                        bus_dashboard_secret="test secret", **names(request))
    return Bus(r, settings, clock=FakeClock(T0 + 3_600_000), where="test redis")


def seed(bus: Bus) -> tuple[str, dict]:
    """A DLQ entry and a main-stream event whose data holds an e-mail, phone, card and token."""
    event = {"id": "evt_pii", "type": "crm.contact.created", "tenantId": "ws_1", "source": "crm",
             "timestamp": "2025-12-05T10:30:00.000Z",
             "data": {"customer": {"name": NAME, "email": EMAIL, "phone": PHONE},
                      "payment": {"card": CARD, "cardNumber": int(CARD.replace(" ", ""))},
                      "callback": f"https://hooks.example/cb?token={TOKEN}",
                      "headers": {"Authorization": f"Bearer {TOKEN}"}}}
    raw = json.dumps(event)
    entry_id = bus.r.xadd(bus.keys.dlq, {"event": raw, "error": f"crm rejected {EMAIL}: Bearer {TOKEN} invalid",
                                         "errorStack": f"Error: crm rejected {EMAIL}\n    at send (crm.ts:9:1)",
                                         "movedAt": "2025-12-05T10:31:00.000Z", "attempts": "3"},
                          id=f"{T0}-0")
    bus.r.xadd(bus.keys.events, {"event": raw}, id=f"{T0 - 1000}-0")
    return entry_id, event


def test_masked_values_keep_their_shape():
    text = f"{EMAIL} {PHONE} (555) 123-4567 {CARD} Bearer {TOKEN} redis://u:pw@h:6379"
    masked = DEFAULT.text(text)
    assert masked == ("z***@h***.example +** **** ***123 (***) ***-*567 **** **** **** 1111 Bearer *** "
                      "redis://u:***@h:6379")
    m = Masker(parse_fields("data.customer.name,data.*.phone,data.items[*].email"))
    out = m.event({"data": {"customer": {"name": NAME}, "a": {"phone": "12345678"},
                            "items": [{"email": "x"}, {"email": EMAIL}], "n": 1}})
    assert out == {"data": {"customer": {"name": "Z*** Q***"}, "a": {"phone": "******78"},
                            "items": [{"email": "*"}, {"email": "z***@h***.example"}], "n": 1}}


def test_ids_times_and_durations_are_not_mistaken_for_personal_data():
    text = "entry 1764000000000-0 at 2025-12-05T10:30:00.000Z took 5003ms for ap_81; order 4111111111111112"
    assert DEFAULT.text(text) == text  # the last number fails the Luhn check: not a card


def test_bad_mask_settings_name_the_variable():
    with pytest.raises(SettingsError, match="BUS_MASK_FIELDS"):
        load_settings(_env_file=None, bus_mask_fields="data..email")
    with pytest.raises(SettingsError, match="BUS_MASK_PATTERNS"):
        load_settings(_env_file=None, bus_mask_patterns="(unclosed")
    assert load_settings(_env_file=None, bus_mask_patterns=r"ord-\d{3,4},cust_\w+").bus_mask_patterns


def test_custom_patterns_mask_every_string_and_error(r):
    bus = Bus(r, Settings(_env_file=None, bus_mask_patterns=r"cust_\w+"), clock=FakeClock(T0 + 1000))
    bus.r.xadd(bus.keys.dlq, {"event": json.dumps({"id": "e1", "type": "t", "data": {"ref": "cust_4711"}}),
                              "error": "no cust_4711"}, id=f"{T0}-0")
    reply = router.run(f"dlq show {T0}-0", manual_runtime(bus), "U1")
    assert "cust_4711" not in json.dumps(render_reply(reply)) and "c***" in json.dumps(render_reply(reply))


def test_every_output_path_shows_masked_data_only(mbus, caplog):
    install_log_redaction()
    caplog.set_level(logging.DEBUG)
    entry_id, _ = seed(mbus)
    rt = manual_runtime(mbus)
    out: list[str] = []
    for text in (f"dlq show {entry_id}", "dlq show evt_pii", "dlq list", "dlq", "dlq top", f"event {T0 - 1000}-0",
                 "events", "dlq list type=crm.contact.created"):
        reply = router.run(text, rt, "U1")
        assert reply.template != "error", (text, reply.text)
        message = render_reply(reply)
        assert_valid_message(message)
        out += [json.dumps(message), reply.text, render_reply_text(reply, width=120).text]  # Slack, console
    assert "z***@h***.example" in out[0] and "**** **** **** 1111" in out[0]
    shared = router.run_action("bus_share", f"dlq show {entry_id}", rt, "U2")  # "Post to channel"
    assert shared.visibility == "channel"
    out += [json.dumps(render_reply(shared)), shared.text]
    # the API and the dashboard
    app = dash_app(rt)
    api = app.test_client()
    auth = {"Authorization": f"Bearer {TOKENS['alice']}"}
    for path in ("/events/dlq", f"/events/dlq/{entry_id}", "/events/dlq/top", "/events/audit"):
        resp = api.get(path, headers=auth)
        assert resp.status_code == 200, (path, resp.text)
        out.append(resp.text)
    dash = app.test_client()
    dash.post("/admin/login", data={"token": TOKENS["alice"], "csrf_token": csrf_of(dash.get("/admin/login").text)})
    for path in ("/admin/events", "/admin/events/dlq", f"/admin/events/dlq/{entry_id}", "/admin/events/audit"):
        resp = dash.get(path)
        assert resp.status_code == 200, (path, resp.status_code)
        out.append(resp.text)
    # a reprocess: preview, approval request, job, follow-up; then what the main stream holds
    preview = router.run(f"reprocess {entry_id}", rt, "U1")
    done = click(rt, preview, "guard_confirm", "U1")
    out += [json.dumps(render_reply(preview)), json.dumps(render_reply(done))]
    runner = ActionRunner(mbus, rt.notifier, hooks=hooks_for(rt.notifier))
    runner.tick()
    mbus.r.xadd(mbus.keys.dlq, {"event": json.dumps({"id": "evt_pii", "type": "crm.contact.created"}),
                                "error": f"crm rejected {EMAIL} again"})  # it failed again
    mbus.clock.advance(mbus.settings.bus_settle_seconds + 1)
    assert followup.run_due(mbus, rt.notifier) == 1
    for message, _ in rt.notifier.posts:  # job progress and the follow-up
        out += [json.dumps(render(message.template, message.context)), message.text,
                render_text(message.template, message.context, width=100).text]
    moved = [json.loads(f["event"]) for _, f in mbus.r.xrange(mbus.keys.events) if "reprocessedFrom" in f]
    assert moved and moved[0]["data"]["customer"]["email"] == EMAIL  # the original event, not a masked copy
    audit = json.dumps([f for _, f in mbus.r.xrange(mbus.keys.audit)])
    assert "reprocess" in audit
    logging.getLogger("busbot.test").warning("handler failed for %s with Bearer %s", EMAIL, TOKEN)
    out += [audit, caplog.text]
    assert [leaked(text) for text in out] == [[] for _ in out]


def test_no_filter_finds_a_masked_value(mbus):
    entry_id, _ = seed(mbus)
    rt = manual_runtime(mbus)
    for fragment in ("zelda", "hyrule-mail", TOKEN[:10], "quartermain@"):
        reply = router.run(f"dlq list error={fragment}", rt, "U1")
        assert reply.context.get("rows", []) == [] or not reply.context["rows"], fragment
        assert "No DLQ entry" in reply.text or reply.context.get("rows") == [], fragment
        preview = router.run(f"reprocess error={fragment}", rt, "U1")
        assert "guard_confirm" not in buttons(preview), fragment  # nothing selected
    reply = router.run("dlq list error=z***@h***", rt, "U1")  # the masked text is what is searched
    assert [row["id"] for row in reply.context["rows"]] == [entry_id]
    dash = dash_app(rt).test_client()
    dash.post("/admin/login", data={"token": TOKENS["alice"], "csrf_token": csrf_of(dash.get("/admin/login").text)})
    assert entry_id not in dash.get("/admin/events/dlq?error=zelda").text
    assert entry_id in dash.get("/admin/events/dlq?error=z***").text
    api = dash_app(rt).test_client()
    auth = {"Authorization": f"Bearer {TOKENS['alice']}"}
    found = api.get("/events/dlq?error=zelda", headers=auth)
    assert found.status_code == 200 and entry_id not in found.text
    assert entry_id in api.get("/events/dlq?error=z***@h***", headers=auth).text


def test_dlq_top_signatures_are_computed_on_masked_text(mbus):
    seed(mbus)
    reply = router.run("dlq top", manual_runtime(mbus), "U1")
    sigs = [row["key"] for row in reply.context["top"]["by_signature"]] if "top" in reply.context else None
    text = json.dumps(reply.context, default=str)
    assert not leaked(text) and "z***@h***.example" in text, sigs


def test_the_unmask_role_sees_raw_values_privately_and_audited(r):
    settings = Settings(_env_file=None, bus_operators="U1", bus_approvers="U2", bus_unmask_role="approver")
    bus = Bus(r, settings, clock=FakeClock(T0 + 1000), where="test redis")
    entry_id, _ = seed(bus)
    rt = manual_runtime(bus)
    refused = router.run(f"dlq show {entry_id} unmask=yes", rt, "U1")  # an operator, not an approver
    assert refused.template == "error" and "Only busbot approvers may see unmasked values" in refused.text
    assert not leaked(json.dumps(render_reply(refused)))
    shown = router.run(f"dlq show {entry_id} unmask=yes", rt, "U2")
    assert EMAIL in json.dumps(render_reply(shown)) and shown.visibility == "private" and not shown.shareable
    assert "Only you see this answer" in json.dumps(render_reply(shown)["blocks"])
    posted = router.run_action("bus_share", f"dlq show {entry_id} unmask=yes", rt, "U2")  # a forged value
    assert posted.visibility == "private" and EMAIL not in json.dumps(render_reply(posted))
    event = router.run(f"event {T0 - 1000}-0 unmask=yes", rt, "U2")
    assert EMAIL in json.dumps(render_reply(event)) and not event.shareable
    assert EMAIL not in json.dumps(render_reply(router.run(f"event {T0 - 1000}-0", rt, "U2")))
    audit = [(f["who"], f["what"]) for _, f in bus.r.xrange(bus.keys.audit)]
    assert audit == [("U1", "unmask.refused"), ("U2", "unmask"), ("U2", "unmask")]
    nobody = Bus(r, Settings(_env_file=None, bus_operators="U1"), clock=FakeClock(T0 + 1000))
    assert "BUS_UNMASK_ROLE is not set" in router.run(f"dlq show {entry_id} unmask=yes", manual_runtime(nobody),
                                                      "U1").text


def test_events_with_nothing_to_mask_keep_their_text_and_escaped_text_is_still_masked():
    from bot.envelope import parse_entry
    plain = '{"id":"e1","type":"t","data":{"name":"Zelda Quartermain","n":1}}'
    e = Masker(parse_fields("data.name")).entry(parse_entry("1-0", {"event": plain}))
    assert e.event["data"]["name"] == "Z*** Q***" and NAME not in e.fields["event"]  # field rules always apply
    untouched = DEFAULT.entry(parse_entry("1-0", {"event": plain}))
    assert untouched.fields["event"] == plain  # nothing to mask: the text as stored
    escaped = '{"id":"e1","type":"t","data":{"to":"zelda.quartermain\\u0040hyrule-mail.example"}}'
    assert not leaked(json.dumps(DEFAULT.entry(parse_entry("1-0", {"event": escaped})).event))


def test_log_records_are_masked_by_the_settings_patterns_too(caplog):
    from bot.mask import use_for_logs
    install_log_redaction()
    caplog.set_level(logging.INFO)
    try:
        use_for_logs(Masker.from_settings(Settings(_env_file=None, bus_mask_patterns=r"cust_\w+",
                                                   bus_mask_defaults=False)))
        logging.getLogger("busbot.test").info("customer cust_4711 wrote from %s", EMAIL)
    finally:
        use_for_logs(DEFAULT)
    assert "cust_4711" not in caplog.text and not leaked(caplog.text) and "customer c***" in caplog.text


def test_a_dlq_top_signature_finds_its_entries_again(mbus):
    """The row's signature, the list filtered by it and the reprocess it offers agree: the
    signature is that of the masked error text wherever it is computed."""
    errors = ["sms to +44 7700 900123 failed", "sms to +44 7700 900456 failed", f"mail to {EMAIL} bounced",
              "card 4111 1111 1111 1111 declined", "timeout after 5003ms for ap_81"]
    for i, error in enumerate(errors):
        mbus.r.xadd(mbus.keys.dlq, {"event": json.dumps({"id": f"e{i}", "type": "t"}), "error": error},
                    id=f"{T0 + i}-0")
    rt = manual_runtime(mbus)
    top = router.run("dlq top", rt, "U1")
    rows = {row.key: row.count for row in top.context["t"].by_signature}
    assert len(rows) == 4 and not leaked(json.dumps(list(rows)))
    for key, count in rows.items():
        listed = router.run(f"dlq list 15 signature='{key}'", rt, "U1")
        assert len(listed.context["rows"]) == count, (key, listed.text)


def test_a_field_rule_on_the_tenant_masks_the_tenant_column_and_its_filter(r):
    settings = Settings(_env_file=None, bus_mask_fields="tenantId", bus_operators="U1,U2")
    bus = Bus(r, settings, clock=FakeClock(T0 + 1000))
    bus.r.xadd(bus.keys.dlq, {"event": json.dumps({"id": "e1", "type": "t", "tenantId": "acme-industries"}),
                              "error": "boom"}, id=f"{T0}-0")
    rt = manual_runtime(bus)
    listed = router.run("dlq list", rt, "U1")
    assert [row["tenant"] for row in listed.context["rows"]] == ["a***-i***"]
    assert "acme-industries" not in json.dumps(render_reply(listed))
    assert router.run("dlq list tenant=acme-industries", rt, "U1").context["rows"] == []
    top = router.run("dlq top", rt, "U1").context["t"]
    assert [row.key for row in top.by_tenant] == ["a***-i***"] and top.malformed == 0
    preview = router.run("reprocess tenant=a***-i***", rt, "U1")  # the masked tenant selects it
    assert "guard_confirm" in buttons(preview), preview.text
    click(rt, click(rt, preview, "guard_confirm", "U1"), "guard_approve", "U2")
    ActionRunner(bus, rt.notifier, hooks=hooks_for(rt.notifier)).tick()
    moved = [json.loads(f["event"]) for _, f in bus.r.xrange(bus.keys.events)]
    assert [m["tenantId"] for m in moved] == ["acme-industries"]  # the job selected it too, and moved it as stored
