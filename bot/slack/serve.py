"""Running the bot: Bolt over HTTP (or Socket Mode), health and metrics on $PORT, and the
background jobs, until SIGTERM or Ctrl-C."""
from __future__ import annotations

import logging
import signal
import sys

import waitress
from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_bolt.error import BoltError
from slack_sdk import WebClient

from bot.alerts.outbox import OutboxNotifier
from bot.alerts.schedule import start_alerts
from bot.bus import Bus
from bot.notify import Notifier, NullNotifier
from bot.runtime import Runtime, build_runtime
from bot.settings import Settings
from bot.slack.app import build_app, web_client
from bot.slack.offload import pool_for
from bot.slack.poster import SlackPoster
from bot.slack.transport import SlackTransport
from bot.slack.web import WebApp

log = logging.getLogger(__name__)

THREADS = 16  # HTTP threads; each is busy only until its request is acked
# Command work runs in threads of this process; a thread acking a request waits for the GIL
# at most this long per hand-over (CPython's default is 5 ms), so CPU-bound work cannot
# hold acks back by tens of milliseconds at every step.
GIL_SWITCH_INTERVAL_S = 0.0005


class StartupError(Exception):
    """`serve` cannot start; the message is one line for the operator."""


class Background:
    """What `busbot serve` runs beside the HTTP server, stopped together on shutdown."""

    def __init__(self, scheduler, rt: Runtime):
        self.scheduler, self.rt = scheduler, rt

    def shutdown(self, wait: bool = False) -> None:
        self.scheduler.shutdown(wait=wait)
        self.rt.stop()


def progress_notifier(bus: Bus) -> Notifier:
    """Job progress and follow-ups go through the outbox to BUS_ACTIONS_CHANNEL (default:
    BUS_ALERT_CHANNEL), or nowhere."""
    channel = bus.settings.bus_actions_channel or bus.settings.bus_alert_channel
    return OutboxNotifier(bus, channel) if channel else NullNotifier()


def start_background(settings: Settings, rt: Runtime, client: WebClient) -> Background:
    """Scheduled work inside `busbot serve` beside the runtime's job runner: the alert
    checks, and the outbox's deliveries to Slack (APScheduler)."""
    return Background(start_alerts(rt.bus, SlackTransport(SlackPoster(client))), rt)


def _stop(signum, frame):
    raise SystemExit(0)  # waitress's loop catches it and drains its workers


def serve(settings: Settings, bus: Bus, port: int) -> int:
    pool = pool_for(bus)
    client = web_client(settings)
    rt = build_runtime(bus, progress_notifier(bus))  # resumes orphaned jobs now
    try:
        slack_app = build_app(settings, rt, pool, client)
    except BoltError as exc:
        rt.stop()
        if pool:
            pool.shutdown()
        raise StartupError(f"Slack refused the start-up check ({exc}); check SLACK_BOT_TOKEN.") from None
    socket_mode = None
    if settings.slack_app_token is not None:
        socket_mode = SocketModeHandler(slack_app, settings.slack_app_token.get_secret_value())
    try:
        server = waitress.create_server(WebApp(bus, None if socket_mode else slack_app),
                                        host="0.0.0.0", port=port, threads=THREADS)
    except OSError as exc:
        rt.stop()
        if pool:
            pool.shutdown()
        raise StartupError(f"cannot listen on port {port}: {exc.strerror}.") from None
    signal.signal(signal.SIGTERM, _stop)
    sys.setswitchinterval(GIL_SWITCH_INTERVAL_S)
    background = start_background(settings, rt, client)
    try:
        if socket_mode:
            socket_mode.connect()
        log.info("busbot serving %s on port %d (Redis: %s)",
                 "Socket Mode, health and metrics" if socket_mode else "/slack/events, health and metrics",
                 port, bus.where)
        server.run()
    finally:
        log.info("busbot stopping")
        server.close()
        if socket_mode:
            socket_mode.close()
        background.shutdown(wait=False)
        if pool:
            pool.shutdown()
    return 0
