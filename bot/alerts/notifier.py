"""How alerts reach people, without importing Slack: the engine and the outbox call a
`Notifier`; bot/slack/alert_notifier.py implements it over the Web API."""
from __future__ import annotations

from typing import Protocol


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


class Notifier(Protocol):
    def post(self, channel: str, message: dict, thread_ts: str | None = None) -> str:
        """Post `message` ({"blocks", "text"}); returns the new message's ts."""

    def update(self, channel: str, ts: str, message: dict) -> None:
        """Replace the message at `ts` in place."""
