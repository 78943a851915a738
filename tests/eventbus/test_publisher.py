"""Publishing: the BaseEvent envelope and the one-field entry."""
from __future__ import annotations

import json

from bot.eventbus.event import new_event, new_id
from bot.eventbus.publisher import Publisher
from tests.conftest import FakeClock
from tests.eventbus.helpers import raw_entries


def test_envelope_has_the_platform_fields_in_order():
    e = new_event("approval.item.created", {"approvalId": "ap_1"}, tenant="ws_123",
                  user="usr_9", clock=FakeClock(1_764_930_600_000))
    assert list(e) == ["id", "type", "source", "timestamp", "correlationId", "tenantId",
                       "userId", "version", "data"]
    assert e["timestamp"] == "2025-12-05T10:30:00.000Z" and e["version"] == "1.0"
    assert e["source"] == "platform" and e["correlationId"] != e["id"]
    assert new_event("x", tenant="t", correlation_id="corr-1")["correlationId"] == "corr-1"


def test_ids_are_unique_and_sort_by_time():
    ids = [new_id(1_764_000_000_000) for _ in range(10_000)]
    assert len(set(ids)) == 10_000 and all(len(i) == 25 for i in ids)
    assert new_id(1_764_000_000_000) < new_id(1_764_000_001_000)


def test_publish_writes_one_event_field(bus):
    e = new_event("crm.contact.created", {"contactId": "ct_1"}, tenant="ws_1")
    entry = Publisher(bus).publish(e)
    [[eid, fields]] = raw_entries(bus, bus.keys.events)
    assert eid == entry and fields[0] == "event" and len(fields) == 2
    assert json.loads(fields[1]) == e and " " not in fields[1]


def test_publish_many_keeps_order_and_trims_approximately(bus):
    events = [new_event("auth.user.created", {"n": i}, tenant="ws_1") for i in range(500)]
    ids = Publisher(bus).publish_many(events)
    entries = bus.r.xrange(bus.keys.events)
    assert [eid for eid, _ in entries] == ids
    assert [json.loads(f["event"])["data"]["n"] for _, f in entries] == list(range(500))
    Publisher(bus, maxlen=100).publish_many(events)
    assert 100 <= bus.r.xlen(bus.keys.events) < 1000
