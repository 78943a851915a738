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
from slack_sdk.errors import SlackApiError

from bot.actions.runtime import start_job_runner
from bot.alerts.schedule import start_alerts
from bot.bus import Bus
from bot.notify import PosterNotifier
from bot.settings import Settings
from bot.slack.alert_notifier import SlackNotifier
from bot.slack.app import build_app
from bot.slack.offload import pool_for
from bot.slack.poster import SlackPoster
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

    def __init__(self, scheduler, job_runner):
        self.scheduler, self.job_runner = scheduler, job_runner

    def shutdown(self, wait: bool = False) -> None:
        self.scheduler.shutdown(wait=wait)
        self.job_runner.stop()


def start_background(settings: Settings, bus: Bus, client: WebClient) -> Background:
    """Scheduled and background work inside `busbot serve`: the alert checks and deliveries
    (APScheduler), and the job runner of guarded actions, which resumes jobs a dead process
    left and posts progress to BUS_ACTIONS_CHANNEL (default: BUS_ALERT_CHANNEL)."""
    poster = SlackPoster(client)
    channel = settings.bus_actions_channel or settings.bus_alert_channel
    progress = PosterNotifier(poster, channel, errors=(SlackApiError,)) if channel else None
    job_runner = start_job_runner(bus, progress)
    return Background(start_alerts(bus, SlackNotifier(poster)), job_runner)


def _stop(signum, frame):
    raise SystemExit(0)  # waitress's loop catches it and drains its workers


def serve(settings: Settings, bus: Bus, port: int) -> int:
    pool = pool_for(bus)
    try:
        slack_app = build_app(settings, bus, pool)
    except BoltError as exc:
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
        raise StartupError(f"cannot listen on port {port}: {exc.strerror}.") from None
    signal.signal(signal.SIGTERM, _stop)
    sys.setswitchinterval(GIL_SWITCH_INTERVAL_S)
    background = start_background(settings, bus, slack_app.client)
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
