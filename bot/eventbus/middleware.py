"""Middleware: code that sees every event without being a handler (tracing, metrics).

A middleware is any object with some of these methods, added with
`handlers.middleware(obj)` or `worker.middleware(obj)`:

    before_process(msg)            before the event's handlers run
    after_process(msg, result)     after they ran (or failed); `result` is a `Result`
    on_dead_letter(msg, error)     after the event was written to the DLQ with `error`

`msg` is the handlers' `Message`. For an entry that could not be read (no `event` field,
bad JSON) only `on_dead_letter` is called, with what could be read of it. A hook that
raises is logged and ignored: the event is settled exactly as it would have been.
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any, NamedTuple

log = logging.getLogger(__name__)


class Result(NamedTuple):
    """What became of one delivery of an event.

    status: `completed` (every handler returned; acknowledged with its batch), `unhandled`
    (no handler for the type; acknowledged and counted), `retrying` (this attempt failed;
    tried again in `retry_in` seconds), `dead_lettered` (moved to the DLQ), or
    `settled_elsewhere` (another consumer took the entry meanwhile)."""
    status: str
    duration_ms: int
    attempt: int
    error: str | None = None
    retry_in: float | None = None


def _bound(middlewares: Iterable[object], hook: str) -> tuple[Callable[..., Any], ...]:
    return tuple(f for f in (getattr(m, hook, None) for m in middlewares) if callable(f))


class Hooks:
    """The hooks of a list of middlewares, each called so that a failure stays its own."""

    def __init__(self, middlewares: Iterable[object] = ()) -> None:
        mws = tuple(middlewares)
        self.before = _bound(mws, "before_process")
        self.after = _bound(mws, "after_process")
        self.dead = _bound(mws, "on_dead_letter")
        self.any = bool(self.before or self.after or self.dead)

    def before_process(self, msg: Any) -> None:
        for f in self.before:
            _call(f, msg)

    def after_process(self, msg: Any, result: Result) -> None:
        for f in self.after:
            _call(f, msg, result)

    def on_dead_letter(self, msg: Any, error: str) -> None:
        for f in self.dead:
            _call(f, msg, error)


def _call(f: Callable[..., Any], *args: Any) -> None:
    try:
        f(*args)
    except Exception:  # a middleware's bug must not decide an event's fate
        log.exception("middleware %s failed; the event is settled as if it had not run",
                      getattr(f, "__qualname__", f))
