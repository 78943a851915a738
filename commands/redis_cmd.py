"""`/bus redis`: Redis reachability, memory, clients, persistence."""
from __future__ import annotations

from bot.plural import plural
from bot.services.redis_info import get_redis_info
from commands.invocation import Invocation
from commands.registry import REGISTRY
from commands.reply import Reply


@REGISTRY.command("redis", "Redis itself: mode, round trip, memory vs maxmemory, clients, persistence.")
def redis_command(inv: Invocation) -> Reply:
    info = get_redis_info(inv.bus)
    return Reply("redis", {"i": info, "where": inv.bus.where, "mode": inv.bus.mode},
                 f"Redis ({inv.bus.mode}) answers in {info.rtt_ms} ms; {plural(len(info.warnings), 'warning')}")
