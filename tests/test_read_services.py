"""The read-side services on fakeredis and on a real redis-server (fixture `bus`)."""
from __future__ import annotations

import json

import pytest

from bot.bus import Bus
from bot.services.dlq import DlqFilter, dlq_entry, dlq_list, dlq_summary
from bot.services.events import lookup_event, recent_events
from bot.services.groups import get_groups
from bot.services.health import LAG_PROBE, get_health
from bot.services.redis_info import get_redis_info
from tests.conftest import FakeClock
from tests.factories import add_dlq, add_event

T0 = 1_764_000_000_000
ON_CLUSTER = True


@pytest.fixture
def clock():
    return FakeClock(T0 + 3_600_000)


@pytest.fixture
def cbus(bus, clock) -> Bus:
    bus.clock = clock
    return bus


def fill(r, stream, n, start=T0, step=1000, **kw):
    return [add_event(r, stream, start + i * step, **kw)[0] for i in range(n)]


def test_health_of_a_missing_stream(cbus):
    h = get_health(cbus)
    assert not h.stream_exists and h.stream_length == 0 and h.dlq_length == 0
    assert h.status == "critical"  # nothing to measure: a misspelt or deleted stream must not look fine
    assert any("does not exist" in x for x in h.reasons)
    assert h.last_processed_ms is None


def test_health_thresholds_and_groups(cbus, settings):
    r, k = cbus.r, cbus.keys
    fill(r, k.events, 30)
    r.xgroup_create(k.events, "g1", id="0")
    r.xreadgroup("g1", "host-a", {k.events: ">"}, count=10)
    for i in range(settings.bus_dlq_warn + 1):
        add_dlq(r, k.dlq, T0 + i)
    h = get_health(cbus)
    assert (h.stream_length, h.dlq_length) == (30, settings.bus_dlq_warn + 1)
    assert h.check("dlq_size").level == "warning"
    assert h.check("failed_per_hour").level == "critical"  # all 101 arrived in the last hour
    assert h.status == "critical"
    [g] = h.groups
    assert (g.name, g.consumers, g.pending, g.lag) == ("g1", 1, 10, 20)
    assert g.last_delivered_age_ms == cbus.clock() - (T0 + 9000)
    for i in range(settings.bus_dlq_crit - settings.bus_dlq_warn):
        add_dlq(r, k.dlq, T0 + 10_000 + i)
    assert get_health(cbus).status == "critical"


@pytest.fixture(params=["real_r", "cluster_r"])
def server_r(request):
    """A real redis-server, or a 3-primary cluster: the behaviours fakeredis does not copy."""
    return request.getfixturevalue(request.param)


def test_health_null_lag_is_unknown_never_zero(server_r, settings, clock):
    """Real Redis reports lag NULL after an XDEL inside the group's unread range."""
    real_r = server_r
    bus = Bus(real_r, settings, clock=clock)
    ids = fill(real_r, bus.keys.events, 10)
    real_r.xgroup_create(bus.keys.events, "g", id="0")
    real_r.xreadgroup("g", "c", {bus.keys.events: ">"}, count=2)
    real_r.xdel(bus.keys.events, ids[5])
    [g] = get_health(bus).groups
    assert g.lag is None
    assert (g.lag_estimate, g.lag_estimate_capped) == (7, False)
    assert g.effective_lag == 7


def test_health_unknown_lag_over_the_first_probe_is_counted_further(server_r, settings, clock):
    real_r = server_r
    bus = Bus(real_r, settings, clock=clock)
    ids = fill(real_r, bus.keys.events, LAG_PROBE + 50, step=1)
    real_r.xgroup_create(bus.keys.events, "g", id="0")
    real_r.xdel(bus.keys.events, ids[-1])
    h = get_health(bus)
    [g] = h.groups
    assert g.lag is None and (g.lag_estimate, g.lag_estimate_capped) == (LAG_PROBE + 49, False)
    assert g.level == "warning"
    assert any(x.startswith("Consumer lag (g): 1,049 entries") for x in h.reasons)


def test_health_paused_group_and_metadata(cbus):
    r, k = cbus.r, cbus.keys
    fill(r, k.events, 3)
    r.xgroup_create(k.events, "g", id="$")
    r.set(k.paused("g"), json.dumps({"by": "U1", "at": "2025-12-05T10:00:00Z", "reason": "deploy"}))
    r.xadd(k.metadata, {"eventId": "e", "type": "t", "status": "completed", "durationMs": "12",
                        "group": "g", "consumer": "c"}, id=f"{T0 + 5000}-0")
    h = get_health(cbus)
    assert h.groups[0].paused.by == "U1" and h.groups[0].level == "warning"
    assert h.last_processed_ms == T0 + 5000


def test_groups_detail(cbus):
    r, k = cbus.r, cbus.keys
    fill(r, k.events, 20)
    r.xgroup_create(k.events, "g", id="0")
    r.xreadgroup("g", "host-a", {k.events: ">"}, count=3)
    r.xreadgroup("g", "host-b", {k.events: ">"}, count=5)
    [d] = get_groups(cbus).groups
    assert [(c.name, c.pending) for c in d.consumers] == [("host-b", 5), ("host-a", 3)]
    assert d.oldest_pending_id == f"{T0}-0"
    assert d.oldest_pending_age_ms == 3_600_000


def test_recent_events_filter_and_paging(cbus):
    r, k = cbus.r, cbus.keys
    for i in range(30):
        add_event(r, k.events, T0 + i, type_="a.x" if i % 3 == 0 else "b.y")
    page = recent_events(cbus, 4, "a.x")
    assert [e.entry_id for e in page.entries] == [f"{T0 + i}-0" for i in (27, 24, 21, 18)]
    nxt = recent_events(cbus, 4, "a.x", before=page.next_before)
    assert [e.entry_id for e in nxt.entries] == [f"{T0 + i}-0" for i in (15, 12, 9, 6)]
    last = recent_events(cbus, 4, "a.x", before=nxt.next_before)
    assert len(last.entries) == 2 and last.next_before is None
    assert recent_events(cbus, 5, "nope").entries == []


def test_lookup_event_everywhere(cbus):
    r, k = cbus.r, cbus.keys
    sid, ev = add_event(r, k.events, T0)
    r.xgroup_create(k.events, "g", id="0")
    r.xreadgroup("g", "host-a", {k.events: ">"}, count=1)
    by_sid = lookup_event(cbus, sid)
    assert by_sid.where == k.events and by_sid.entry.event_id == ev["id"]
    assert [(d.group, d.pending_consumer, d.delivery_count) for d in by_sid.deliveries] == [("g", "host-a", 1)]
    assert lookup_event(cbus, ev["id"]).entry.entry_id == sid
    dsid, dev = add_dlq(r, k.dlq, T0 + 1)
    found = lookup_event(cbus, dev["id"])
    assert found.in_dlq and found.entry.entry_id == dsid
    missing = lookup_event(cbus, "clxnothere")
    assert missing.entry is None and lookup_event(cbus, "1-0").entry is None


def test_redis_info(cbus, r):
    info = get_redis_info(cbus)
    assert info.rtt_ms >= 0
    if info.info_available:  # the real server started by the fixture runs without persistence
        assert info.connected_clients >= 1 and info.used_memory > 0
        assert (info.save, info.appendonly) == ("", "no")
        assert any("lost" in w for w in info.warnings)
    else:
        assert any("INFO is not available" in w for w in info.warnings)
    if cbus.cluster:  # every node is asked, and the cluster's own view is added
        assert info.cluster.state == "ok" and info.cluster.covered and info.cluster.primaries == 3
        assert [n.role for n in info.nodes] == ["primary"] * 3
        assert sum(n.slots for n in info.nodes) == 16384
        assert info.connected_clients >= 3
    else:
        assert info.cluster is None and info.nodes == []


def test_dlq_summary_counts_by_arrival_time(cbus, clock):
    r, k = cbus.r, cbus.keys
    now = clock()
    add_dlq(r, k.dlq, now - 2 * 86_400_000)
    for i in range(5):
        add_dlq(r, k.dlq, now - 5 * 3_600_000 + i)
    for i in range(3):
        add_dlq(r, k.dlq, now - 60_000 + i)
    s = dlq_summary(cbus)
    assert (s.length, s.last_hour, s.last_day, s.last_day_capped) == (9, 3, 8, False)
    assert s.oldest_id == f"{now - 2 * 86_400_000}-0" and s.newest_id == f"{now - 60_000 + 2}-0"


def test_dlq_list_filters_and_pages(cbus, clock):
    r, k = cbus.r, cbus.keys
    now = clock()
    for i in range(12):
        add_dlq(r, k.dlq, now - (12 - i) * 600_000, type_="a.x" if i % 2 else "b.y",
                error="Timed out talking to crm" if i % 4 == 1 else "validation failed")
    r.xadd(k.dlq, {"garbage": "1"}, id=f"{now - 1}-0")
    page = dlq_list(cbus, 3, DlqFilter())
    assert page.entries[0].entry_id == f"{now - 1}-0" and page.entries[0].malformed
    assert len(page.entries) == 3 and page.next_before == page.entries[-1].entry_id
    typed = dlq_list(cbus, 10, DlqFilter(type="a.x"))
    assert len(typed.entries) == 6 and typed.next_before is None
    err = dlq_list(cbus, 10, DlqFilter(error="TIMED OUT"))
    assert len(err.entries) == 3
    recent = dlq_list(cbus, 10, DlqFilter(since_ms=now - 30 * 60_000))
    assert [e.entry_id for e in recent.entries][-1] == f"{now - 3 * 600_000}-0"
    assert len(recent.entries) == 4
    older = dlq_list(cbus, 3, DlqFilter(), before=page.next_before)
    assert older.entries[0].entry_id < page.entries[-1].entry_id


def test_dlq_entry_show(cbus):
    r, k = cbus.r, cbus.keys
    sid, ev = add_dlq(r, k.dlq, T0)
    r.xadd(k.dlq, {"event": json.dumps(ev), "error": "x", "errorStack": "\n".join(f"at f{i}" for i in range(20)),
                   "reprocessedFrom": "1-1"}, id=f"{T0 + 1}-0")
    v = dlq_entry(cbus, sid)
    assert v.entry.fields["attempts"] == "3" and v.stack[0].startswith("Error:")
    long = dlq_entry(cbus, f"{T0 + 1}-0")
    assert len(long.stack) == 8 and long.stack_more == 12 and long.extra_fields == {"reprocessedFrom": "1-1"}
    assert dlq_entry(cbus, ev["id"]).entry.entry_id == f"{T0 + 1}-0"  # newest with that event id
    assert dlq_entry(cbus, "9-9") is None


def test_no_older_page_when_nothing_is_older(cbus):
    r, k = cbus.r, cbus.keys
    fill(r, k.events, 10)
    for i in range(5):
        add_dlq(r, k.dlq, T0 + i)
    assert recent_events(cbus, 10).next_before is None
    assert recent_events(cbus, 9).next_before == f"{T0 + 1000}-0"
    assert dlq_list(cbus, 5, DlqFilter()).next_before is None
    assert dlq_list(cbus, 4, DlqFilter()).next_before == f"{T0 + 1}-0"


def test_health_never_calls_a_stream_missing_when_redis_could_not_answer(redis_cluster, cluster_r):
    """A client of one cluster node (e.g. BUS_REDIS_MODE=standalone on a cluster) is told
    MOVED for a stream another node holds: health raises, it does not report the stream as
    missing."""
    import redis

    from bot.settings import Settings
    cluster_r.xadd("hyvve:events", {"event": "{}"})
    node = redis.Redis.from_url(redis_cluster.url, decode_responses=True)
    assert cluster_r.keyslot("hyvve:events") > 5461  # not served by the first node
    with pytest.raises(redis.exceptions.MovedError):
        get_health(Bus(node, Settings(_env_file=None)))
    node.close()
