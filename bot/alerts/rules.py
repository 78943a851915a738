"""The runbook's thresholds table (design §5) as rules, thresholds from settings.

A rule id is stable: `dlq_size`, `failed_per_hour`, `p99`, and `lag:<group>` per consumer
group. `redis` (Redis unreachable) is a rule with no metric: it is critical or healthy.
"""
from __future__ import annotations

from dataclasses import dataclass

from bot.services.thresholds import Level, level_of
from bot.settings import Settings

HYSTERESIS = 0.9  # a level clears when the value stays <= threshold x 0.9 for BUS_ALERT_FOR
RUNBOOK = "seed-runbook.md"
REDIS_RULE = "redis"


@dataclass(frozen=True)
class Rule:
    id: str
    title: str  # "DLQ size", "Consumer lag (hyvve-platform)"
    warn: float
    crit: float
    unit: str  # "entries", "events/hr", "s"
    action: str  # the runbook's suggested action
    runbook: str  # the runbook section to open

    def level(self, value: float | None) -> Level:
        return level_of(value, self.warn, self.crit)

    def threshold(self, level: Level) -> float:
        return self.crit if level == "critical" else self.warn

    def fmt(self, value: float | None) -> str:
        if value is None:
            return "unknown"
        if self.unit == "s":
            return f"{value:,.2f} s"
        return f"{value:,.0f} {self.unit}"


def base_rules(s: Settings) -> dict[str, Rule]:
    return {r.id: r for r in [
        Rule("dlq_size", "DLQ size", s.bus_dlq_warn, s.bus_dlq_crit, "entries",
             "Review and reprocess: `/bus dlq top`, then `/bus reprocess type=<type>` once fixed.",
             "Incident Response › Scenario: High DLQ Growth"),
        Rule("failed_per_hour", "Failed events/hr", s.bus_failed_per_hour_warn,
             s.bus_failed_per_hour_crit, "events/hr",
             "Investigate handlers: `/bus dlq list since=1h` shows the errors.",
             "Incident Response › Scenario: High DLQ Growth"),
        Rule("p99", "Processing time p99", s.bus_p99_warn_seconds, s.bus_p99_crit_seconds, "s",
             "Optimize handlers: look for slow handlers and N+1 queries.",
             "Troubleshooting Guide › Event Processing Slow"),
    ]}


def lag_rule(s: Settings, group: str) -> Rule:
    return Rule(f"lag:{group}", f"Consumer lag ({group})", s.bus_lag_warn, s.bus_lag_crit, "entries",
                "Scale consumers: `/bus groups` shows who is behind; check for slow handlers.",
                "Incident Response › Scenario: Consumer Lag Building")


def redis_rule() -> Rule:
    return Rule(REDIS_RULE, "Redis", 0, 0, "",
                "Check Redis connectivity (`redis-cli -u $REDIS_URL ping`), memory and the connection pool.",
                "Incident Response › Scenario: Redis Connection Issues")


def rule_for(s: Settings, rule_id: str) -> Rule:
    if rule_id.startswith("lag:"):
        return lag_rule(s, rule_id[4:])
    if rule_id == REDIS_RULE:
        return redis_rule()
    return base_rules(s)[rule_id]
