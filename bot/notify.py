"""Messages busbot posts by itself (job progress, follow-ups, alerts), without Slack in here.

A `Notifier` posts a `Message` (a template, its context and a one-line text) and updates it
later by the reference `post` returned. There are three: `bot.alerts.outbox.OutboxNotifier`
(queued in Redis and delivered to Slack by the outbox, which honours 429 Retry-After),
`PrintNotifier` (the console) and `NullNotifier` (nowhere to post).

Below the outbox, a `Transport` is the chat service itself (bot/slack/transport.py): it
posts rendered messages to a channel and turns the service's answers into `RateLimited` or
`DeliveryFailed`.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

log = logging.getLogger(__name__)


@dataclass
class Message:
    template: str
    context: dict[str, Any] = field(default_factory=dict)
    text: str = ""


class Notifier(Protocol):
    def post(self, message: Message, thread_ts: str | None = None) -> str | None:
        """Post a new message (a reply in the thread of `thread_ts` when given); returns the
        reference later updates and thread replies use, if any."""

    def update(self, ts: str, message: Message) -> None:
        """Replace the message `post` returned `ts` for."""


class NullNotifier:
    def post(self, message: Message, thread_ts: str | None = None) -> str | None:
        return None

    def update(self, ts: str, message: Message) -> None:
        pass


class PrintNotifier:
    """The console's notifier: one line per post or update."""

    def __init__(self, write: Callable[[str], object] = print):
        self.write, self.n = write, 0

    def post(self, message: Message, thread_ts: str | None = None) -> str | None:
        self.n += 1
        self.write(f"[busbot{' thread' if thread_ts else ''}] {message.text}")
        return str(self.n)

    def update(self, ts: str, message: Message) -> None:
        self.write(f"[busbot update] {message.text}")


class RateLimited(Exception):
    """The chat service said "too many requests": wait `retry_after` seconds, then retry."""

    def __init__(self, retry_after: float):
        super().__init__(f"rate limited; retry after {retry_after:g}s")
        self.retry_after = retry_after


class DeliveryFailed(Exception):
    """A delivery did not go through. Transient failures (timeouts, 5xx) are retried;
    permanent ones (unknown channel, bad token, message gone) are dropped with a log."""

    def __init__(self, reason: str, permanent: bool = False):
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent


class Transport(Protocol):
    """The chat service: rendered messages ({"blocks", "text"}) in and out of channels."""

    def post(self, channel: str, message: dict, thread_ts: str | None = None) -> str:
        """Post `message`; returns the new message's ts."""

    def update(self, channel: str, ts: str, message: dict) -> None:
        """Replace the message at `ts` in place."""
