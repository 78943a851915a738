"""Reading stream entries in the bus's wire format (docs/architecture.md), tolerant of surprises.

Every entry becomes a `ParsedEntry`; nothing raises. An entry whose event cannot be read
has type `<malformed>` and says why; a readable event without a type is `<unknown>`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson

MALFORMED = "<malformed>"
UNKNOWN = "<unknown>"
NO_TENANT = "<none>"


@dataclass
class ParsedEntry:
    entry_id: str
    fields: dict[str, str]
    event: dict[str, Any] | None
    type: str
    tenant: str
    problem: str | None = None
    raw_event: str | None = field(default=None, repr=False)

    @property
    def event_id(self) -> str | None:
        v = self.event.get("id") if self.event else None
        return v if isinstance(v, str) else None

    @property
    def malformed(self) -> bool:
        return self.problem is not None

    @property
    def error(self) -> str:
        return self.fields.get("error", "")


def _text(v: Any) -> str:
    if isinstance(v, bytes):
        return v.decode("utf-8", "replace")
    return str(v)


def parse_entry(entry_id: Any, raw_fields: dict) -> ParsedEntry:
    """One XRANGE item -> ParsedEntry (fields decoded, event JSON parsed if possible)."""
    fields = {_text(k): _text(v) for k, v in (raw_fields or {}).items()}
    eid = _text(entry_id)
    raw = fields.get("event")
    if raw is None:
        if "type" in fields:  # a flat entry: type, payload, ... as top-level fields
            event = dict(fields)
            if "payload" in event:
                try:
                    event["data"] = orjson.loads(event.pop("payload"))
                except orjson.JSONDecodeError:
                    pass
            return ParsedEntry(eid, fields, event, fields["type"] or UNKNOWN,
                               fields.get("tenantId") or NO_TENANT,
                               problem=None)
        return ParsedEntry(eid, fields, None, MALFORMED, NO_TENANT,
                           problem="entry has no `event` field")
    try:
        event = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return ParsedEntry(eid, fields, None, MALFORMED, NO_TENANT,
                           problem="`event` is not valid JSON", raw_event=raw)
    if not isinstance(event, dict):
        return ParsedEntry(eid, fields, None, MALFORMED, NO_TENANT,
                           problem="`event` is JSON but not an object", raw_event=raw)
    etype = event.get("type")
    tenant = event.get("tenantId")
    return ParsedEntry(eid, fields, event,
                       etype if isinstance(etype, str) and etype else UNKNOWN,
                       tenant if isinstance(tenant, str) and tenant else NO_TENANT,
                       raw_event=raw)


def classify(fields: dict[bytes, bytes]) -> tuple[str, str]:
    """(type, tenant) of a raw entry, by the same rules as `parse_entry`, without building
    a ParsedEntry: the hot path of whole-stream counts (fields are undecoded bytes)."""
    raw = fields.get(b"event")
    if raw is None:
        if b"type" in fields:
            tenant = fields.get(b"tenantId")
            return (_text(fields[b"type"]) or UNKNOWN, _text(tenant) if tenant else NO_TENANT)
        return MALFORMED, NO_TENANT
    try:
        event = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return MALFORMED, NO_TENANT
    if not isinstance(event, dict):
        return MALFORMED, NO_TENANT
    etype, tenant = event.get("type"), event.get("tenantId")
    return (etype if isinstance(etype, str) and etype else UNKNOWN,
            tenant if isinstance(tenant, str) and tenant else NO_TENANT)
