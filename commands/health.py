"""`/bus health`: the bus at a glance."""
from __future__ import annotations

from bot.services import trends
from bot.services.health import get_health
from commands.invocation import Invocation
from commands.registry import REGISTRY
from commands.reply import Reply

# the thresholds the answer quotes (the view model carries these, never the whole Settings)
THRESHOLDS = ("bus_dlq_warn", "bus_dlq_crit", "bus_lag_warn", "bus_lag_crit", "bus_failed_per_hour_warn",
              "bus_failed_per_hour_crit", "bus_p99_warn_seconds", "bus_p99_crit_seconds",
              "bus_idle_warn_seconds", "bus_idle_crit_seconds")


@REGISTRY.command("health", "Stream and DLQ size, consumer groups, lag, overall status.")
def health_command(inv: Invocation) -> Reply:
    h = get_health(inv.bus)
    thresholds = {name: getattr(inv.bus.settings, name) for name in THRESHOLDS}
    lines = trends.last_hour(inv.bus, h.checked_ms)
    return Reply("health", {"h": h.model_dump(), "now": h.checked_ms, "s": thresholds,
                            "trends": [t["text"] for t in lines]},
                 f"Event bus is {h.status}: {h.stream_length:,} events, DLQ {h.dlq_length:,}")
