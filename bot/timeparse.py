"""Stream ids are millisecond timestamps: converting between ids, times and ages.

WHEN is ISO-8601 (`2025-12-01T00:00:00Z`), relative (`2h`, `30m`, `1d`, `90s`, `1w` ago)
or `now`.
"""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from typing import overload

STREAM_ID_RE = re.compile(r"^\d{1,20}(-\d{1,20})?$")
_RELATIVE_RE = re.compile(r"^(\d+)\s*([smhdw])$", re.IGNORECASE)
_UNIT_MS = {"s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000, "w": 604_800_000}


class WhenError(ValueError):
    """A WHEN value that is neither ISO-8601 nor a relative age."""


MAX_ID_PART = 2**64 - 1  # each part of a stream id is an unsigned 64-bit number


def is_stream_id(text: str) -> bool:
    return bool(STREAM_ID_RE.match(text)) and all(int(p) <= MAX_ID_PART for p in text.split("-"))


def id_ms(entry_id: str | bytes | None) -> int | None:
    """Milliseconds part of a stream id, or None for a missing id."""
    if not entry_id:
        return None
    if isinstance(entry_id, bytes):
        entry_id = entry_id.decode()
    head = entry_id.split("-", 1)[0]
    return int(head) if head.isdigit() else None


def parse_when(text: str, now_ms: int) -> int:
    """WHEN -> epoch milliseconds."""
    text = text.strip()
    if text.lower() == "now":
        return now_ms
    m = _RELATIVE_RE.match(text)
    if m:
        return _not_before_epoch(text, now_ms - int(m.group(1)) * _UNIT_MS[m.group(2).lower()])
    try:
        dt = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise WhenError(f"“{text}” is not a time: use ISO-8601 like 2025-12-01T00:00:00Z, "
                        "an age like 30m, 2h, 1d, or now.") from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return _not_before_epoch(text, _epoch_ms(dt))


_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def _epoch_ms(dt: datetime) -> int:
    """Exact milliseconds since 1970 (a float timestamp times 1000 can land 1 ms short)."""
    return (dt - _EPOCH) // timedelta(milliseconds=1)


def _not_before_epoch(text: str, ms: int) -> int:
    """Stream ids start at 1970: an earlier time cannot bound a range."""
    if ms < 0:
        raise WhenError(f"“{text}” is before 1970, older than any stream entry; use a later time "
                        "like 2025-12-01T00:00:00Z or an age like 30m, 2h, 1d.")
    return ms


@overload
def iso_ms(ms: int) -> str: ...
@overload
def iso_ms(ms: None) -> None: ...
@overload
def iso_ms(ms: int | None) -> str | None: ...


def iso_ms(ms: int | None) -> str | None:
    """Epoch milliseconds -> `2025-12-05T10:30:00.000Z` (None stays None)."""
    if ms is None:
        return None
    dt = datetime.fromtimestamp(ms / 1000, tz=timezone.utc)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def parse_iso_ms(text: str | None) -> int | None:
    """ISO-8601 text (as in `movedAt` or an envelope timestamp) -> ms, None if unparseable."""
    if not text or not isinstance(text, str):
        return None
    try:
        dt = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return _epoch_ms(dt)


def human_age(ms: int | None) -> str:
    """A duration in ms as a short phrase: `42s`, `3m 12s`, `2h 5m`, `4d 3h`."""
    if ms is None:
        return "unknown"
    s = max(0, ms) // 1000
    if s < 60:
        return f"{s}s"
    m, s = divmod(s, 60)
    if m < 60:
        return f"{m}m {s}s" if s else f"{m}m"
    h, m = divmod(m, 60)
    if h < 48:
        return f"{h}h {m}m" if m else f"{h}h"
    d, h = divmod(h, 24)
    return f"{d}d {h}h" if h else f"{d}d"
