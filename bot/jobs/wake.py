"""Waking this process's job runners as soon as a job is created here, instead of at their
next poll: the click that starts a job is answered by a runner at once."""
from __future__ import annotations

import threading

_lock = threading.Lock()
_waiting: set[threading.Event] = set()


def register(event: threading.Event) -> None:
    with _lock:
        _waiting.add(event)


def unregister(event: threading.Event) -> None:
    with _lock:
        _waiting.discard(event)


def notify() -> None:
    """Set every registered runner's event (a runner of another environment only finds
    nothing new)."""
    with _lock:
        events = list(_waiting)
    for event in events:
        event.set()
