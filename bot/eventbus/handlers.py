"""Handlers registered by event-type pattern, with priority.

A pattern is an exact type (`approval.item.created`), a glob (`approval.*`) or `*`. Every
handler whose pattern matches runs, highest priority first (ties: registration order); the
event succeeds when all of them return. They must be idempotent: delivery is at least once.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from functools import partial
from typing import Any, Callable, NamedTuple


class Message(NamedTuple):
    """What a handler receives: the parsed event and where it came from."""
    event: dict[str, Any]
    type: str
    entry_id: str
    attempt: int  # 1 on first delivery


Handler = Callable[[Message], Any]


@dataclass(frozen=True)
class Registration:
    pattern: str
    func: Handler
    priority: int
    order: int


class DuplicateHandler(ValueError):
    """The same function registered twice for the same pattern."""


@dataclass
class Handlers:
    _regs: list[Registration] = field(default_factory=list)
    _dispatch: dict[str, Handler | None] = field(default_factory=dict)

    def register(self, pattern: str, func: Handler, priority: int = 0) -> Handler:
        if any(r.pattern == pattern and r.func is func for r in self._regs):
            raise DuplicateHandler(f"{getattr(func, '__name__', func)!s} is already "
                                   f"registered for {pattern!r}")
        self._regs.append(Registration(pattern, func, priority, len(self._regs)))
        self._dispatch.clear()
        return func

    def on(self, pattern: str, priority: int = 0) -> Callable[[Handler], Handler]:
        """Decorator form of `register`."""
        return lambda func: self.register(pattern, func, priority)

    def for_type(self, event_type: str) -> tuple[Handler, ...]:
        """Handlers for a type, in the order they run."""
        regs = sorted((r for r in self._regs if fnmatchcase(event_type, r.pattern)),
                      key=lambda r: (-r.priority, r.order))
        return tuple(r.func for r in regs)

    def dispatcher(self, event_type: str) -> Handler | None:
        """One callable running every handler for the type in order; None if none.
        Cached per type: the worker asks for every event."""
        found = self._dispatch.get(event_type, False)
        if found is False:
            funcs = self.for_type(event_type)
            found = self._dispatch[event_type] = (
                None if not funcs else funcs[0] if len(funcs) == 1 else partial(_run_all, funcs))
        return found

    def __len__(self) -> int:
        return len(self._regs)


def _run_all(funcs: tuple[Handler, ...], msg: Message) -> None:
    for f in funcs:
        f(msg)
