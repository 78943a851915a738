"""The DLQ archive: purged and deleted entries are copied there first, with
every field, and kept for BUS_ARCHIVE_DAYS so `dlq restore <job>` can put them back."""
from __future__ import annotations

from bot.bus import Bus

DAY_MS = 86_400_000
TRIM_LIMIT = 10_000  # entries removed at most per call (keeps XTRIM well under 50 ms)


def expire_old(bus: Bus) -> int:
    """Drop archived entries older than the retention; returns how many went."""
    cutoff = bus.clock() - bus.settings.bus_archive_days * DAY_MS
    return bus.r.xtrim(bus.keys.dlq_archive, minid=f"{max(0, cutoff)}-0", approximate=True,
                       limit=TRIM_LIMIT)
