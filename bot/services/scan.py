"""Bounded, batched walks over a stream, newest or oldest first.

Every walk reads in batches (one XRANGE/XREVRANGE of `batch` entries per round trip) and
stops after `limit` entries, so no command loads a stream of millions at once.

Entries come out masked (bot/mask.py): pass the bus's masker (`bus.masker`); without one
the default patterns still apply. Only `mask=RAW` (the unmask role) reads raw values.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import NamedTuple

import redis

from bot.envelope import ParsedEntry, parse_entry
from bot.mask import DEFAULT, Masker
from bot.redis_types import entries
from bot.timeparse import is_stream_id

BATCH = 1000


def walk(r: redis.Redis, stream: str, *, newest_first: bool = True, start: str | None = None,
         stop: str | None = None, limit: int | None = None, batch: int = BATCH,
         mask: Masker = DEFAULT) -> Iterator[ParsedEntry]:
    """Entries of `stream` from `start` (inclusive) towards `stop` (inclusive), masked."""
    hi, lo = ("+", "-") if newest_first else ("-", "+")
    cursor, end = start or hi, stop or lo
    seen = 0
    while limit is None or seen < limit:
        count = batch if limit is None else min(batch, limit - seen)
        rows = entries(r.xrevrange(stream, cursor, end, count=count) if newest_first
                       else r.xrange(stream, cursor, end, count=count))
        for entry_id, fields in rows:
            yield mask.entry(parse_entry(entry_id, fields))
        seen += len(rows)
        if len(rows) < count:
            return
        cursor = "(" + rows[-1][0]  # exclusive: continue after the last entry read


class Page(NamedTuple):
    entries: list[ParsedEntry]
    scanned: int
    scan_capped: bool  # the read limit stopped the search before a page and one more were found
    next_before: str | None  # where an older page starts (exclusive); None: nothing older


def take_page(entries: Iterator[ParsedEntry], n: int, keep: Callable[[ParsedEntry], bool],
              limit: int) -> Page:
    """Up to `n` entries that `keep` accepts from a bounded newest-first walk. An older page
    is offered only when one more match exists (or the read limit left the question open)."""
    page: list[ParsedEntry] = []
    scanned, last = 0, None
    for e in entries:
        scanned, last = scanned + 1, e.entry_id
        if keep(e):
            if len(page) == n:
                return Page(page, scanned, False, page[-1].entry_id)
            page.append(e)
    capped = scanned >= limit
    return Page(page, scanned, capped, last if capped else None)


def raw_batches(r: redis.Redis, stream: str, start: str | None = None,
                batch: int = BATCH) -> Iterator[list[tuple[bytes, dict[bytes, bytes]]]]:
    """The whole stream oldest first from `start`, in batches of undecoded entries: the
    cheapest way to read millions of entries (no string decoding, no ParsedEntry)."""
    cursor = start or "-"
    while True:
        rows = r.execute_command("XRANGE", stream, cursor, "+", "COUNT", batch, NEVER_DECODE=True)
        if rows:
            yield rows
        if len(rows) < batch:
            return
        cursor = b"(" + rows[-1][0]


def find(r: redis.Redis, stream: str, ident: str, *, limit: int, mask: Masker = DEFAULT) -> ParsedEntry | None:
    """The entry whose stream id is `ident`, or whose envelope `id` is `ident` among the
    newest `limit` entries; masked."""
    if is_stream_id(ident):
        rows = entries(r.xrange(stream, ident, ident, count=1))
        return mask.entry(parse_entry(*rows[0])) if rows else None
    for entry in walk(r, stream, limit=limit, mask=mask):
        if entry.event_id == ident:
            return entry
    return None
