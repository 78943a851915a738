"""Filling the bus for alert tests: DLQ entries with old ids (so they are not "last hour")."""
from __future__ import annotations

import json

OLD_MS = 1_000_000_000_000  # 2001: far outside any "last hour" window


def fill_dlq(r, stream: str, n: int, start_ms: int = OLD_MS) -> None:
    have = r.xlen(stream)
    p = r.pipeline(transaction=False)
    for i in range(have, have + n):
        event = json.dumps({"id": f"e{i}", "type": "approval.item.created", "tenantId": "ws_1"})
        p.xadd(stream, {"event": event, "error": "boom", "movedAt": "2001-09-09T01:46:40Z"}, id=f"{start_ms + i}-0")
    p.execute()


def drain_dlq(r, stream: str, keep: int) -> None:
    ids = [i for i, _ in r.xrange(stream, "-", "+")]
    if len(ids) > keep:
        r.xdel(stream, *ids[: len(ids) - keep])
