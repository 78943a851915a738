"""Recent events (newest first, optional type filter) and one event by id.

The runbook's `XREVRANGE hyvve:events + - COUNT 10` and "Event Not Being Processed"
steps: was it published, did the group receive it, is it in the DLQ?
"""
from __future__ import annotations

import redis
from pydantic import BaseModel, ConfigDict

from bot.bus import Bus
from bot.envelope import ParsedEntry
from bot.mask import Masker
from bot.services.scan import find, take_page, walk

SCAN_LIMIT = 10_000  # entries read at most to fill a filtered page
FIND_LIMIT = 50_000  # entries searched at most for an envelope id


class EventsView(BaseModel):
    model_config = ConfigDict(arbitrary_types_allowed=True)
    stream: str
    entries: list[ParsedEntry]
    type_filter: str | None
    scanned: int
    scan_capped: bool  # the filter stopped at SCAN_LIMIT before filling the page
    next_before: str | None  # id to continue from (exclusive), None when the stream ended


def recent_events(bus: Bus, n: int, type_filter: str | None = None,
                  before: str | None = None) -> EventsView:
    walked = walk(bus.r, bus.keys.events, start=f"({before}" if before else None, limit=SCAN_LIMIT,
                  batch=n + 1 if not type_filter else 1000, mask=bus.masker)
    page = take_page(walked, n, lambda e: type_filter is None or e.type == type_filter, SCAN_LIMIT)
    return EventsView(stream=bus.keys.events, entries=page.entries, type_filter=type_filter,
                      scanned=page.scanned, scan_capped=page.scan_capped, next_before=page.next_before)


class Delivery(BaseModel):
    group: str
    delivered: bool  # the group's last-delivered-id is at or after this entry
    pending_consumer: str | None = None
    delivery_count: int | None = None


class EventLookup(BaseModel):
    model_config = ConfigDict(arbitrary_types_allowed=True)
    ident: str
    entry: ParsedEntry | None
    where: str | None  # stream name it was found in
    in_dlq: bool
    deliveries: list[Delivery]
    searched: int  # newest entries searched per stream for an envelope id


def _deliveries(bus: Bus, entry_id: str) -> list[Delivery]:
    try:
        groups = bus.r.xinfo_groups(bus.keys.events)
    except redis.ResponseError:  # no stream yet: no groups
        return []
    pipe = bus.r.pipeline(transaction=False)
    for g in groups:
        pipe.xpending_range(bus.keys.events, g["name"], min=entry_id, max=entry_id, count=1)
    out = []
    for g, pending in zip(groups, pipe.execute()):
        last = g.get("last-delivered-id", "0-0")
        delivered = tuple(map(int, last.split("-"))) >= tuple(map(int, entry_id.split("-")))
        held = pending[0] if pending else None
        out.append(Delivery(group=g["name"], delivered=delivered,
                            pending_consumer=held["consumer"] if held else None,
                            delivery_count=held["times_delivered"] if held else None))
    return out


def lookup_event(bus: Bus, ident: str, mask: Masker | None = None) -> EventLookup:
    """Find `ident` (stream id or envelope id) in the main stream, then the DLQ; masked
    (`mask=RAW` only for a caller that holds the unmask role)."""
    for stream in (bus.keys.events, bus.keys.dlq):
        entry = find(bus.r, stream, ident, limit=FIND_LIMIT, mask=mask or bus.masker)
        if entry:
            in_dlq = stream == bus.keys.dlq
            return EventLookup(ident=ident, entry=entry, where=stream, in_dlq=in_dlq,
                               deliveries=[] if in_dlq else _deliveries(bus, entry.entry_id),
                               searched=FIND_LIMIT)
    return EventLookup(ident=ident, entry=None, where=None, in_dlq=False, deliveries=[],
                       searched=FIND_LIMIT)
