"""The one status model: every metric judged against its rule, and the overall status.

`/bus health`, `GET /events/health`, `busbot check` and the alert checks all read their
levels from here (through `bot.services.health.get_health`), so they cannot disagree.
A metric whose value is None is "unknown": shown as such, never read as a healthy zero,
and left out of the overall status.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel

from bot.alerts.rules import rule_for
from bot.services.thresholds import Level, worst
from bot.settings import Settings

CheckLevel = Literal["healthy", "warning", "critical", "unknown"]


@dataclass
class Metric:
    rule: str  # a rule id of bot.alerts.rules: "dlq_size", "lag:<group>", ...
    value: float | None  # None: unknown / no data
    note: str = ""  # how the value was obtained, when that matters to the reader


class Check(BaseModel):
    rule: str
    title: str
    level: CheckLevel
    value: float | None
    text: str  # the value as the reader sees it: "1,234 entries", "11h 2m", "missing"
    warn: float
    crit: float
    unit: str
    condition: bool  # a yes/no rule (missing stream, paused group): no thresholds to show
    note: str = ""

    @property
    def reason(self) -> str:
        """One line for a check that is not healthy."""
        return f"{self.title}: {self.text}" + (f" ({self.note})" if self.note else "")


def judge(settings: Settings, metrics: list[Metric]) -> list[Check]:
    out = []
    for m in metrics:
        rule = rule_for(settings, m.rule)
        level: CheckLevel = rule.level(m.value) if m.value is not None else "unknown"
        out.append(Check(rule=m.rule, title=rule.title, level=level, value=m.value,
                         text=rule.fmt(m.value), warn=rule.warn, crit=rule.crit, unit=rule.unit,
                         condition=rule.states is not None, note=m.note))
    return out


def overall(levels: list[str]) -> Level:
    """The worst known level; unknown values do not change it."""
    return worst(*[lv for lv in levels if lv != "unknown"])  # type: ignore[arg-type]
