"""The runbook's thresholds (docs/alerts.md) as levels: healthy < warning < critical."""
from __future__ import annotations

from typing import Literal

Level = Literal["healthy", "warning", "critical"]
_ORDER = {"healthy": 0, "warning": 1, "critical": 2}


def level_of(value: float | None, warn: float, crit: float) -> Level:
    """`value` above `crit` is critical, above `warn` a warning; None is judged by the caller."""
    if value is None:
        return "healthy"
    if value > crit:
        return "critical"
    if value > warn:
        return "warning"
    return "healthy"


def worst(*levels: Level) -> Level:
    return max(levels, key=_ORDER.__getitem__, default="healthy")
