"""Retrying an edited DLQ entry writes three streams: one script where they share a slot, the
same steps in order where they do not (a cluster with the platform's names)."""
from __future__ import annotations

import json

import pytest

from bot.bus import Bus
from bot.envelope import parse_entry
from bot.settings import Settings
from commands.edit import retry_edited
from tests.conftest import FakeClock, names

ON_CLUSTER = True  # also on a 3-primary Redis Cluster: default names (three slots) and hash-tagged


@pytest.fixture
def obus(r, request) -> Bus:
    """A bus whose operators are U1, U2 and U3, with a fake clock."""
    return Bus(r, Settings(_env_file=None, bus_operators="U1,U2,U3", **names(request)), clock=FakeClock(),
               where="test redis")


def test_the_edited_event_goes_first_and_the_original_is_archived_whole(obus):
    k = obus.keys
    original = json.dumps({"id": "e1", "type": "a.b", "data": {"n": 1}})
    obus.r.xadd(k.dlq, {"event": original, "error": "boom", "attempts": "3"}, id="1000-0")
    obus.r.xadd(k.dlq, {"event": original, "error": "other"}, id="1001-0")
    edited = json.dumps({"id": "e1", "type": "a.b", "data": {"n": 2}})
    new_id = retry_edited(obus, "1000-0", original, edited, "j1")
    (got_id, fields), = obus.r.xrange(k.events)
    assert got_id == new_id and list(fields.items()) == [("event", edited), ("editedFrom", "1000-0"),
                                                         ("editJob", "j1")]
    (_, kept), = obus.r.xrange(k.dlq_archive)
    assert list(kept) == ["event", "error", "attempts", "archivedFrom", "archiveJob"]
    assert (kept["event"], kept["archiveJob"]) == (original, "j1")
    assert [i for i, _ in obus.r.xrange(k.dlq)] == ["1001-0"]


def test_nothing_runs_when_the_entry_is_gone_or_changed(obus):
    k = obus.keys
    obus.r.xadd(k.dlq, {"event": '{"id": "e1", "type": "a.b"}'}, id="1000-0")
    assert retry_edited(obus, "1000-0", '{"id": "e0"}', '{"id": "e2"}', "j1") is None  # changed
    assert retry_edited(obus, "999-0", '{"id": "e1"}', '{"id": "e2"}', "j1") is None  # gone
    assert obus.r.xlen(k.events) == 0 and obus.r.xlen(k.dlq_archive) == 0
    assert parse_entry(*obus.r.xrange(k.dlq)[0]).event_id == "e1"


def test_the_audit_keeps_both_versions_masked_by_field_rules_too(r, request):
    from bot.actions.requests import GuardedRequest
    from commands.edit import run_edit

    bus = Bus(r, Settings(_env_file=None, bus_operators="U1,U2", bus_mask_fields="data.customer.name",
                          **names(request)), clock=FakeClock(), where="test redis")
    original = json.dumps({"id": "e1", "type": "a.b", "data": {"customer": {"name": "Zelda Quintero"},
                                                               "mail": "zq@example.org"}})
    edited = json.dumps({"id": "e1", "type": "a.b", "data": {"customer": {"name": "Zelda Quintero"},
                                                             "mail": "zq@example.org", "n": 2}})
    bus.r.xadd(bus.keys.dlq, {"event": original, "error": "boom"}, id="1000-0")
    req = GuardedRequest(token="t1", kind="edit", requester="U1", command="dlq edit 1000-0",
                         params={"ids": ["1000-0"], "original": original, "event": edited},
                         approved_by="U2")
    run_edit(bus, req)
    audit = {f["what"]: f["result"] for _, f in bus.r.xrange(bus.keys.audit)}
    assert {"edit.original", "edit.edited"} <= set(audit)
    for what in ("edit.original", "edit.edited"):
        assert "Zelda" not in audit[what] and "zq@example.org" not in audit[what]
        assert json.loads(audit[what])["type"] == "a.b"
    (_, kept), = bus.r.xrange(bus.keys.dlq_archive)
    assert kept["event"] == original  # the archive keeps the original whole, for restore
