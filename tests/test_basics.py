"""Settings, WHEN parsing, tolerant entry parsing, error signatures, rendering helpers."""
from __future__ import annotations

import json

import pytest

from bot.envelope import MALFORMED, NO_TENANT, UNKNOWN, parse_entry
from bot.render import clip, md, strip_trailing_commas
from bot.services.signature import signature
from bot.settings import SettingsError, load_settings
from bot.texttable import table
from bot.timeparse import WhenError, human_age, iso_ms, parse_iso_ms, parse_when

NOW = 1_764_000_000_000


def test_bad_setting_names_the_variable(monkeypatch):
    monkeypatch.setenv("BUS_LAG_WARN", "lots")
    with pytest.raises(SettingsError, match=r"^BUS_LAG_WARN: .*integer.*'lots'"):
        load_settings()


def test_bad_redis_url_and_port(monkeypatch):
    monkeypatch.setenv("REDIS_URL", "localhost:6379")
    with pytest.raises(SettingsError, match="^REDIS_URL: .*redis://"):
        load_settings()
    monkeypatch.delenv("REDIS_URL")
    monkeypatch.setenv("PORT", "70000")
    with pytest.raises(SettingsError, match="^PORT: "):
        load_settings()


def test_secrets_stay_out_of_repr(monkeypatch):
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-very-secret")
    monkeypatch.setenv("BUS_OPERATORS", "U1, U2,,")
    s = load_settings()
    assert "xoxb-very-secret" not in repr(s)
    assert s.slack_bot_token.get_secret_value() == "xoxb-very-secret"
    assert s.operators == {"U1", "U2"}


@pytest.mark.parametrize("text,expected", [
    ("30m", NOW - 30 * 60_000), ("2h", NOW - 7_200_000), ("1d", NOW - 86_400_000),
    ("2025-12-01T00:00:00Z", 1_764_547_200_000), ("2025-12-01T00:00:00", 1_764_547_200_000),
    ("2025-12-01T01:00:00+01:00", 1_764_547_200_000),
])
def test_parse_when(text, expected):
    assert parse_when(text, NOW) == expected


@pytest.mark.parametrize("text", ["yesterday", "2h ago", "", "-5m", "2025-13-01"])
def test_parse_when_rejects(text):
    with pytest.raises(WhenError, match="ISO-8601"):
        parse_when(text, NOW)


def test_time_formatting():
    assert iso_ms(1_764_547_200_123) == "2025-12-01T00:00:00.123Z"
    assert parse_iso_ms("2025-12-01T00:00:00.123Z") == 1_764_547_200_123
    assert parse_iso_ms("not a time") is None
    assert [human_age(x) for x in (None, 5_000, 192_000, 7_500_000, 3 * 86_400_000)] == \
        ["unknown", "5s", "3m 12s", "2h 5m", "3d"]


def test_parse_entry_variants():
    ok = parse_entry("1-0", {"event": json.dumps({"id": "e1", "type": "a.b", "tenantId": "ws_1"})})
    assert (ok.type, ok.tenant, ok.event_id, ok.malformed) == ("a.b", "ws_1", "e1", False)
    no_event = parse_entry("1-1", {"foo": "bar"})
    assert (no_event.type, no_event.problem) == (MALFORMED, "entry has no `event` field")
    bad_json = parse_entry("1-2", {"event": "{nope"})
    assert bad_json.type == MALFORMED and "not valid JSON" in bad_json.problem
    assert bad_json.raw_event == "{nope"
    not_object = parse_entry("1-3", {"event": "[1,2]"})
    assert not_object.type == MALFORMED
    no_type = parse_entry("1-4", {"event": json.dumps({"id": "e2"})})
    assert (no_type.type, no_type.tenant, no_type.malformed) == (UNKNOWN, NO_TENANT, False)
    flat = parse_entry(b"1-5", {b"type": b"crm.contact.created", b"payload": b'{"x": 1}', b"tenantId": b"ws_2"})
    assert (flat.type, flat.tenant, flat.event["data"]) == ("crm.contact.created", "ws_2", {"x": 1})
    binary = parse_entry("1-6", {"event": b"\xff\xfe"})
    assert binary.type == MALFORMED


def test_error_signatures_fold_variable_parts():
    assert signature("timeout after 5003ms for ap_81") == signature("timeout after 4870ms for ap_12")
    assert signature('duplicate key violates "contacts_email_key"') == 'duplicate key violates "…"'
    assert signature("user 3f2504e0-4f89-11d3-9a0c-0305e82c3301 not found") == "user <uuid> not found"
    assert signature("") == "<no error message>"
    assert signature("first line 1\nsecond line") == "first line <n>"
    assert signature("429 Too Many Requests") != signature("500 Internal Server Error")


def test_trailing_commas_only_outside_strings():
    for value in (["q\",]", {"a": "x,}"}], ["a\\", "b\\\",]"], [{"k": [1, 2]}]):
        text = json.dumps(value)[:-1] + ", ]"
        assert json.loads(strip_trailing_commas(text)) == value
    assert strip_trailing_commas('{"a": [1, 2, ], }') == '{"a": [1, 2 ] }'


def test_mrkdwn_escaping_and_clip():
    assert md("<@U1> & <!channel>") == "&lt;@U1&gt; &amp; &lt;!channel&gt;"
    assert clip("x" * 10, 5) == "xxxx…" and clip("abc", 5) == "abc"


def test_table_aligns_and_clips():
    out = table(["count", "type"], [[1234, "approval.item.created"], [5, "a"]], [9, 10]).splitlines()
    assert out[2] == "1,234  approval.…"
    assert out[3] == "    5  a"


def test_approval_policy_names_known_actions(monkeypatch):
    from bot.actions.policy import KINDS
    from bot.settings import APPROVAL_KINDS
    assert set(KINDS) == APPROVAL_KINDS
    monkeypatch.setenv("BUS_APPROVAL_REQUIRED", "purge,reprocess-bulk")
    with pytest.raises(SettingsError, match=r"^BUS_APPROVAL_REQUIRED: .*unknown action 'reprocess-bulk'"):
        load_settings()
    monkeypatch.setenv("BUS_APPROVAL_REQUIRED", "")
    assert load_settings().approval_required == frozenset()
