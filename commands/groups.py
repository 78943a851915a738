"""`/bus groups`: consumers per group, pending, idle time, oldest pending entry."""
from __future__ import annotations

from bot.plural import plural
from bot.services.groups import get_groups
from commands.invocation import Invocation
from commands.registry import REGISTRY
from commands.reply import Reply


@REGISTRY.command("groups", "Consumer groups: each consumer's pending entries and idle time, oldest pending.")
def groups_command(inv: Invocation) -> Reply:
    view = get_groups(inv.bus)
    return Reply("groups", {"v": view, "now": view.checked_ms},
                 f"{plural(len(view.groups), 'consumer group')} on {view.stream}")
