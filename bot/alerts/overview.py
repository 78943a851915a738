"""The alerts at a glance, for `/bus alerts` and `busbot check`: every rule's state and
thresholds, and when the last scheduled check ran."""
from __future__ import annotations

from dataclasses import dataclass

from bot.alerts import state
from bot.alerts.checks import Metric
from bot.alerts.machine import AlertState
from bot.alerts.rules import Rule, base_rules, rule_for
from bot.bus import Bus
from bot.services.status import judge


@dataclass
class RuleStatus:
    rule: Rule
    state: AlertState


def rule_statuses(bus: Bus) -> list[RuleStatus]:
    """Base rules first, then one per consumer group that ever had state."""
    stored = state.load_all(bus)
    ids = list(base_rules(bus.settings)) + sorted(r for r in stored if r not in base_rules(bus.settings))
    return [RuleStatus(rule_for(bus.settings, i), stored.get(i, AlertState())) for i in ids]


def last_check_ms(bus: Bus) -> int | None:
    raw = bus.r.get(bus.keys.alert_last_check)
    return int(raw) if raw else None


def instant_levels(bus: Bus, metrics: list[Metric]) -> list[tuple[Rule, Metric, str]]:
    """Each metric judged against its thresholds right now (no hold time, no hysteresis),
    by the one status model."""
    return [(rule_for(bus.settings, m.rule), m, c.level)
            for m, c in zip(metrics, judge(bus.settings, metrics))]
