"""Handlers registered by event-type pattern, with priority, and the middleware that sees
every event.

A pattern is an exact type (`approval.item.created`), a glob (`approval.*`) or `*`. Every
handler whose pattern matches runs, highest priority first (ties: registration order); the
event succeeds when all of them return. They must be idempotent: delivery is at least once.
A handler may declare its own time limit and number of attempts; unset, the worker's
(BUS_HANDLER_TIMEOUT, BUS_MAX_ATTEMPTS) apply.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Any, NamedTuple


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
    timeout: float | None = None  # seconds; None: the worker's handler timeout
    max_attempts: int | None = None  # None: the worker's retry policy


class DuplicateHandler(ValueError):
    """The same function registered twice for the same pattern."""


@dataclass
class Handlers:
    _regs: list[Registration] = field(default_factory=list)
    _middleware: list[object] = field(default_factory=list)
    version: int = 0  # changes on every registration: a worker's cached plans are stale

    def register(self, pattern: str, func: Handler, priority: int = 0, *,
                 timeout: float | None = None, max_attempts: int | None = None) -> Handler:
        name = getattr(func, "__name__", func)
        if any(r.pattern == pattern and r.func is func for r in self._regs):
            raise DuplicateHandler(f"{name!s} is already registered for {pattern!r}")
        if timeout is not None and not timeout > 0:
            raise ValueError(f"{name!s}: timeout must be seconds > 0, not {timeout!r}")
        if max_attempts is not None and not (isinstance(max_attempts, int) and max_attempts >= 1):
            raise ValueError(f"{name!s}: max_attempts must be a whole number >= 1, "
                             f"not {max_attempts!r}")
        self._regs.append(Registration(pattern, func, priority, len(self._regs),
                                       timeout, max_attempts))
        self.version += 1
        return func

    def on(self, pattern: str, priority: int = 0, *, timeout: float | None = None,
           max_attempts: int | None = None) -> Callable[[Handler], Handler]:
        """Decorator form of `register`."""
        return lambda func: self.register(pattern, func, priority, timeout=timeout,
                                          max_attempts=max_attempts)

    def middleware(self, obj: Any) -> Any:
        """Add a middleware: any object with some of `before_process(msg)`,
        `after_process(msg, result)` and `on_dead_letter(msg, error)`. They run in the
        order added; one that raises is logged and changes nothing for the event."""
        require_hooks(obj)
        self._middleware.append(obj)
        self.version += 1
        return obj

    @property
    def middlewares(self) -> tuple[object, ...]:
        return tuple(self._middleware)

    @property
    def registrations(self) -> tuple[Registration, ...]:
        return tuple(self._regs)

    def matching(self, event_type: str) -> tuple[Registration, ...]:
        """Registrations for a type, in the order they run."""
        return tuple(sorted((r for r in self._regs if fnmatchcase(event_type, r.pattern)),
                            key=lambda r: (-r.priority, r.order)))

    def for_type(self, event_type: str) -> tuple[Handler, ...]:
        """Handlers for a type, in the order they run."""
        return tuple(r.func for r in self.matching(event_type))

    def __len__(self) -> int:
        return len(self._regs)


HOOKS = ("before_process", "after_process", "on_dead_letter")


def require_hooks(obj: object) -> None:
    """TypeError unless `obj` has at least one of the middleware hooks."""
    if not any(callable(getattr(obj, hook, None)) for hook in HOOKS):
        raise TypeError(f"{obj!r} has none of the middleware hooks {', '.join(HOOKS)}")
