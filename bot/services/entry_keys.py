"""Type, tenant and error signature of raw DLQ entries, a page at a time: the hot path of
`dlq top`, with exactly the answers of `bot.envelope.classify` and `signature`.

The event JSON is validated and read with msgspec into just its `type` and `tenantId`
(about a tenth of the cost of building the whole dict); whatever msgspec refuses, and the
one kind of number it accepts where orjson does not (a float beyond the double range), is
classified by `classify` itself. Entries in the usual field layout are read by position;
any other layout (extra or repeated fields, flat entries) goes through a dict like before.
"""
from __future__ import annotations

import re
from itertools import repeat
from operator import attrgetter, eq, itemgetter

import msgspec

from bot.envelope import NO_TENANT, UNKNOWN, classify
from bot.mask import Masker
from bot.services.raw_read import RawEntry
from bot.services.signature import SignatureMemo

_LAYOUTS = ([b"event", b"error", b"errorStack", b"movedAt", b"attempts"],  # field names of a DLQ entry
            [b"event", b"error", b"errorStack", b"movedAt"],
            [b"event", b"error", b"movedAt", b"attempts"],
            [b"event", b"error", b"movedAt"])  # older writers
# A JSON number beyond the double range (msgspec skips it as infinity, orjson refuses the
# document) has 100 digits or more, or an exponent of 3 digits or more. The events are
# checked for either in a copy with every digit and "." written 0, every "E" written "e",
# ",", "[" written ":", and whitespace, "-" and "+" left out: plain byte searches.
_NUMBERS = bytes.maketrans(b"0123456789.E,[", b"00000000000e::")
_DROPPED = b" \t\n\r-+"
_LONG_DIGITS = b"0" * 100
_BIG_EXPONENT = re.compile(rb":0+e000")


class _Envelope(msgspec.Struct):
    """The two keys a count needs; any other type of value is left to `classify`."""
    type: str = ""
    tenantId: str = ""  # noqa: N815 - the wire format's name


_decode = msgspec.json.Decoder(_Envelope).decode
_LAYOUT_NAMES = {tuple(names) for names in _LAYOUTS}
_NAMES, _SECOND, _FOURTH = itemgetter(slice(0, None, 2)), itemgetter(1), itemgetter(3)
_TYPE, _TENANT = attrgetter("type"), attrgetter("tenantId")


def _keys_of(event: bytes) -> tuple[str, str]:
    try:
        envelope = _decode(event)
    except (msgspec.DecodeError, msgspec.ValidationError):
        return classify({b"event": event})
    return envelope.type or UNKNOWN, envelope.tenantId or NO_TENANT


class EntryKeys:
    """Keys of raw entries; one per scan (the signature memo learns the DLQ's shapes).
    With `mask`, signatures are those of the masked errors (bot.services.signature)."""

    def __init__(self, mask: Masker | None = None) -> None:
        self.signatures = SignatureMemo(mask)
        self.mask = mask if mask is not None and mask.enabled else None
        self.masked: dict[tuple[str, str], str] = {}  # (field, value) -> masked: few distinct values

    def page(self, rows: list[RawEntry]) -> tuple[list[str], list[str], list[str]]:
        """(types, tenants, signatures) of `rows`, in order; masked as entries are. Each
        distinct type and tenant of the page is looked at once."""
        types, tenants, signatures = self._page(rows)
        type_of = {t: self._masked("type", t or UNKNOWN) for t in set(types)}
        tenant_of = {n: self._masked("tenantId", n or NO_TENANT) for n in set(tenants)}
        return list(map(type_of.__getitem__, types)), list(map(tenant_of.__getitem__, tenants)), signatures

    def _masked(self, name: str, value: str) -> str:
        got = self.masked.get((name, value))
        if got is None:
            got = self.masked[(name, value)] = self.mask.top_level(name, value) if self.mask else value
        return got

    def _page(self, rows: list[RawEntry]) -> tuple[list[str], list[str], list[str]]:
        """Types and tenants ("" where the event has none), signatures."""
        fields = list(map(_SECOND, rows))
        names = list(map(_NAMES, fields))
        if all(map(eq, names, repeat(_LAYOUTS[0]))) or set(map(tuple, names)) <= _LAYOUT_NAMES:
            events = list(map(_SECOND, fields))
            errors = list(map(_FOURTH, fields))
            try:
                envelopes = list(map(_decode, events))
                types = list(map(_TYPE, envelopes))
                tenants = list(map(_TENANT, envelopes))
            except (msgspec.DecodeError, msgspec.ValidationError):
                types, tenants = map(list, zip(*map(_keys_of, events)))
            if huge_number(b"\n".join(events)):
                for i, event in enumerate(events):
                    if huge_number(event):
                        types[i], tenants[i] = classify({b"event": event})
            return types, tenants, self.signatures.many(errors)
        return self._odd_page(rows)

    def _odd_page(self, rows: list[RawEntry]) -> tuple[list[str], list[str], list[str]]:
        """Entries in any layout: through a dict of their fields, one by one."""
        types, tenants, errors = [], [], []
        for _, f in rows:
            fields = dict(zip(f[0::2], f[1::2]))
            event = fields.get(b"event")
            etype, tenant = classify(fields) if event is None else _keys_of(event)
            if event is not None and huge_number(event):
                etype, tenant = classify(fields)
            types.append(etype)
            tenants.append(tenant)
            errors.append(fields.get(b"error", b""))
        return types, tenants, self.signatures.many(errors)


def huge_number(raw: bytes) -> bool:
    """Whether `raw` may hold a number that orjson refuses as out of range (a superset)."""
    numbers = raw.translate(_NUMBERS, _DROPPED)
    return _LONG_DIGITS in numbers or (b"e000" in numbers and _BIG_EXPONENT.search(numbers) is not None)
