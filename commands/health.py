"""`/bus health`: the bus at a glance."""
from __future__ import annotations

from bot.services.health import get_health
from commands.invocation import Invocation
from commands.registry import REGISTRY
from commands.reply import Reply


@REGISTRY.command("health", "Stream and DLQ size, consumer groups, lag, overall status.")
def health_command(inv: Invocation) -> Reply:
    h = get_health(inv.bus)
    return Reply("health", {"h": h.model_dump(), "now": h.checked_ms, "s": inv.bus.settings},
                 f"Event bus is {h.status}: {h.stream_length:,} events, DLQ {h.dlq_length:,}")
