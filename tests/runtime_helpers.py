"""A runtime for tests: no background job runner (tests tick runners by hand) and a
notifier that records what would have been posted."""
from __future__ import annotations

from bot.bus import Bus
from bot.notify import Message
from bot.runtime import Runtime, build_runtime


class RecordingNotifier:
    """Keeps every post and update."""

    def __init__(self) -> None:
        self.posts: list[tuple[Message, str | None]] = []
        self.updates: list[tuple[str, Message]] = []

    def post(self, message: Message, thread_ts: str | None = None) -> str | None:
        self.posts.append((message, thread_ts))
        return f"ts{len(self.posts)}"

    def update(self, ts: str, message: Message) -> None:
        self.updates.append((ts, message))


def manual_runtime(bus: Bus, notifier: RecordingNotifier | None = None) -> Runtime:
    return build_runtime(bus, notifier or RecordingNotifier(), start_jobs=False)
