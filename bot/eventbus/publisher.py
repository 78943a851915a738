"""Publishing events: `XADD <events> * event <json>`, one event or a batch per round trip."""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any, cast

from bot.bus import Bus
from bot.eventbus.event import dumps


class Publisher:
    """Writes BaseEvents to the main stream. `maxlen` trims approximately (`MAXLEN ~`) on
    every write; None (the default, BUS_EVENTS_MAXLEN unset) never trims."""

    def __init__(self, bus: Bus, maxlen: int | None = None, stream: str | None = None):
        self.r = bus.r
        self.stream = stream or bus.keys.events
        self.maxlen = maxlen if maxlen is not None else bus.settings.bus_events_maxlen

    def publish(self, event: dict[str, Any]) -> str:
        """Returns the stream entry id (the client decodes replies)."""
        return cast(str, self.r.xadd(self.stream, {"event": dumps(event)},
                           maxlen=self.maxlen, approximate=True))

    def publish_many(self, events: Iterable[dict[str, Any]]) -> list[str]:
        """All in one round trip (a pipeline without MULTI); ids in the events' order."""
        p = self.r.pipeline(transaction=False)
        for event in events:
            p.xadd(self.stream, {"event": dumps(event)}, maxlen=self.maxlen, approximate=True)
        return p.execute()
