"""Failed events per hour and processing p99, from the DLQ and the processing metadata.

Bounded work: the last hour's DLQ arrivals and metadata failures are counted inside Redis
in steps of `CHUNK` entries, capped at `SCAN_CAP`; the p99 uses at most `P99_SAMPLE` of the
most recent durations. No data is None ("no data"), never 0.
"""
from __future__ import annotations

import math
from collections import deque

import redis

from bot.bus import Bus
from bot.services.counting import count_since
from bot.services.status import Metric

HOUR_MS = 3_600_000
P99_WINDOW_MS = 15 * 60_000  # processing p99 over the last 15 minutes of metadata
P99_SAMPLE = 10_000  # the p99 uses at most this many of the most recent durations
SCAN_CAP = 200_000  # at most this many entries counted for "failed in the last hour"
CHUNK = 5_000  # metadata entries read per call (a few ms of Redis time)


def metadata_metrics(bus: Bus, now: int) -> tuple[Metric, Metric]:
    """Failed events in the last hour and the processing p99 over the last 15 minutes of
    metadata. A consumer that writes metadata records a dead-lettered event twice (a DLQ
    arrival and a `status=failed` entry), so the figure is the larger of the two counts,
    never their sum: the DLQ covers consumers without metadata, metadata covers the rest."""
    k = bus.keys
    try:
        dlq, dlq_capped = count_since(bus, k.dlq, now - HOUR_MS, cap=SCAN_CAP)
        failed, scanned, meta_capped, durations = _read_metadata(bus, now - HOUR_MS, now - P99_WINDOW_MS)
        if meta_capped:  # the capped read stopped before the p99 window: read that window alone
            p99, used = bus.scripts.get("metadata_p99")(
                keys=[k.metadata], args=[f"{now - P99_WINDOW_MS}-0", P99_SAMPLE])
        else:
            p99, used = _p99(durations), len(durations)
    except redis.ResponseError as exc:  # WRONGTYPE: a key of another type under a stream's name
        note = f"cannot read {k.dlq} / {k.metadata} as streams ({str(exc)[:80]})"
        return Metric("failed_per_hour", None, note), Metric("p99", None, note)
    parts = [f"{dlq:,} moved to the DLQ"]
    if scanned:
        parts.append(f"{failed:,} failed in processing metadata")
    note = " / ".join(parts) + (" (count capped)" if dlq_capped or meta_capped else "")
    failures = Metric("failed_per_hour", float(max(dlq, failed)), note)
    if not used:
        return failures, Metric("p99", None, "no processing metadata in the last 15 min")
    return failures, Metric("p99", float(p99) / 1000, f"over the last {used:,} handled events")


def _read_metadata(bus: Bus, since_ms: int, p99_from_ms: int) -> tuple[int, int, bool, deque]:
    """(failed entries, entries read, capped, the newest durations of the p99 window) of the
    metadata since `since_ms`, read in steps of CHUNK entries, each a short call."""
    step = bus.scripts.get("metadata_failed")
    failed = scanned = 0
    durations: deque = deque(maxlen=P99_SAMPLE)
    cursor = f"{since_ms}-0"
    while scanned < SCAN_CAP:
        want = min(CHUNK, SCAN_CAP - scanned)
        n_failed, n, last, *recent = step(keys=[bus.keys.metadata], args=[cursor, want, p99_from_ms])
        failed, scanned = failed + int(n_failed), scanned + int(n)
        durations.extend(float(d) for d in recent)
        if int(n) < want:
            return failed, scanned, False, durations
        cursor = "(" + (last.decode() if isinstance(last, bytes) else last)
    return failed, scanned, True, durations


def _p99(durations) -> float | None:
    """Nearest-rank p99, as metadata_p99.lua computes it."""
    if not durations:
        return None
    ranked = sorted(durations)
    return ranked[max(1, math.ceil(0.99 * len(ranked))) - 1]
