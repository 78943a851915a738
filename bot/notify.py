"""Messages busbot posts by itself (job progress, follow-ups), without Slack in here.

A `Notifier` posts a `Message` (a template and its context) and updates it later. The Slack
adapter wraps its `SlackPoster` in `PosterNotifier`; the console prints.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Protocol

from bot.render import fallback_text, render

log = logging.getLogger(__name__)


@dataclass
class Message:
    template: str
    context: dict[str, Any] = field(default_factory=dict)
    text: str = ""


class Notifier(Protocol):
    def post(self, message: Message, thread_ts: str | None = None) -> str | None:
        """Post a new message (in a thread when `thread_ts`); returns its ts, if any."""

    def update(self, ts: str, message: Message) -> None:
        """Replace the message posted as `ts`."""


class NullNotifier:
    def post(self, message: Message, thread_ts: str | None = None) -> str | None:
        return None

    def update(self, ts: str, message: Message) -> None:
        pass


class PrintNotifier:
    """The console's notifier: one line per post or update."""

    def __init__(self, write=print):
        self.write, self.n = write, 0

    def post(self, message: Message, thread_ts: str | None = None) -> str | None:
        self.n += 1
        self.write(f"[busbot{' thread' if thread_ts else ''}] {message.text}")
        return str(self.n)

    def update(self, ts: str, message: Message) -> None:
        self.write(f"[busbot update] {message.text}")


class PosterNotifier:
    """Adapts a poster with `post(channel, message_dict, thread_ts)` and
    `update(channel, ts, message_dict)` (bot/slack/poster.py) to a fixed channel.

    Any failure to post (the API's errors, a network error, a timeout) is logged and the job
    goes on: a lost progress update must never stop or fail a move. `errors` names the
    poster's expected API errors, logged without a trace."""

    def __init__(self, poster, channel: str, errors: tuple[type[Exception], ...] = ()):
        self.poster, self.channel, self.errors = poster, channel, errors

    def _render(self, message: Message) -> dict:
        body = render(message.template, message.context)
        body["text"] = fallback_text(message.text or body.get("text", "busbot"))
        return body

    def post(self, message: Message, thread_ts: str | None = None) -> str | None:
        try:
            return self.poster.post(self.channel, self._render(message), thread_ts=thread_ts)
        except self.errors as exc:
            log.warning("posting %r to %s failed: %s", message.text, self.channel, exc)
        except Exception:  # a network error or a bug in rendering: the job must go on
            log.exception("posting %r to %s failed", message.text, self.channel)
        return None

    def update(self, ts: str, message: Message) -> None:
        try:
            self.poster.update(self.channel, ts, self._render(message))
        except self.errors as exc:
            log.warning("updating %s in %s failed: %s", ts, self.channel, exc)
        except Exception:  # a network error or a bug in rendering: the job must go on
            log.exception("updating %s in %s failed", ts, self.channel)

