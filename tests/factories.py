"""Entries in the bus's wire format for tests, written with explicit ids."""
from __future__ import annotations

import itertools
import json

_seq = itertools.count(1)


def envelope(type_: str = "approval.item.created", tenant: str | None = "ws_1", **extra) -> dict:
    n = next(_seq)
    ev = {"id": f"clxtest{n:06d}", "type": type_, "source": "platform",
          "timestamp": "2025-12-05T10:30:00.000Z", "correlationId": f"clxcorr{n:06d}",
          "tenantId": tenant, "userId": "usr_9", "version": "1.0", "data": {"approvalId": f"ap_{n}"}}
    if tenant is None:
        del ev["tenantId"]
    ev.update(extra)
    return ev


def add_event(r, stream: str, ms: int, seq: int = 0, **kw) -> tuple[str, dict]:
    ev = envelope(**kw)
    entry_id = r.xadd(stream, {"event": json.dumps(ev)}, id=f"{ms}-{seq}")
    return entry_id, ev


def add_dlq(r, stream: str, ms: int, error: str = "timeout after 5003ms for ap_81",
            seq: int = 0, old_format: bool = False, **kw) -> tuple[str, dict]:
    ev = envelope(**kw)
    fields = {"event": json.dumps(ev), "error": error}
    if not old_format:
        fields.update(errorStack=f"Error: {error}\n    at handle (handlers/approval.ts:42:11)\n"
                                 "    at process (bus/consumer.ts:88:7)", movedAt="2025-12-05T10:31:00.000Z",
                      attempts="3")
    else:
        fields["movedAt"] = "2025-12-05T10:31:00.000Z"
    entry_id = r.xadd(stream, fields, id=f"{ms}-{seq}")
    return entry_id, ev
