"""Seed a bus with a realistic day of traffic, for the console demo and for tests.

What it writes (all with explicit stream ids, so a time range is an id range as in production):
- main stream: ~3,600 events over the last 24 h, busier in the working day;
- DLQ: ~270 entries — failures from today (moved ~36 min after publishing, the retry
  delays 1, 5 and 30 min) and an older backlog from the past days, partly in the older writers'
  format (`event`, `error`, `movedAt` only), plus a few malformed entries;
- groups `hyvve-platform` (small lag, a few pending) and `hyvve-analytics` (a stuck consumer,
  a larger lag), with pending entries idle for minutes;
- processing metadata for every event the platform group handled;
- a day of history samples (one every 5 minutes, as the alert checks write them), so the
  trends of `/bus health`, `/bus dlq`, the App Home and the dashboard have something to draw.
Deterministic for a given `seed` and `now_ms`.
"""
from __future__ import annotations

import json
import math
import random
from dataclasses import dataclass

from bot.bus import Bus
from bot.demo.catalog import ErrorPattern, handler_duration_ms, make_event, pick_error
from bot.redis_types import group_reads
from bot.timeparse import iso_ms

HOUR_MS = 3_600_000
DAY_MS = 24 * HOUR_MS
RETRY_MS = (1 + 5 + 30) * 60_000  # the retry delays before an event is moved to the DLQ
EVENTS = 3600
DLQ_TODAY = 70
DLQ_BACKLOG = 195
DLQ_OLD_FORMAT = 45  # the oldest backlog entries, written before errorStack/attempts existed
ANALYTICS_GROUP = "hyvve-analytics"


@dataclass(frozen=True)
class GroupPlan:
    """A consumer group: how far behind it is, and per consumer (host, read, left pending, idle)."""
    name: str
    lag: int
    consumers: tuple[tuple[str, int, int, int], ...]


def _compact(obj) -> str:
    return json.dumps(obj, separators=(",", ":"))


def _ids(ms_values: list[int]) -> list[str]:
    """Sorted ms -> unique stream ids (`ms-seq`)."""
    out, last, seq = [], None, 0
    for ms in ms_values:
        seq = seq + 1 if ms == last else 0
        last = ms
        out.append(f"{ms}-{seq}")
    return out


def _busy_times(rng: random.Random, start: int, end: int, n: int) -> list[int]:
    """n sorted ms in [start, end), denser in the UTC working day (peak 15:00)."""
    out: list[int] = []
    while len(out) < n:
        ms = rng.randrange(start, end)
        hour = (ms % DAY_MS) / HOUR_MS
        if rng.random() < 0.55 + 0.45 * math.cos((hour - 15) / 24 * 2 * math.pi):
            out.append(ms)
    return sorted(out)


def _main_events(rng: random.Random, now: int) -> list[tuple[int, dict]]:
    """The day's events; approvals that get decided reuse the request's ids and correlation."""
    events, open_approvals = [], []
    for ms in _busy_times(rng, now - DAY_MS, now - 1500, EVENTS):
        ev = make_event(rng, ms)
        if ev["type"] == "approval.item.created":
            open_approvals.append(ev)
        elif ev["type"].startswith("approval.item.") and open_approvals:
            request = open_approvals.pop(rng.randrange(len(open_approvals)))
            ev.update(correlationId=request["correlationId"], tenantId=request["tenantId"])
            ev["data"]["approvalId"] = request["data"]["approvalId"]
        events.append((ms, ev))
    return events


def _failed(rng: random.Random, pattern: ErrorPattern, event: dict, moved_ms: int,
            old_format: bool = False) -> tuple[int, dict]:
    """A DLQ entry for `event` failing with `pattern`; `event` is the first field."""
    event = {**event, "data": {k: v for k, v in event["data"].items() if k != pattern.drops}}
    message, stack = pattern.render(rng, event)
    fields = {"event": _compact(event), "error": message}
    if not old_format:
        fields["errorStack"] = stack
    fields["movedAt"] = iso_ms(moved_ms)
    if not old_format:
        fields["attempts"] = "3"
    return moved_ms, fields


def _dlq_today(rng: random.Random, events: list[tuple[int, dict]], now: int) -> list[tuple[int, dict]]:
    """Events of today that failed three times; the rate limit was a burst a few hours ago."""
    by_type: dict[str, list[int]] = {}
    for i, (ms, ev) in enumerate(events):
        if ms + RETRY_MS < now - 60_000:
            by_type.setdefault(ev["type"], []).append(i)
    taken: set[int] = set()
    out: list[tuple[int, dict]] = []
    while len(out) < DLQ_TODAY:
        pattern = pick_error(rng)
        pool = [i for t in pattern.types for i in by_type.get(t, [])
                if i not in taken
                and (pattern.name != "rate-limit" or now - 9 * HOUR_MS < events[i][0] < now - 2 * HOUR_MS)]
        if pool:
            i = rng.choice(pool)
            taken.add(i)
            ms, ev = events[i]
            out.append(_failed(rng, pattern, ev, ms + RETRY_MS + rng.randint(50, 900)))
    return out


def _dlq_backlog(rng: random.Random, now: int) -> list[tuple[int, dict]]:
    """Failures of the past days nobody reprocessed; the oldest in the older writers' format."""
    moved = sorted(rng.randrange(now - 6 * DAY_MS, now - DAY_MS) for _ in range(DLQ_BACKLOG))
    out = []
    for n, ms in enumerate(moved):
        pattern = pick_error(rng)
        event = make_event(rng, ms - RETRY_MS, rng.choice(pattern.types))
        out.append(_failed(rng, pattern, event, ms, old_format=n < DLQ_OLD_FORMAT))
    return out


def _dlq_malformed(rng: random.Random, now: int) -> list[tuple[int, dict]]:
    """What real DLQs also hold: no `event`, JSON cut short, a flat entry from an old script."""
    def at(hours_ago: float) -> int:
        return now - int(hours_ago * HOUR_MS) - rng.randint(0, 59_999)
    cut = _compact(make_event(rng, at(30), "crm.contact.created"))[:97]
    flat = make_event(rng, at(7), "agent.run.completed")
    return [
        (at(52), {"error": "event payload exceeded 512kb and was dropped", "movedAt": iso_ms(at(52))}),
        (at(11), {"error": "Unexpected end of JSON input", "movedAt": iso_ms(at(11)), "attempts": "1"}),
        (at(30), {"event": cut, "error": "Unexpected end of JSON input", "movedAt": iso_ms(at(30))}),
        (at(3), {"event": "[object Object]", "error": "Unexpected token o in JSON at position 1",
                 "movedAt": iso_ms(at(3)), "attempts": "1"}),
        (at(7), {"type": flat["type"], "payload": _compact(flat["data"]), "tenantId": flat["tenantId"],
                 "error": "handler not found for legacy entry", "movedAt": iso_ms(at(7))}),
    ]


def _groups(platform: str) -> list[GroupPlan]:
    return [
        GroupPlan(platform, 6, (("api-7f9c4d8b6-x2kqp", 10, 3, 95_000),
                                 ("api-7f9c4d8b6-m8w3z", 10, 0, 4_000),
                                 ("worker-5b8d96c4f-qp4lt", 20, 6, 410_000))),
        GroupPlan(ANALYTICS_GROUP, 640, (("analytics-0.analytics.hyvve.svc", 25, 25, 1_140_000),
                                         ("analytics-1.analytics.hyvve.svc", 50, 0, 7_000))),
    ]


def _create_group(bus: Bus, plan: GroupPlan, ids: list[str]) -> tuple[int, set[str]]:
    """Create the group so that `plan.lag` entries are undelivered; return how many entries
    it has read and which of them are still pending."""
    r, stream = bus.r, bus.keys.events
    start = len(ids) - plan.lag - sum(c[1] for c in plan.consumers)
    r.xgroup_create(stream, plan.name, id=ids[start - 1], entries_read=start)
    pending_ids: set[str] = set()
    for host, read, pending, idle in plan.consumers:
        got = [eid for eid, _ in group_reads(r.xreadgroup(plan.name, host, {stream: ">"}, count=read))[0][1]]
        if got[pending:]:
            r.xack(stream, plan.name, *got[pending:])
        if pending:  # real pending entries that have sat with the consumer for `idle` ms
            # redis-py annotates the ids `list[StreamIdT]`, and list is invariant: a list[str] is refused
            r.xclaim(stream, plan.name, host, 0, got[:pending], idle=idle, justid=True)  # type: ignore[arg-type]
            pending_ids.update(got[:pending])
    return len(ids) - plan.lag, pending_ids


def _metadata(rng: random.Random, events: list[tuple[int, dict]], ids: list[str], read: int,
              pending: set[str], failed: set[str], plan: GroupPlan) -> list[tuple[int, dict]]:
    """One entry per event the group handled; a failure is recorded at its last attempt."""
    out = []
    hosts = [c[0] for c in plan.consumers]
    for (ms, ev), eid in zip(events[:read], ids):
        if eid in pending:
            continue
        took = handler_duration_ms(rng, ev["type"])
        status = "failed" if ev["id"] in failed else "completed"
        done = ms + took + rng.randint(2, 40) + (RETRY_MS - 60_000 if status == "failed" else 0)
        out.append((done, {"eventId": ev["id"], "type": ev["type"], "status": status,
                           "durationMs": str(took), "group": plan.name, "consumer": rng.choice(hosts)}))
    return out


def _write(pipe, stream: str, entries: list[tuple[int, dict]]) -> list[str]:
    entries = sorted(entries, key=lambda e: e[0])
    ids = _ids([ms for ms, _ in entries])
    for eid, (_, fields) in zip(ids, entries):
        pipe.xadd(stream, fields, id=eid)
    return ids


SAMPLE_MS = 5 * 60_000


def _history(bus: Bus, dlq: list[tuple[int, dict]], plans: list[GroupPlan], now: int) -> None:
    """One sample every 5 minutes over the last day, from the DLQ's own arrival times: its
    size, its entries-added counter, its arrivals in the hour before, and lag per group
    (growing towards today's values)."""
    arrived = sorted(ms for ms, _ in dlq)
    pipe = bus.r.pipeline(transaction=False)
    bus.r.delete(bus.keys.history)
    for t in range(now - DAY_MS + SAMPLE_MS, now + 1, SAMPLE_MS):
        size = sum(1 for ms in arrived if ms <= t)
        failed = sum(1 for ms in arrived if t - HOUR_MS < ms <= t)
        grown = (t - (now - DAY_MS)) / DAY_MS
        lags = {p.name: round(p.lag * grown ** 3) for p in plans}
        pipe.xadd(bus.keys.history, {"ts": str(t), "dlq": str(size), "added": str(size),
                                     "lags": json.dumps(lags), "failed": str(failed)}, id=f"{t}-0")
    pipe.execute()


def seed(bus: Bus, now_ms: int | None = None, seed: int = 7) -> dict[str, int]:
    """Fill `bus` with the demo bus (its streams are replaced); return counts of what was written."""
    rng = random.Random(seed)
    now = now_ms if now_ms is not None else bus.clock()
    k = bus.keys
    bus.r.delete(k.events, k.dlq, k.metadata)
    events = _main_events(rng, now)
    today = _dlq_today(rng, events, now)
    dlq = today + _dlq_backlog(rng, now) + _dlq_malformed(rng, now)
    pipe = bus.r.pipeline(transaction=False)
    ids = _write(pipe, k.events, [(ms, {"event": _compact(ev)}) for ms, ev in events])
    _write(pipe, k.dlq, dlq)
    pipe.execute()
    plans = _groups(k.group)
    read, pending = _create_group(bus, plans[0], ids)
    for plan in plans[1:]:
        _create_group(bus, plan, ids)
    failed = {json.loads(fields["event"])["id"] for _, fields in today}
    meta = _metadata(rng, events, ids, read, pending, failed, plans[0])
    pipe = bus.r.pipeline(transaction=False)
    _write(pipe, k.metadata, meta)
    pipe.execute()
    _history(bus, dlq, plans, now)
    return {"events": len(events), "dlq": len(dlq), "metadata": len(meta), "groups": len(plans)}
