"""Button clicks: one registry of action ids -> handlers, like the command registry.

A button's `value` is the handler's input (for `bus_run`/`bus_share` it is command text).
Adapters call `commands.router.run_action(action_id, value, rt, user_id)`.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from bot.bus import Bus
from bot.runtime import Runtime
from commands.reply import Reply


@dataclass
class ActionCall:
    rt: Runtime
    action_id: str
    value: str
    user_id: str
    channel: str | None = None  # the Slack channel it was clicked in; None: not a Slack click

    @property
    def bus(self) -> Bus:
        return self.rt.bus


ActionHandler = Callable[[ActionCall], Reply]
ACTIONS: dict[str, ActionHandler] = {}
OPERATOR_ACTIONS: dict[str, str] = {}  # action id -> what a refusal says the click would do
ACTION_ROLES: dict[str, str] = {}  # action id -> the role it needs (bot.actions.policy), when not "operator"


def action(action_id: str, operator_only: str | None = None, role: str | None = None):
    """Register a button handler; `operator_only` ("approve guarded actions") makes the
    router refuse anyone without the operator role (or `role`, e.g. "approver") before the
    handler runs."""
    def wrap(fn: ActionHandler) -> ActionHandler:
        if action_id in ACTIONS:
            raise ValueError(f"action {action_id!r} registered twice")
        ACTIONS[action_id] = fn
        if operator_only:
            OPERATOR_ACTIONS[action_id] = operator_only
        if role:
            ACTION_ROLES[action_id] = role
        return fn
    return wrap
