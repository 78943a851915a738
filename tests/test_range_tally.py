"""A guarded action's preview counted from raw pages (bot.services.range_tally) equals the
per-entry count (parse, mask, filter, movable), whatever the entries and filters."""
from __future__ import annotations

import json

import pytest

import bot.actions.selection as selection
from bot.services import range_tally
from tests.factories import envelope

ON_CLUSTER = True  # also on a 3-primary Redis Cluster: default names (three slots) and hash-tagged
T0 = 1_764_000_000_000
TYPES = ["approval.item.created", "crm.contact.created", "auth.user.created"]


def seed(r, stream: str, n: int = 260) -> None:
    for i in range(n):
        ev = envelope(type_=TYPES[i % 3], tenant=None if i % 11 == 0 else f"ws_{i % 4}")
        if i % 13 == 0:
            ev["data"] = [1, 2]  # a replay cannot mark it: unmovable
        if i % 17 == 0:
            ev["data"] = None
        if i % 19 == 0:
            ev["tenantId"] = "jane.doe@example.com"  # masked by the default patterns
        fields = {"event": json.dumps(ev)}
        if i % 23 == 0:
            fields.update(replayOf="1-0", replayJob="j1")
        r.xadd(stream, fields, id=f"{T0 + i}-0")
    odd = [{"event": "{broken"}, {"type": "flat.event", "tenantId": "ws_1", "payload": "{}"}, {"garbage": "1"},
           {"event": json.dumps({"type": TYPES[0], "tenantId": "ws_1", "data": {"x": 1}}).replace("1}", "1e999}")},
           {"event": json.dumps({"type": 7, "tenantId": "ws_1"})}, {"event": json.dumps([1])},
           {"event": json.dumps({"type": TYPES[1], "tenantId": "ws_2", "data": "text"})},
           {"event": '{"type":"crm\\u002econtact.created","tenantId":"ws_1"}'},  # escaped: no literal to find
           {"event": json.dumps({"type": TYPES[0], "tenantId": "ws_1", "data": {"type": TYPES[1]}})}]  # nested
    for j, fields in enumerate(odd):
        r.xadd(stream, fields, id=f"{T0 + n + j}-0")
    r.execute_command("XADD", stream, f"{T0 + n + 50}-0", "event", json.dumps(envelope(type_=TYPES[0])),
                      "event", "{not json")
    r.execute_command("XADD", stream, f"{T0 + n + 51}-0", "event", b'{"type": "\xff", "tenantId": "ws_1"}')


def both(bus, monkeypatch, kind: str, params: dict, **kw) -> tuple:
    fast = selection.select(bus, kind, bus.keys.events, params, **kw)
    with monkeypatch.context() as m:
        m.setattr(range_tally, "eligible", lambda *a: False)
        slow = selection.select(bus, kind, bus.keys.events, params, **kw)
    return fast, slow


CASES = [
    ("replay", {}), ("replay", {"types": [TYPES[0], TYPES[1]]}), ("replay", {"tenant": "ws_1", "rate": 5}),
    ("replay", {"types": ["<malformed>"]}), ("replay", {"tenant": "<none>"}), ("reprocess", {"type": TYPES[2]}),
    ("purge", {}), ("replay", {"tenant": "j***@e***.com"}), ("reprocess", {"type": TYPES[1]}),
    ("replay", {"types": [TYPES[1]], "tenant": "ws_1"}),
]


@pytest.mark.parametrize(("kind", "params"), CASES)
def test_fast_count_equals_the_per_entry_count(bus, monkeypatch, kind, params):
    seed(bus.r, bus.keys.events)
    assert range_tally.eligible(kind, params)
    fast, slow = both(bus, monkeypatch, kind, params, start="-")
    assert fast == slow
    assert fast.scanned == 271


@pytest.mark.parametrize("limit", [1, 7, 40, 10_000])
def test_limits_stop_where_the_per_entry_count_stops(bus, monkeypatch, limit):
    seed(bus.r, bus.keys.events)
    fast, slow = both(bus, monkeypatch, "replay", {"types": [TYPES[1]]}, start=f"{T0 + 5}-0",
                      upper=f"{T0 + 240}-0", limit=limit)
    assert fast == slow


def test_the_scan_cap_stops_where_the_per_entry_count_stops(bus, monkeypatch):
    seed(bus.r, bus.keys.events)
    monkeypatch.setattr(selection, "SCAN_CAP", 2500 // 100)
    fast, slow = both(bus, monkeypatch, "replay", {"tenant": "ws_2"}, start="-")
    assert fast == slow and fast.capped and fast.scanned == 25


def test_other_filters_take_the_per_entry_path():
    assert not range_tally.eligible("replay", {"ids": ["1-0"]})
    assert not range_tally.eligible("reprocess", {"error": "timeout"})
    assert not range_tally.eligible("restore", {})
    assert range_tally.eligible("reprocess", {"type": "a", "signature": ""})


def test_progress_is_reported_per_page(bus):
    seed(bus.r, bus.keys.events, n=4500)
    seen: list[int] = []
    t = range_tally.tally(bus.r, bus.keys.events, "-", "+", kind="replay", params={},
                          odd=lambda i, f: (True, False, "<malformed>", "<none>"), progress=seen.append)
    assert seen == [2000, 4000, 4511] and t.scanned == 4511


@pytest.mark.parametrize("params", [{}, {"types": ["<malformed>"]}, {"types": [TYPES[1]]}])
def test_an_out_of_range_number_reads_as_orjson_reads_it(bus, monkeypatch, params):
    """msgspec skips 1e999 where orjson refuses the event: such a page is read entry by entry."""
    for i in range(30):
        bus.r.xadd(bus.keys.events, {"event": json.dumps(envelope(type_=TYPES[i % 2]))}, id=f"{T0 + i}-0")
    huge = json.dumps(envelope(type_=TYPES[1], amount=1.0)).replace("1.0", "1e999")
    bus.r.xadd(bus.keys.events, {"event": huge}, id=f"{T0 + 30}-0")
    fast, slow = both(bus, monkeypatch, "replay", params, start="-")
    assert fast == slow


@pytest.mark.parametrize(("kind", "params"), [("reprocess", {"type": TYPES[1]}), ("replay", {"types": [TYPES[1]]}),
                                              ("replay", {"tenant": "ws_1"}),
                                              ("reprocess", {"type": TYPES[1], "tenant": "ws_1"})])
def test_events_left_undecoded_for_lack_of_a_literal_cannot_match(bus, monkeypatch, kind, params):
    """Only events holding the filter's value as a JSON string, or a backslash, are decoded:
    an escaped type or tenant still counts, a value found only elsewhere does not."""
    for i in range(40):
        bus.r.xadd(bus.keys.events, {"event": json.dumps(envelope(type_=TYPES[i % 3], tenant=f"ws_{i % 3}"))},
                   id=f"{T0 + i}-0")
    tricky = ['{"type":"crm\\u002econtact.created","tenantId":"ws\\u005f1"}',  # escaped
              json.dumps({"type": TYPES[0], "tenantId": "ws_2", "data": {"type": TYPES[1], "t": "ws_1"}}),  # nested
              '{"type" :  "crm.contact.created" , "tenantId":"ws_1"}']  # spaced
    for j, event in enumerate(tricky):
        bus.r.xadd(bus.keys.events, {"event": event}, id=f"{T0 + 100 + j}-0")
    fast, slow = both(bus, monkeypatch, kind, params, start="-")
    assert fast == slow and fast.matched > 0
    rules = range_tally.PageRules(kind, params, None)
    plain = json.dumps(envelope(type_=TYPES[2], tenant="ws_2")).encode()
    assert rules._candidates([plain, *(e.encode() for e in tricky)]) == [1, 2, 3]
