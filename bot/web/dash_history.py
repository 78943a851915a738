"""The last day of history samples for the Overview's charts, held in the serving process,
topped up with what was added since the previous view, and summed up as the charts need it.

A day of samples is up to 20,000 entries (the history stream's cap): reading, parsing and
bucketing them all took most of a second on every view of the Overview. Here the first view
reads the day once; each later one reads only the entries after the last id it holds, and
checks in the same round trip that the oldest entry of the day is still the one it holds
first (a trimmed, deleted or recreated stream is read again in full). Samples are summed
into clock-aligned 5-minute buckets and DLQ arrivals into clock hours as they arrive, so a
view works on about 290 buckets and 24 hours instead of every sample.

The samples are those `bot.services.history.day` returns; arrivals are the rise of the DLQ's
entries-added counter between consecutive samples, as in `history.arrivals_per_hour`.
"""
from __future__ import annotations

import threading
import weakref
from bisect import bisect_left
from dataclasses import dataclass, field
from typing import Any

from bot.bus import Bus
from bot.services.history import DAY_MS, HOUR_MS, MAXLEN, Sample
from bot.services.history import _parse as parse_sample
from bot.timeparse import id_ms

BUCKET_MS = 5 * 60_000  # line charts show the highest value of each 5 minutes (clock-aligned)


@dataclass
class Bucket:
    """The samples of one 5-minute slice: the highest known value of each series, None where
    the slice's values are all unknown. A group is in `lags` when a sample of the slice has it."""
    dlq: float | None = None
    lags: dict[str, float | None] = field(default_factory=dict)

    def add(self, s: Sample) -> None:
        if s.dlq is not None:
            self.dlq = float(s.dlq) if self.dlq is None else max(self.dlq, float(s.dlq))
        for g, v in s.lags.items():
            old = self.lags.get(g)
            if v is not None and (old is None or v > old):
                self.lags[g] = v
            elif g not in self.lags:
                self.lags[g] = None


@dataclass
class DaySummary:
    buckets: list[tuple[int, Bucket]]  # (start ms, bucket), oldest first
    # the last 24 clock hours, the current one last: (start ms, DLQ arrivals, None where no
    # two consecutive samples tell)
    hours: list[tuple[int, int | None]]
    groups: list[str]


def hour_of(ts: int) -> int:
    """The clock hour a sample's arrivals count in: hour h covers (h h, (h + 1) h]."""
    return (ts - 1) // HOUR_MS


# (id's ms, stream id, the sample's time or None where the entry is not a sample, DLQ arrivals
# since the sample before it or None where that is unknown): no more than this is held per
# sample (whole samples would cost about 30 MB at the cap)
Row = tuple[int, str, int | None, int | None]


@dataclass
class _Held:
    rows: list[Row] = field(default_factory=list)  # oldest first
    buckets: dict[int, Bucket] = field(default_factory=dict)  # ts // BUCKET_MS -> bucket
    hourly: dict[int, list[int]] = field(default_factory=dict)  # hour_of(ts) -> [arrivals, pairs]
    last_id: str | None = None  # the newest id read
    prev_added: int | None = None  # the newest sample's entries-added counter
    has_prev: bool = False  # whether a sample is held at all

    def append(self, raw: list[tuple[Any, Any]] | None) -> None:
        for entry_id, fields in raw or []:
            i, s, rise = _text(entry_id), parse_sample(fields), None
            if s is not None:
                p = self.prev_added
                if self.has_prev and p is not None and s.added is not None and s.added >= p:
                    rise = s.added - p
                    self._count(s.ts, rise, 1)
                self.prev_added, self.has_prev = s.added, True
                self.buckets.setdefault(s.ts // BUCKET_MS, Bucket()).add(s)
            self.rows.append((id_ms(i) or 0, i, s.ts if s is not None else None, rise))
            self.last_id = i

    def _count(self, ts: int, rise: int, pairs: int) -> None:
        tally = self.hourly.setdefault(hour_of(ts), [0, 0])
        tally[0] += rise * pairs
        tally[1] += pairs
        if not tally[1]:
            del self.hourly[hour_of(ts)]

    def reload(self, raw: list[tuple[Any, Any]] | None) -> None:
        self.rows, self.buckets, self.hourly, self.prev_added, self.has_prev = [], {}, {}, None, False
        self.append(raw)
        self.last_id = self.last_id or "0-0"

    def drop_before(self, r: Any, key: str, cutoff_ms: int) -> None:
        """Forget the rows older than the day; the buckets they were in are summed again from
        the samples still in the day (read back: at most a few minutes of them)."""
        gone = bisect_left(self.rows, cutoff_ms, key=lambda row: row[0])
        if not gone:
            return
        affected = set()
        for _, _, ts, rise in self.rows[:gone]:
            if ts is not None:
                affected.add(ts // BUCKET_MS)
                if rise is not None:
                    self._count(ts, rise, -1)
        del self.rows[:gone]
        for n, (ms, i, ts, rise) in enumerate(self.rows):
            if ts is not None:
                if rise is not None:  # the sample before it is gone
                    self.rows[n] = (ms, i, ts, None)
                    self._count(ts, rise, -1)
                break
        else:
            self.prev_added, self.has_prev = None, False
        for b in affected:
            self.buckets.pop(b, None)
        if affected and self.rows and self.last_id:
            end_ms = (max(affected) + 1) * BUCKET_MS - 1
            end = self.last_id if end_ms >= (id_ms(self.last_id) or 0) else str(end_ms)  # nothing unread
            for _, fields in r.xrange(key, f"{cutoff_ms}-0", end):
                sample = parse_sample(fields)
                if sample is not None and sample.ts // BUCKET_MS in affected:
                    self.buckets.setdefault(sample.ts // BUCKET_MS, Bucket()).add(sample)
        for h in [h for h in self.hourly if h < hour_of(cutoff_ms)]:  # hours no chart shows any more
            del self.hourly[h]

    def summary(self, now: int) -> DaySummary:
        # copies: the charts read them after the lock is released, while another view may add
        buckets = sorted((b * BUCKET_MS, Bucket(v.dlq, dict(v.lags))) for b, v in self.buckets.items()
                         if b * BUCKET_MS <= now)
        last = hour_of(now)
        hours = [(h * HOUR_MS, self.hourly[h][0] if h in self.hourly else None) for h in range(last - 23, last + 1)]
        return DaySummary(buckets, hours, sorted({g for _, v in buckets for g in v.lags}))


_held: weakref.WeakKeyDictionary[Any, dict[str, _Held]] = weakref.WeakKeyDictionary()  # per Redis client
_lock = threading.Lock()


def _text(v: Any) -> str:
    return v.decode() if isinstance(v, bytes) else str(v)


def day_summary(bus: Bus, now: int) -> DaySummary:
    """The last 24 h of samples, bucketed, for the Overview's charts."""
    key, start = bus.keys.history, f"{max(0, now - DAY_MS)}-0"
    with _lock:
        held = _held.setdefault(bus.r, {}).setdefault(key, _Held())
        held.drop_before(bus.r, key, now - DAY_MS)
        if held.last_id is None:
            held.reload(bus.r.xrange(key, start, "+", count=MAXLEN))
        else:
            p = bus.r.pipeline(transaction=False)
            p.xrange(key, start, "+", count=1)
            p.xrange(key, "(" + held.last_id, "+", count=MAXLEN)
            first, raw = p.execute()
            first_id = _text(first[0][0]) if first else None
            if held.rows and first_id != held.rows[0][1]:  # trimmed, deleted or recreated
                held.reload(bus.r.xrange(key, start, "+", count=MAXLEN))
            else:
                held.append(raw)
        return held.summary(now)
