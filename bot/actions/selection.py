"""What a guarded command would touch, counted exactly before anything moves.

One walk of the source by id range (batches of 1,000, each a ~1 ms XRANGE) up to the upper
id fixed now; the job later walks the same range with the same filter (bot.jobs.select).
"""
from __future__ import annotations

import re
from collections import Counter
from typing import Any

from pydantic import BaseModel

from bot.bus import Bus
from bot.envelope import ParsedEntry
from bot.jobs.select import matches, movable, odd_rule
from bot.redis_types import entries
from bot.services import range_tally
from bot.services.scan import find, walk
from bot.timeparse import id_ms, is_stream_id

SCAN_CAP = 1_000_000  # entries read at most by one preview; the rest needs another run
FIND_LIMIT = 50_000  # newest entries searched for an envelope id
_ALMOST_ID = re.compile(r"^\d+[-\d]*$")


class Selection(BaseModel):
    source: str
    total: int  # entries in the source at preview time
    scanned: int
    matched: int  # entries the job will move
    unmovable: int  # matched the filter but cannot be moved (e.g. no `event` field)
    by_type: list[tuple[str, int]]
    by_tenant: list[tuple[str, int]]
    first_id: str | None
    last_id: str | None
    start: str
    upper: str  # the job never reads past this id
    capped: bool  # the scan stopped at SCAN_CAP (or `limit`): later entries are not included
    limited: bool = False

    @property
    def stays(self) -> int:
        return self.total - self.matched

    @property
    def oldest_ms(self) -> int | None:
        return id_ms(self.first_id)

    @property
    def newest_ms(self) -> int | None:
        return id_ms(self.last_id)


class BadId(ValueError):
    """Neither a stream id nor an envelope id that exists."""


def last_id(bus: Bus, stream: str) -> str | None:
    rows = entries(bus.r.xrevrange(stream, "+", "-", count=1))
    return rows[0][0] if rows else None


def select(bus: Bus, job_kind: str, source: str, params: dict[str, Any], start: str = "-",
           upper: str | None = None, limit: int | None = None) -> Selection:
    """Count what `job_kind` with `params` would move from `source` between `start` and
    `upper` (default: the source's last id now)."""
    upper = upper or last_id(bus, source) or "0-0"
    total = bus.r.xlen(source)
    if range_tally.eligible(job_kind, params) and not bus.masker.names_keys:
        return _fast_select(bus, job_kind, source, params, start, upper, limit, total)
    types: Counter[str] = Counter()
    tenants: Counter[str] = Counter()
    scanned = matched = unmovable = 0
    first = last = scanned_last = None
    capped = limited = False
    for e in walk(bus.r, source, newest_first=False, start=start, stop=upper, limit=SCAN_CAP, mask=bus.masker):
        scanned, scanned_last = scanned + 1, e.entry_id
        if not matches(params, e):
            continue
        if not movable(job_kind, e):
            unmovable += 1
            continue
        matched += 1
        types[e.type] += 1
        tenants[e.tenant] += 1
        first, last = first or e.entry_id, e.entry_id
        if limit and matched >= limit:
            limited = True
            break
    if scanned >= SCAN_CAP and not limited and scanned_last is not None:  # is not None: scanned > 0
        capped, upper = True, scanned_last
    if limited and last is not None:  # is not None: limited means one matched at least
        upper = last
    return Selection(source=source, total=total, scanned=scanned, matched=matched,
                     unmovable=unmovable, by_type=types.most_common(10),
                     by_tenant=tenants.most_common(5), first_id=first, last_id=last,
                     start=start, upper=upper, capped=capped, limited=limited)


def _fast_select(bus: Bus, job_kind: str, source: str, params: dict[str, Any], start: str, upper: str,
                 limit: int | None, total: int) -> Selection:
    """The same count from raw pages (bot.services.range_tally); entries it cannot read
    the usual way go through the per-entry rules above."""
    mask = bus.masker
    t = range_tally.tally(bus.r, source, start, upper, kind=job_kind, params=params,
                          odd=odd_rule(mask, job_kind, params),
                          mask=mask.text if mask.enabled else None, limit=limit, cap=SCAN_CAP)
    capped = t.scanned >= SCAN_CAP and not t.limited
    return Selection(source=source, total=total, scanned=t.scanned, matched=t.matched,
                     unmovable=t.unmovable, by_type=t.types.most_common(10),
                     by_tenant=t.tenants.most_common(5), first_id=t.first, last_id=t.last,
                     start=start, upper=(t.scanned_last if capped else t.last if t.limited else None) or upper,
                     capped=capped, limited=t.limited)


def resolve(bus: Bus, stream: str, ident: str) -> ParsedEntry:
    """The entry `ident` names: a stream id, or an envelope id among the newest entries."""
    if not is_stream_id(ident) and _ALMOST_ID.match(ident):
        raise BadId(f"`{ident}` is not a valid stream id (they look like 1764000000000-0).")
    entry = find(bus.r, stream, ident, limit=FIND_LIMIT, mask=bus.masker)
    if entry is None:
        where = "stream id" if is_stream_id(ident) else f"envelope id among the newest {FIND_LIMIT:,} entries"
        raise BadId(f"No entry in `{stream}` has the {where} `{ident}`.")
    return entry
