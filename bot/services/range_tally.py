"""An exact count of what a guarded action would select in an id range, by type and tenant,
read as raw pages: the preview of a replay over a million entries in seconds.

The per-entry rules (parse, mask, filter, movable) stay the reference: a caller passes
them as `odd`, and every entry the fast path cannot read the same way goes through them
(an unusual field layout, JSON that msgspec refuses or that holds an out-of-range number,
a type or tenant that is not a string). For the rest the rules reduce to: the event is a
JSON object; its `type` and `tenantId`, masked, pass the filters; for a replay its `data`
is an object or null or absent. Only filters on type, types and tenant qualify.
"""
from __future__ import annotations

import json
from bisect import bisect_right
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from itertools import accumulate, repeat
from operator import add, contains, itemgetter
from typing import Any

import msgspec
import redis

from bot import gcpause
from bot.envelope import MALFORMED, NO_TENANT, UNKNOWN
from bot.services.entry_keys import huge_number
from bot.services.raw_read import RawEntry, pages

KINDS = ("replay", "reprocess", "purge")  # kinds whose `movable` the fast path knows
FILTERS = ("type", "types", "tenant")
SETTINGS = ("rate", "batch", "limit")  # parameters of the job that select nothing
BATCH = 2000
# (entry id, its fields) -> (matches the filter, movable, type, tenant), by the per-entry rules
OddRule = Callable[[bytes, dict[bytes, bytes]], tuple[bool, bool, str, str]]


class Envelope(msgspec.Struct):
    type: str = ""
    tenantId: str = ""  # noqa: N815 - the wire format's name
    data: msgspec.Raw = msgspec.Raw(b"")
    id: Any = None  # the envelope id a reprocess remembers for its follow-up


_decode = msgspec.json.Decoder(Envelope).decode


@dataclass
class RangeTally:
    scanned: int = 0
    matched: int = 0
    unmovable: int = 0
    types: Counter[str] = field(default_factory=Counter)
    tenants: Counter[str] = field(default_factory=Counter)
    first: str | None = None  # first and last selected entry
    last: str | None = None
    scanned_last: str | None = None
    limited: bool = False  # `limit` selected entries were found before the end of the range


def eligible(kind: str, params: dict[str, Any]) -> bool:
    """Whether the fast path knows every filter in `params` (any other: the per-entry rules)."""
    return kind in KINDS and all(k in FILTERS or k in SETTINGS for k, v in params.items() if v)


def tally(r: redis.Redis, stream: str, start: str, upper: str, *, kind: str, params: dict[str, Any],
          odd: OddRule, mask: Callable[[str], str] | None = None, limit: int | None = None,
          cap: int | None = None, progress: Callable[[int], None] | None = None) -> RangeTally:
    """What `kind` with `params` selects between `start` and `upper` (both inclusive),
    reading at most `cap` entries and stopping at the `limit`-th selected one."""
    with gcpause.paused():
        return _tally(r, stream, start, upper, PageRules(kind, params, mask), odd, limit, cap, progress)


def _tally(r: redis.Redis, stream: str, start: str, upper: str, rules: PageRules, odd: OddRule,
           limit: int | None, cap: int | None, progress: Callable[[int], None] | None) -> RangeTally:
    out = RangeTally()
    for rows in pages(r, stream, start, upper, batch=BATCH):
        if cap is not None and out.scanned + len(rows) > cap:
            rows = rows[:cap - out.scanned]
        keep = rules.page(rows, odd)
        taken = len(rows)
        if limit and out.matched + len(keep) >= limit:
            keep = keep[:limit - out.matched]
            taken = keep[-1][0] + 1
            out.limited = True
        out.scanned += taken
        out.scanned_last = rows[taken - 1][0].decode()
        out.unmovable += rules.unmovable_before(taken)
        if keep:
            out.first = out.first or rows[keep[0][0]][0].decode()
            out.last = rows[keep[-1][0]][0].decode()
            out.matched += len(keep)
            out.types.update(t for _, t, _ in keep)
            out.tenants.update(n for _, _, n in keep)
        if progress is not None:
            progress(out.scanned)
        if out.limited or (cap is not None and out.scanned >= cap):
            break
    return out


_PLACEHOLDERS = frozenset({MALFORMED, UNKNOWN, NO_TENANT})  # matched without any literal text


def _literal(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)


def needles(params: Mapping[str, Any]) -> list[list[str]]:
    """Groups of JSON string literals, one group per filter: an event that contains none of
    a group's literals cannot match. Values read without literal text (`<unknown>`,
    `<malformed>`, `<none>`) give no group."""
    groups: list[list[str]] = []
    types: list[Any] = []
    if params.get("type"):
        types.append(params["type"])
    if params.get("types"):
        types.extend(params["types"] if isinstance(params["types"], list) else [params["types"]])
    if types and all(isinstance(t, str) and t not in _PLACEHOLDERS for t in types):
        groups.append([_literal(t) for t in types])
    tenant = params.get("tenant")
    if tenant and isinstance(tenant, str) and tenant not in _PLACEHOLDERS:
        groups.append([_literal(tenant)])
    return groups


_FIELDS, _FIRST, _NEXT_NAMES = itemgetter(1), itemgetter(0), itemgetter(slice(2, None, 2))


def _events(rows: list[RawEntry]) -> list[bytes | None]:
    """Each entry's `event` where it is the first field and not repeated, else None. In C
    a page at a time when every entry is so (the usual case), else entry by entry."""
    fields = list(map(_FIELDS, rows))
    if set(map(_FIRST, fields)) == {b"event"} and not any(map(contains, map(_NEXT_NAMES, fields), repeat(b"event"))):
        return list(map(_FIELDS, fields))
    return [f[1] if f[0] == b"event" and (len(f) == 2 or b"event" not in f[2::2]) else None for f in fields]


def _finds(joined: bytes, needle: bytes, ends: list[int]) -> set[int]:
    """The events (by position) of `joined` holding `needle`."""
    out: set[int] = set()
    at = joined.find(needle)
    while at >= 0:
        i = bisect_right(ends, at)
        out.add(i)
        at = joined.find(needle, ends[i])  # on from the next event
    return out


class PageRules:
    """The selection of a guarded action over raw pages: the preview's count and a job's
    reads (bot.jobs.scan) decide with it, so a job moves what its preview counted."""

    def __init__(self, kind: str, params: dict[str, Any], mask: Callable[[str], str] | None):
        self.kind, self.mask = kind, mask
        self.type = params.get("type") or None
        self.types = set(params.get("types") or ()) or None
        self.tenant = params.get("tenant") or None
        self.masked: dict[str, str] = {}
        # An event without a backslash that lacks every literal of a group cannot match: it
        # is not even decoded. Masking could turn another value INTO a filter's value only
        # by writing "*" into it (every masked value has one), so a value with "*" reads all.
        groups = needles(params)
        self.needles = [] if any("*" in n for g in groups for n in g) else [[n.encode() for n in g] for g in groups]
        # an entry orjson refuses is <malformed>, tenant <none>: do the filters take those?
        self.selects_malformed = self._matches(self._masked(MALFORMED), self._masked(NO_TENANT))
        self._unmovable: list[int] = []  # positions in the last page
        self.events: list[bytes | None] = []  # the last page's `event` values (None: an unusual layout)
        self.envelopes: list[Envelope | None] = []  # ... and envelopes (None: read by the per-entry rules)

    def _masked(self, value: str) -> str:
        got = self.masked.get(value)
        if got is None:
            got = self.masked[value] = self.mask(value) if self.mask else value
        return got

    def _type_ok(self, etype: str) -> bool:
        return (self.type is None or etype == self.type) and (self.types is None or etype in self.types)

    def _matches(self, etype: str, tenant: str) -> bool:
        return self._type_ok(etype) and (self.tenant is None or tenant == self.tenant)

    def unmovable_before(self, taken: int) -> int:
        return sum(1 for i in self._unmovable if i < taken)

    def page(self, rows: list[RawEntry], odd: OddRule) -> list[tuple[int, str, str]]:
        """(position, type, tenant) of each selected entry of `rows`, in order."""
        self._unmovable = []
        events = _events(rows)
        self.events = events
        if None not in events:
            cand = self._candidates(events)  # type: ignore[arg-type]
            sub = events if cand is None else [events[i] for i in cand]
            try:
                envelopes: list[Envelope] | None = [_decode(e) for e in sub]  # type: ignore[arg-type]
            except (msgspec.DecodeError, msgspec.ValidationError):
                envelopes = None
            kept = self._usual_page(envelopes, sub) if envelopes is not None else None  # type: ignore[arg-type]
            if kept is not None and envelopes is not None:
                if cand is None:
                    self.envelopes = list(envelopes)
                    return kept
                self.envelopes = [None] * len(events)
                for i, envelope in zip(cand, envelopes):
                    self.envelopes[i] = envelope
                self._unmovable = [cand[i] for i in self._unmovable]
                return [(cand[i], t, n) for i, t, n in kept]
        return self._mixed_page(rows, events, odd)

    def _candidates(self, events: list[bytes]) -> list[int] | None:
        """Positions of the events that may match (None: all may): each needle group has a
        literal in the event, or the event holds a backslash (its strings may be escaped).
        The literals are looked for in the page's events joined (a literal never holds the
        newline between them), each find mapped back to its event by offset."""
        if not self.needles:
            return None
        joined = b"\n".join(events)
        ends = list(accumulate(map(add, map(len, events), repeat(1))))  # each event's end, separator included
        chosen: set[int] | None = None
        for group in self.needles:
            hits = set().union(*(_finds(joined, needle, ends) for needle in group))
            chosen = hits if chosen is None else chosen & hits
        if b"\\" in joined:
            chosen = (chosen or set()) | _finds(joined, b"\\", ends)
        return sorted(chosen or ())

    def _usual_page(self, envelopes: list[Envelope], events: list[bytes]) -> list[tuple[int, str, str]] | None:
        """Every entry read the usual way: filters over the distinct types and tenants.
        None when an entry may hold a number orjson refuses (then the page goes entry by
        entry): only the selected entries can tell, unless the filters select malformed ones."""
        types = [v.type for v in envelopes]
        tenants = [v.tenantId for v in envelopes]
        type_of = {t: self._masked(t or UNKNOWN) for t in set(types)}
        tenant_of = {n: self._masked(n or NO_TENANT) for n in set(tenants)}
        ok_types = {t for t, m in type_of.items() if self._type_ok(m)}
        ok_tenants = {n for n, m in tenant_of.items() if self.tenant is None or m == self.tenant}
        picked = [i for i, (t, n) in enumerate(zip(types, tenants)) if t in ok_types and n in ok_tenants]
        checked = events if self.selects_malformed else [events[i] for i in picked]
        if huge_number(b"\n".join(checked)):
            return None
        if self.kind == "replay":
            data = [bytes(envelopes[i].data) for i in picked]
            self._unmovable = [i for i, d in zip(picked, data) if d and d[:1] != b"{" and d != b"null"]
            if self._unmovable:
                bad = set(self._unmovable)
                picked = [i for i in picked if i not in bad]
        return [(i, type_of[types[i]], tenant_of[tenants[i]]) for i in picked]

    def _mixed_page(self, rows: list[RawEntry], events: list[bytes | None], odd: OddRule) -> list[tuple[int, str, str]]:
        """A page with unusual entries: one entry at a time, the unusual ones by `odd`."""
        keep: list[tuple[int, str, str]] = []
        self.envelopes = []
        suspect = huge_number(b"\n".join(e for e in events if e is not None))
        for i, (entry_id, f) in enumerate(rows):
            event, envelope = events[i], None
            if event is not None and not (suspect and huge_number(event)):
                try:
                    envelope = _decode(event)
                except (msgspec.DecodeError, msgspec.ValidationError):
                    envelope = None
            self.envelopes.append(envelope)
            if envelope is None:
                matches, movable, etype, tenant = odd(entry_id, dict(zip(f[0::2], f[1::2])))
            else:
                etype = self._masked(envelope.type or UNKNOWN)
                tenant = self._masked(envelope.tenantId or NO_TENANT)
                matches = self._matches(etype, tenant)
                data = bytes(envelope.data)
                movable = self.kind != "replay" or not data or data[:1] == b"{" or data == b"null"
            if matches:
                if movable:
                    keep.append((i, etype, tenant))
                else:
                    self._unmovable.append(i)
        return keep
