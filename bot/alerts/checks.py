"""The four runbook metrics, measured from Redis with bounded work.

A value of None means "unknown" or "no data": it is never read as a healthy zero. The
cost of a check is a fixed number of round trips whatever the stream lengths, except the
count of the last hour's DLQ arrivals and metadata failures, which reads that hour only
(inside Redis, capped at `SCAN_CAP` entries).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from bot.bus import Bus
from bot.lua import script
from bot.services.health import LAG_PROBE, get_health

HOUR_MS = 3_600_000
P99_WINDOW_MS = 15 * 60_000  # processing p99 over the last 15 minutes of metadata
P99_SAMPLE = 1000  # at most this many recent metadata entries
SCAN_CAP = 200_000  # at most this many entries counted for "failed in the last hour"


@dataclass
class Metric:
    rule: str  # "dlq_size", "failed_per_hour", "p99", "lag:<group>"
    value: float | None  # None: unknown / no data
    note: str = ""  # how the value was obtained, when that matters to the reader


def _count_since(bus: Bus, stream: str, start_ms: int, field: str = "", want: str = "") -> tuple[int, int, bool]:
    matched, scanned, capped = script(bus.r, "count_field_since")(
        keys=[stream], args=[f"{start_ms}-0", SCAN_CAP, field, want])
    return int(matched), int(scanned), bool(capped)


def lag_metrics(health) -> list[Metric]:
    out = []
    for g in health.groups:
        rule = f"lag:{g.name}"
        if g.lag is not None:
            out.append(Metric(rule, float(g.lag)))
        elif g.lag_estimate is None:
            out.append(Metric(rule, None, "Redis reports the lag as unknown"))
        elif g.lag_estimate_capped:
            out.append(Metric(rule, float(LAG_PROBE + 1),
                              f"more than {LAG_PROBE:,} entries after last-delivered-id (Redis lag unknown)"))
        else:
            out.append(Metric(rule, float(g.lag_estimate), "counted after last-delivered-id (Redis lag unknown)"))
    return out


def failed_per_hour(bus: Bus, now: int) -> Metric:
    """DLQ arrivals by id time in the last hour, plus `status=failed` metadata entries."""
    k = bus.keys
    dlq, _, dlq_capped = _count_since(bus, k.dlq, now - HOUR_MS)
    failed, scanned, meta_capped = _count_since(bus, k.metadata, now - HOUR_MS, "status", "failed")
    parts = [f"{dlq:,} moved to the DLQ"]
    if scanned:
        parts.append(f"{failed:,} failed attempts in processing metadata")
    note = " + ".join(parts) + (" (count capped)" if dlq_capped or meta_capped else "")
    return Metric("failed_per_hour", float(dlq + failed), note)


def p99_seconds(bus: Bus, now: int) -> Metric:
    rows = bus.r.xrevrange(bus.keys.metadata, "+", f"{now - P99_WINDOW_MS}-0", count=P99_SAMPLE)
    durations = []
    for _, fields in rows:
        try:
            durations.append(float(fields.get("durationMs", "")))
        except ValueError:
            continue
    if not durations:
        return Metric("p99", None, "no processing metadata in the last 15 min")
    durations.sort()
    p99 = durations[max(0, math.ceil(0.99 * len(durations)) - 1)]
    return Metric("p99", p99 / 1000, f"over the last {len(durations):,} handled events")


def measure(bus: Bus) -> list[Metric]:
    """Every metric, now. Raises redis.ConnectionError/TimeoutError when Redis is down."""
    health = get_health(bus)
    now = health.checked_ms
    return [Metric("dlq_size", float(health.dlq_length)), *lag_metrics(health),
            failed_per_hour(bus, now), p99_seconds(bus, now)]
