"""Connecting to Slack at start-up without holding the rest of `busbot serve` back.

The HTTP server (health, metrics, probes) is up before Slack answers. `SlackStarter` calls
`auth.test` (and builds the Bolt app, and opens Socket Mode) in a thread, retrying with
backoff while Slack is unreachable, one log line per try. Slack refusing the token is final:
`fatal` says so in one sentence and `on_fatal` stops the server.
"""
from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator

from slack_bolt.error import BoltError
from slack_sdk.errors import SlackApiError

log = logging.getLogger(__name__)

MAX_DELAY_S = 30.0


def backoff(first: float = 1.0, cap: float = MAX_DELAY_S) -> Iterator[float]:
    """1, 2, 4, 8, 16, 30, 30, ... seconds."""
    delay = first
    while True:
        yield min(delay, cap)
        delay *= 2


def _refused(exc: Exception) -> str | None:
    """Why Slack refused us for good, or None when trying again may work (network trouble,
    a Slack outage, rate limiting)."""
    api = exc if isinstance(exc, SlackApiError) else exc.__context__
    if isinstance(api, SlackApiError):
        status = getattr(api.response, "status_code", 200)
        if status >= 500 or status == 429:
            return None
        code = api.response.get("error", "an error") if hasattr(api.response, "get") else "an error"
        return f"Slack refused the bot token ({code}); check SLACK_BOT_TOKEN."
    if isinstance(exc, BoltError):
        return f"Slack refused the start-up check ({exc}); check SLACK_BOT_TOKEN."
    return None


class SlackStarter(threading.Thread):
    """`connect()` is tried until it returns; its result goes to `on_ready`."""

    def __init__(self, connect: Callable[[], object], on_ready: Callable[[object], None],
                 on_fatal: Callable[[], None], delays: Iterator[float] | None = None):
        super().__init__(name="busbot-slack-start", daemon=True)
        self.connect, self.on_ready, self.on_fatal = connect, on_ready, on_fatal
        self.delays = delays or backoff()
        self.ready = threading.Event()
        self.stopping = threading.Event()
        self.fatal: str | None = None

    def run(self) -> None:
        attempt = 1
        while not self.stopping.is_set():
            try:
                result = self.connect()
            except Exception as exc:  # noqa: BLE001 - every failure is either final or retried
                self.fatal = _refused(exc)
                if self.fatal:  # the caller reports it, once
                    self.on_fatal()
                    return
                delay = next(self.delays)
                log.warning("Slack did not answer auth.test (try %d: %s: %s); trying again in %g s",
                            attempt, type(exc).__name__, _one_line(exc), delay)
                attempt += 1
                self.stopping.wait(delay)
                continue
            if attempt > 1:
                log.info("Slack answered auth.test on try %d", attempt)
            self.on_ready(result)
            self.ready.set()
            return

    def stop(self) -> None:
        self.stopping.set()


def _one_line(exc: Exception) -> str:
    return " ".join(str(exc).split())[:300]
