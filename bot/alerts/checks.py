"""What the alert checks measure: every metric of the one status model
(bot.services.health / bot.services.status), as a list of `Metric`s to step the rules with.

A value of None means "unknown" or "no data": it is never read as a healthy zero.
"""
from __future__ import annotations

from bot.bus import Bus
from bot.services.health import get_health
from bot.services.status import Metric

__all__ = ["Metric", "measure"]


NOT_ALERTED = ("stream", "groups", "paused:")  # in the status, but no alert of their own


def alerted(rule: str) -> bool:
    """A missing stream, no group and a paused group count in the status (`/bus health`,
    `busbot check`) but raise no alert: they are set or seen by an operator at once, and a
    fresh deployment has no stream until its first publish."""
    return not rule.startswith(NOT_ALERTED)


def measure(bus: Bus) -> list[Metric]:
    """The alerted metrics, now, as `/bus health` and `busbot check` see them (the same
    values and levels). Raises one of bot.redis_errors.UNREACHABLE when Redis is down."""
    return [m for m in get_health(bus).metrics if alerted(m.rule)]
