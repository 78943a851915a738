"""A day of the bus's shape, for the dashboard's charts and the trends of `/bus health`, `/bus
dlq` and the App Home: each alert check writes one sample (time, DLQ size, the DLQ's
entries-added counter, failed events/hr, lag per group) to a capped stream, read back here.

Arrivals per hour come from the entries-added counter (XINFO STREAM), not from counting
entries: a sample costs one XINFO and one XADD whatever the DLQ's size. A counter that went
down (the DLQ was deleted and recreated) gives no arrival figure for that step, never a
negative one.
"""
from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any

import redis
from pydantic import BaseModel

from bot.bus import Bus

log = logging.getLogger(__name__)

MAXLEN = 20_000  # approximate: a day of checks every 5 s from a few processes
DAY_MS = 86_400_000
HOUR_MS = 3_600_000


class Sample(BaseModel):
    ts: int
    dlq: int | None
    added: int | None  # the DLQ's entries-added counter (None: no DLQ, or Redis < 7)
    lags: dict[str, float | None]  # group -> lag (None: unknown)
    failed: float | None = None  # failed events in the hour before (None: unknown, or an older sample)


def record(bus: Bus, now: int, values: dict[str, float | None]) -> None:
    """Write one sample from an alert check's metric values (`dlq_size`, `failed_per_hour`,
    `lag:<group>`).
    A key of the wrong type under the history's or the DLQ's name is logged and skipped:
    the alert check must go on."""
    lags = {rule[4:]: v for rule, v in values.items() if rule.startswith("lag:")}
    dlq, failed = values.get("dlq_size"), values.get("failed_per_hour")
    try:
        added = _entries_added(bus)
        fields: dict[Any, Any] = {"ts": str(now), "dlq": "" if dlq is None else str(int(dlq)),
                  "added": "" if added is None else str(added), "lags": json.dumps(lags),
                  "failed": "" if failed is None else f"{failed:g}"}
        try:
            bus.r.xadd(bus.keys.history, fields, id=f"{now}-*", maxlen=MAXLEN, approximate=True)
        except redis.ResponseError as exc:
            if "equal or smaller" not in str(exc):
                raise
            # another process's clock is ahead: keep the sample, with a server-made id
            bus.r.xadd(bus.keys.history, fields, maxlen=MAXLEN, approximate=True)
    except redis.ResponseError as exc:
        log.warning("history sample not written: %s", str(exc)[:120])


def _entries_added(bus: Bus) -> int | None:
    try:
        info = bus.r.xinfo_stream(bus.keys.dlq)
    except redis.ResponseError:  # no DLQ yet
        return None
    added = info.get("entries-added")
    return int(added) if added is not None else None


def day(bus: Bus, now: int, span_ms: int = DAY_MS) -> list[Sample]:
    """The samples of the last `span_ms`, oldest first."""
    rows = bus.r.xrange(bus.keys.history, f"{max(0, now - span_ms)}-0", "+", count=MAXLEN)
    return [s for s in (_parse(f) for _, f in rows or []) if s is not None and s.ts <= now]


def _parse(f: Mapping[Any, Any] | None) -> Sample | None:
    f = f or {}
    try:
        lags = {str(k): None if v is None else float(v) for k, v in json.loads(f.get("lags") or "{}").items()}
        return Sample(ts=int(f["ts"]), dlq=int(f["dlq"]) if f.get("dlq") else None,
                      added=int(f["added"]) if f.get("added") else None, lags=lags,
                      failed=float(f["failed"]) if f.get("failed") else None)
    except (KeyError, ValueError, TypeError, AttributeError):
        return None  # a sample some other writer left: skip it, never fail the page


def arrivals_per_hour(samples: list[Sample], now: int, hours: int = 24) -> list[int | None]:
    """DLQ arrivals in each of the last `hours` hours, oldest first: the rise of the
    entries-added counter between consecutive samples, counted in the hour of the later one.
    None for an hour with no usable pair of samples."""
    out: list[int | None] = [None] * hours
    start = now - hours * HOUR_MS
    prev: Sample | None = None
    for s in samples:
        if prev is not None and prev.added is not None and s.added is not None and s.added >= prev.added:
            i = (s.ts - start - 1) // HOUR_MS  # hour i covers (start + i h, start + (i+1) h]
            if 0 <= i < hours:
                out[i] = (out[i] or 0) + s.added - prev.added
        prev = s
    return out


def groups(samples: list[Sample]) -> list[str]:
    return sorted({g for s in samples for g in s.lags})


def points(samples: list[Sample], metric: str) -> list[tuple[int, float | None]]:
    """(time, value) of one metric over the samples: `dlq`, `failed` or `lag:<group>`."""
    if metric.startswith("lag:"):
        return [(s.ts, s.lags.get(metric[4:])) for s in samples]
    return [(s.ts, None if (v := getattr(s, metric)) is None else float(v)) for s in samples]
