"""The BaseEvent envelope (docs/architecture.md), built the way the platform's publisher builds it."""
from __future__ import annotations

import itertools
import secrets
from typing import Any

import orjson

from bot.clock import Clock, system_ms
from bot.timeparse import iso_ms

VERSION = "1.0"
_ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyz"
_counter = itertools.count(secrets.randbelow(36 ** 4))


def _base36(n: int, width: int) -> str:
    out = []
    for _ in range(width):
        n, d = divmod(n, 36)
        out.append(_ALPHABET[d])
    return "".join(reversed(out))


def new_id(now_ms: int) -> str:
    """A cuid-like id ("c" + time + counter + 12 random chars, 25 in all): sortable by time,
    unique across processes without coordination."""
    return ("c" + _base36(now_ms, 8) + _base36(next(_counter), 4)
            + "".join(secrets.choice(_ALPHABET) for _ in range(12)))


def new_event(type: str, data: dict[str, Any] | None = None, *, tenant: str,
              user: str | None = None, source: str = "platform",
              correlation_id: str | None = None, clock: Clock = system_ms) -> dict[str, Any]:
    """A BaseEvent with the platform's key order; the correlation id defaults to a new id."""
    now = clock()
    return {"id": new_id(now), "type": type, "source": source, "timestamp": iso_ms(now),
            "correlationId": correlation_id or new_id(now), "tenantId": tenant,
            "userId": user, "version": VERSION, "data": data or {}}


def dumps(event: dict[str, Any]) -> bytes:
    """Compact UTF-8 JSON, as JSON.stringify writes it."""
    return orjson.dumps(event)
