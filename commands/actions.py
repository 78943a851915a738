"""Button clicks: one registry of action ids -> handlers, like the command registry.

A button's `value` is the handler's input (for `bus_run`/`bus_share` it is command text).
Adapters call `commands.router.run_action(action_id, value, bus, user_id)`.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from bot.bus import Bus
from commands.reply import Reply


@dataclass
class ActionCall:
    bus: Bus
    action_id: str
    value: str
    user_id: str


ActionHandler = Callable[[ActionCall], Reply]
ACTIONS: dict[str, ActionHandler] = {}


def action(action_id: str):
    def wrap(fn: ActionHandler) -> ActionHandler:
        if action_id in ACTIONS:
            raise ValueError(f"action `{action_id}` registered twice")
        ACTIONS[action_id] = fn
        return fn
    return wrap
