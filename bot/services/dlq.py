"""The DLQ read side: summary, filtered list with paging, one entry in full.

DLQ entries carry `event`, `error`, `errorStack`, `movedAt`, `attempts` (older writers:
only `event`, `error`, `movedAt`); anything else is shown as it is.
"""
from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from bot.bus import Bus
from bot.envelope import ParsedEntry
from bot.mask import Masker
from bot.services.counting import count_since
from bot.services.scan import find, take_page, walk
from bot.timeparse import id_ms

LIST_SCAN_LIMIT = 20_000  # entries read at most to fill one filtered page
COUNT_CAP = 100_000  # arrivals counted at most for the summary
FIND_LIMIT = 50_000
HOUR_MS, DAY_MS = 3_600_000, 86_400_000


class DlqSummary(BaseModel):
    stream: str
    length: int
    oldest_id: str | None
    newest_id: str | None
    last_hour: int
    last_hour_capped: bool
    last_day: int
    last_day_capped: bool
    now: int


def dlq_summary(bus: Bus) -> DlqSummary:
    r, stream, now = bus.r, bus.keys.dlq, bus.clock()
    p = r.pipeline(transaction=False)
    p.xlen(stream)
    p.xrange(stream, "-", "+", count=1)
    p.xrevrange(stream, "+", "-", count=1)
    length, oldest, newest = p.execute()
    hour, hour_capped = count_since(bus, stream, now - HOUR_MS, cap=COUNT_CAP)
    day, capped = count_since(bus, stream, now - DAY_MS, cap=COUNT_CAP)
    return DlqSummary(stream=stream, length=length, oldest_id=oldest[0][0] if oldest else None,
                      newest_id=newest[0][0] if newest else None, last_hour=hour, last_hour_capped=hour_capped,
                      last_day=day, last_day_capped=capped, now=now)


class DlqFilter(BaseModel):
    type: str | None = None
    since_ms: int | None = None
    error: str | None = None  # case-insensitive text in the error message
    tenant: str | None = None

    def matches(self, e: ParsedEntry) -> bool:
        if self.type and e.type != self.type:
            return False
        if self.tenant and e.tenant != self.tenant:
            return False
        return not self.error or self.error.lower() in e.error.lower()

    @property
    def active(self) -> bool:
        return bool(self.type or self.since_ms or self.error or self.tenant)


class DlqPage(BaseModel):
    model_config = ConfigDict(arbitrary_types_allowed=True)
    stream: str
    entries: list[ParsedEntry]
    scanned: int
    scan_capped: bool
    next_before: str | None  # continue from here (exclusive) for the next page
    now: int


def dlq_list(bus: Bus, n: int, flt: DlqFilter, before: str | None = None) -> DlqPage:
    """Newest first; `since` becomes the lower id bound, so old entries are never read."""
    stop = f"{flt.since_ms}-0" if flt.since_ms else None
    walked = walk(bus.r, bus.keys.dlq, start=f"({before}" if before else None, stop=stop,
                  limit=LIST_SCAN_LIMIT, batch=n + 1 if not flt.active else 1000, mask=bus.masker)
    page = take_page(walked, n, flt.matches, LIST_SCAN_LIMIT)
    return DlqPage(stream=bus.keys.dlq, entries=page.entries, scanned=page.scanned,
                   scan_capped=page.scan_capped, next_before=page.next_before, now=bus.clock())


class DlqEntryView(BaseModel):
    model_config = ConfigDict(arbitrary_types_allowed=True)
    entry: ParsedEntry
    age_ms: int | None
    stack: list[str]
    stack_more: int
    extra_fields: dict[str, str]


STACK_LINES = 8
KNOWN_FIELDS = {"event", "error", "errorStack", "movedAt", "attempts"}


def dlq_entry(bus: Bus, ident: str, mask: Masker | None = None) -> DlqEntryView | None:
    """One entry, masked (`mask=RAW` only for a caller that holds the unmask role)."""
    e = find(bus.r, bus.keys.dlq, ident, limit=FIND_LIMIT, mask=mask or bus.masker)
    if e is None:
        return None
    stack = [ln.rstrip() for ln in e.fields.get("errorStack", "").splitlines() if ln.strip()]
    ms = id_ms(e.entry_id)
    return DlqEntryView(entry=e, age_ms=bus.clock() - ms if ms else None,
                        stack=stack[:STACK_LINES], stack_more=max(0, len(stack) - STACK_LINES),
                        extra_fields={k: v for k, v in e.fields.items() if k not in KNOWN_FIELDS})
