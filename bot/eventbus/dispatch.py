"""What an event type runs: its handlers in order, each with its time limit and attempts
resolved against the worker's defaults. Built once per type and cached until the
registry changes."""
from __future__ import annotations

from typing import NamedTuple

from bot.eventbus.handlers import Handler, Handlers


class Step(NamedTuple):
    func: Handler
    timeout: float  # seconds
    max_attempts: int


class Plan(NamedTuple):
    steps: tuple[Step, ...]
    max_attempts: int  # the most any step allows: a delivery past it is a poison event


UNKNOWN = object()  # not in the cache yet


class Plans:
    def __init__(self, handlers: Handlers, timeout: float, max_attempts: int) -> None:
        self.handlers, self.timeout, self.max_attempts = handlers, timeout, max_attempts
        self.cache: dict[str, Plan | None] = {}  # by type; None: nothing to run
        self._version = handlers.version

    def fresh(self) -> bool:
        """Drop cached plans if handlers were registered since; True if they were."""
        if self._version == self.handlers.version:
            return False
        self.cache.clear()
        self._version = self.handlers.version
        return True

    def get(self, event_type: str) -> Plan | None:
        """The plan for a type; None when no handler wants it."""
        plan = self.cache.get(event_type, UNKNOWN)
        if plan is not UNKNOWN:
            return plan  # type: ignore[return-value]
        steps = tuple(Step(r.func, r.timeout or self.timeout, r.max_attempts or self.max_attempts)
                      for r in self.handlers.matching(event_type))
        plan = self.cache[event_type] = (
            Plan(steps, max(s.max_attempts for s in steps)) if steps else None)
        return plan

    def shortest_timeout(self) -> float:
        return min([self.timeout] + [r.timeout for r in self.handlers.registrations
                                     if r.timeout is not None])

    def longest_timeout(self) -> float:
        return max([self.timeout] + [r.timeout for r in self.handlers.registrations
                                     if r.timeout is not None])
