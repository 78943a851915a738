"""Command text behind a button (paging, "show", "Post to channel").

Slack keeps at most 2,000 characters of a button's value; clipping longer command text would
make the button run a different command. Such text is kept in Redis for a week behind a
short token, and the button carries `ref:<token>` instead.
"""
from __future__ import annotations

import secrets

from bot.bus import Bus

MAX_VALUE = 2000  # Slack's limit on a button's value
PREFIX = "ref:"
KEEP_S = 7 * 86_400
RERUN_ACTIONS = frozenset({"bus_run", "bus_share", "bus_act"})  # buttons whose value is command text


def keep(bus: Bus, command: str, room: int = 0) -> str:
    """The value a button running `command` carries: the text, or a reference to it.
    `room`: characters the value must leave free (an environment's `@name ` goes before it)."""
    if len(command) <= MAX_VALUE - room and not command.startswith(PREFIX):
        return command
    token = secrets.token_urlsafe(12)
    bus.r.set(bus.keys.button_value(token), command, ex=KEEP_S)
    return PREFIX + token


def command_of(bus: Bus, value: str) -> str | None:
    """The command text a button's value stands for; None when its reference expired."""
    if not value.startswith(PREFIX):
        return value
    kept = bus.r.get(bus.keys.button_value(value[len(PREFIX):]))
    return kept.decode() if isinstance(kept, bytes) else kept


def keep_long_values(bus: Bus, context) -> None:
    """Swap long command text in every rerun button of a reply's context for a reference."""
    if isinstance(context, list):
        for item in context:
            keep_long_values(bus, item)
    elif isinstance(context, dict):
        value = context.get("value")
        if context.get("action_id") in RERUN_ACTIONS and isinstance(value, str):
            context["value"] = keep(bus, value)
        for item in context.values():
            if isinstance(item, (list, dict)):
                keep_long_values(bus, item)
