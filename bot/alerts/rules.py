"""The runbook's thresholds table as rules, thresholds from settings, plus the conditions
busbot adds (a missing main stream, no consumer group, a paused or stale group).

A rule id is stable: `dlq_size`, `failed_per_hour`, `p99`, `stream`, `groups`, and per
consumer group `lag:<group>`, `idle:<group>`, `paused:<group>`. `redis` (Redis unreachable)
is a rule with no metric: it is critical or healthy. A condition rule's value is 1 when the
condition holds and 0 when it does not; its `states` say so in words.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from bot.plural import plural
from bot.services.thresholds import Level, level_of
from bot.settings import Settings
from bot.timeparse import human_age

HYSTERESIS = 0.9  # a level clears when the value stays <= threshold x 0.9 for BUS_ALERT_FOR
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
    states: tuple[str, str] | None = None  # a condition rule: its value 0 and 1 in words

    def level(self, value: float | None) -> Level:
        return level_of(value, self.warn, self.crit)

    def threshold(self, level: Level) -> float:
        return self.crit if level == "critical" else self.warn

    def fmt(self, value: float | None) -> str:
        if value is None:
            return "unknown"
        if self.states:
            return self.states[1] if value else self.states[0]
        if self.unit == "age":
            return human_age(int(value * 1000))
        if self.unit == "s":
            return f"{value:,.2f} s"
        if self.unit == "entries":
            return plural(round(value), "entry")
        return f"{value:,.0f} {self.unit}"

    def bounds(self) -> str:
        """When the rule fires, in words: `warning > 100 entries · critical > 500 entries`,
        or for a condition rule the one level it reaches (`critical when missing`)."""
        if self.states:
            return f"{self.level(1)} when {self.states[1]}"
        return f"warning > {self.fmt(self.warn)} · critical > {self.fmt(self.crit)}"

    def brief(self, value: float) -> str:
        """A value without its unit, for a trend line (`220 -> 620`)."""
        if self.states:
            return self.states[1] if value else self.states[0]
        if self.unit == "age":
            return human_age(int(value * 1000))
        if self.unit == "s":
            return f"{value:,.1f} s"
        return f"{value:,.0f}"

    @property
    def anchor(self) -> str:
        """The runbook section's anchor: its last heading, as Markdown renderers slug it
        ("Scenario: High DLQ Growth" -> "scenario-high-dlq-growth")."""
        heading = self.runbook.split("›")[-1].split("(")[0]
        return re.sub(r"[^a-z0-9]+", "-", heading.lower()).strip("-")

    @property
    def dashboard_page(self) -> str:
        """The dashboard page (below its overview) that shows what this rule measures."""
        if self.id == "dlq_size":
            return "/dlq"
        if self.id == "failed_per_hour":
            return "/dlq?since=1h"
        return ""


def rule_links(rule: Rule, s: Settings) -> dict[str, str | None]:
    """The runbook section (`BUS_RUNBOOK_URL` + its anchor, unless the URL has one) and the
    dashboard page (`BUS_DASHBOARD_URL`) of a rule; None where the setting is unset."""
    runbook = s.bus_runbook_url
    if runbook and "#" not in runbook and rule.anchor:
        runbook = f"{runbook}#{rule.anchor}"
    dashboard = s.bus_dashboard_url.rstrip("/") + rule.dashboard_page if s.bus_dashboard_url else None
    return {"runbook_url": runbook, "dashboard_url": dashboard}


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
        # Critical, not a warning: with no main stream every other figure is measured on
        # nothing, so a green check would hide a deleted stream or a misspelt
        # BUS_EVENTS_STREAM. The platform's first publish creates it.
        Rule("stream", "Main stream", 0, 0, "", "Check BUS_EVENTS_STREAM against the stream the "
             "platform publishes to (`/bus redis` lists the keys); it is created by the first publish.",
             "Troubleshooting Guide › Event Not Being Processed", ("exists", "missing")),
        Rule("groups", "Consumer groups", 0, 1, "", "Start the platform's consumers: they create "
             "their group on start-up. Until then nothing reads the stream.",
             "Troubleshooting Guide › Event Not Being Processed", ("present", "none")),
    ]}


def lag_rule(s: Settings, group: str) -> Rule:
    return Rule(f"lag:{group}", f"Consumer lag ({group})", s.bus_lag_warn, s.bus_lag_crit, "entries",
                "Scale consumers: `/bus groups` shows who is behind; check for slow handlers.",
                "Incident Response › Scenario: Consumer Lag Building")


def idle_rule(s: Settings, group: str) -> Rule:
    """A stale group: its oldest pending entry, or the oldest entry it has not been
    delivered yet, is older than the thresholds (whichever is older)."""
    return Rule(f"idle:{group}", f"Stale group ({group})", s.bus_idle_warn_seconds,
                s.bus_idle_crit_seconds, "age",
                "Check the group's consumers: `/bus groups` shows their idle time and the oldest "
                "pending entry; restart stuck consumers, or claim their entries.",
                "Incident Response › Scenario: Consumer Lag Building")


def paused_rule(group: str) -> Rule:
    return Rule(f"paused:{group}", f"Paused group ({group})", 0, 1, "",
                "Resume the group once the incident is over: `/bus resume <group>`.",
                "Incident Response › Scenario: High DLQ Growth (step 3, pause)", ("running", "paused"))


GROUP_RULES = ("lag:", "idle:", "paused:")  # per consumer group; they go when the group goes


def redis_rule() -> Rule:
    return Rule(REDIS_RULE, "Redis", 0, 0, "",
                "Check Redis connectivity (`redis-cli -u $REDIS_URL ping`), memory and the connection pool.",
                "Incident Response › Scenario: Redis Connection Issues")


def rule_for(s: Settings, rule_id: str) -> Rule:
    if rule_id.startswith("lag:"):
        return lag_rule(s, rule_id[4:])
    if rule_id.startswith("idle:"):
        return idle_rule(s, rule_id[5:])
    if rule_id.startswith("paused:"):
        return paused_rule(rule_id[7:])
    if rule_id == REDIS_RULE:
        return redis_rule()
    return base_rules(s)[rule_id]
