"""The demo seeder writes a bus that looks like production, on fakeredis and a real server."""
from __future__ import annotations

import json
from collections import Counter

from bot.bus import Bus
from bot.connection import embedded
from bot.demo import seed
from bot.demo.catalog import EVENT_TYPES
from bot.envelope import MALFORMED, parse_entry
from bot.services.health import get_health
from bot.timeparse import id_ms, parse_iso_ms

NOW = 1_764_000_000_000
ENVELOPE_KEYS = ["id", "type", "source", "timestamp", "correlationId", "tenantId", "userId", "version", "data"]


def _seeded(bus: Bus) -> dict:
    return seed(bus, now_ms=NOW)


def test_main_stream_is_a_day_of_wire_format_events(bus):
    counts = _seeded(bus)
    entries = bus.r.xrange(bus.keys.events)
    assert len(entries) == counts["events"] >= 2000
    first_id, last_id = entries[0][0], entries[-1][0]
    assert NOW - 25 * 3_600_000 < id_ms(first_id) < id_ms(last_id) <= NOW
    types, tenants = Counter(), Counter()
    for entry_id, fields in entries[::7]:
        assert list(fields) == ["event"]
        event = json.loads(fields["event"])
        assert list(event) == ENVELOPE_KEYS
        assert event["id"].startswith("clx") and len(event["id"]) == 25
        assert event["version"] == "1.0" and event["tenantId"].startswith("ws_")
        assert parse_iso_ms(event["timestamp"]) == id_ms(entry_id)
        types[event["type"]] += 1
        tenants[event["tenantId"]] += 1
    assert set(types) == set(EVENT_TYPES)
    assert 5 <= len(tenants) <= 8
    assert types.most_common(1)[0][1] > 3 * types["workspace.workspace.created"]


def test_dlq_shows_a_warning_with_recurring_errors_and_surprises(bus):
    _seeded(bus)
    s = bus.settings
    entries = [parse_entry(i, f) for i, f in bus.r.xrange(bus.keys.dlq)]
    assert s.bus_dlq_warn < len(entries) <= s.bus_dlq_crit
    health = get_health(Bus(bus.r, s, clock=lambda: NOW))
    dlq = health.check("dlq_size")
    assert dlq is not None and dlq.level == "warning" and dlq.reason == f"DLQ size: {len(entries)} entries"
    assert dlq.reason in health.reasons
    problems = Counter(e.problem for e in entries if e.malformed)
    assert sum(e.type == MALFORMED for e in entries) == sum(problems.values()) >= 3
    assert problems["entry has no `event` field"] >= 1 and problems["`event` is not valid JSON"] >= 1
    assert any("payload" in e.fields and e.type == "agent.run.completed" for e in entries)  # flat entry
    full = [e for e in entries if "attempts" in e.fields and not e.malformed]
    old = [e for e in entries if not e.malformed and set(e.fields) == {"event", "error", "movedAt"}]
    assert len(full) > 150 and len(old) >= 20
    assert all(list(e.fields)[0] == "event" and e.fields["attempts"] == "3" and e.fields["errorStack"] for e in full)
    errors = Counter(e.error for e in entries)
    assert errors['duplicate key value violates unique constraint "contacts_email_key"'] >= 10
    assert sum(n for msg, n in errors.items() if msg.startswith("timeout after ")) >= 10
    assert sum(1 for msg in errors if msg.startswith("timeout after ")) >= 5  # ids/numbers vary
    assert all(abs(parse_iso_ms(e.fields["movedAt"]) - id_ms(e.entry_id)) < 60_000 for e in entries)


def test_groups_have_lag_and_pending_entries_that_have_been_idle(bus):
    _seeded(bus)
    groups = {g["name"]: g for g in bus.r.xinfo_groups(bus.keys.events)}
    assert set(groups) == {"hyvve-platform", "hyvve-analytics"}
    for g in groups.values():
        assert g["pending"] > 0 and 0 < g["lag"] < bus.settings.bus_lag_warn
    pending = bus.r.xpending_range(bus.keys.events, "hyvve-platform", "-", "+", 50)
    assert len(pending) == groups["hyvve-platform"]["pending"]
    assert len({p["consumer"] for p in pending}) >= 2
    assert max(p["time_since_delivered"] for p in pending) >= 60_000


def test_processing_metadata_has_a_latency_tail_and_few_recent_failures(bus):
    _seeded(bus)
    meta = bus.r.xrange(bus.keys.metadata)
    assert len(meta) > 2000
    assert set(meta[0][1]) == {"eventId", "type", "status", "durationMs", "group", "consumer"}
    durations = sorted(int(f["durationMs"]) for _, f in meta)
    p50, p99 = durations[len(durations) // 2], durations[int(len(durations) * 0.99)]
    assert 10 < p50 < 200 and p50 * 10 < p99 < bus.settings.bus_p99_warn_seconds * 1000
    statuses = Counter(f["status"] for _, f in meta)
    assert set(statuses) == {"completed", "failed"}
    last_hour = [f for i, f in meta if id_ms(i) > NOW - 3_600_000]
    assert sum(f["status"] == "failed" for f in last_hour) <= bus.settings.bus_failed_per_hour_warn


def test_same_seed_same_bus_other_seed_other_bus(settings):
    def dump(seed_value: int) -> list:
        bus = Bus(embedded(), settings)
        seed(bus, now_ms=NOW, seed=seed_value)
        return [bus.r.xrange(k) for k in (bus.keys.events, bus.keys.dlq, bus.keys.metadata)]
    assert dump(7) == dump(7)
    assert dump(7) != dump(8)
