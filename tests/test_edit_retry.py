"""Retrying an edited DLQ entry writes three streams: one script where they share a slot, the
same steps in order where they do not (a cluster with the platform's names)."""
from __future__ import annotations

import json

from bot.envelope import parse_entry
from commands.edit import retry_edited
from tests.guard_helpers import gbus  # noqa: F401  (fixture)

ON_CLUSTER = True  # also on a 3-primary Redis Cluster: default names (three slots) and hash-tagged


def test_the_edited_event_goes_first_and_the_original_is_archived_whole(gbus):
    k = gbus.keys
    original = json.dumps({"id": "e1", "type": "a.b", "data": {"n": 1}})
    gbus.r.xadd(k.dlq, {"event": original, "error": "boom", "attempts": "3"}, id="1000-0")
    gbus.r.xadd(k.dlq, {"event": original, "error": "other"}, id="1001-0")
    edited = json.dumps({"id": "e1", "type": "a.b", "data": {"n": 2}})
    new_id = retry_edited(gbus, "1000-0", original, edited, "j1")
    (got_id, fields), = gbus.r.xrange(k.events)
    assert got_id == new_id and list(fields.items()) == [("event", edited), ("editedFrom", "1000-0"),
                                                         ("editJob", "j1")]
    (_, kept), = gbus.r.xrange(k.dlq_archive)
    assert list(kept) == ["event", "error", "attempts", "archivedFrom", "archiveJob"]
    assert (kept["event"], kept["archiveJob"]) == (original, "j1")
    assert [i for i, _ in gbus.r.xrange(k.dlq)] == ["1001-0"]


def test_nothing_runs_when_the_entry_is_gone_or_changed(gbus):
    k = gbus.keys
    gbus.r.xadd(k.dlq, {"event": '{"id": "e1", "type": "a.b"}'}, id="1000-0")
    assert retry_edited(gbus, "1000-0", '{"id": "e0"}', '{"id": "e2"}', "j1") is None  # changed
    assert retry_edited(gbus, "999-0", '{"id": "e1"}', '{"id": "e2"}', "j1") is None  # gone
    assert gbus.r.xlen(k.events) == 0 and gbus.r.xlen(k.dlq_archive) == 0
    assert parse_entry(*gbus.r.xrange(k.dlq)[0]).event_id == "e1"
