"""The Flask app `busbot serve` runs: one blueprint per area.

    bot/web/slack.py    POST /slack/events (absent in Socket Mode)
    bot/web/probes.py   GET /healthz, /readyz, /events/health, /metrics
    bot/web/dashboard.py  /admin/events (given the runtime)
    bot/web/api.py      the admin API under /events and /events/openapi.json (given the runtime)

Every error is JSON with one sentence under "error"; a body over 1 MB is a 413.
"""
from __future__ import annotations

import logging
from collections.abc import Callable

from flask import Flask, Response, request
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound, RequestEntityTooLarge

from bot.bus import Bus
from bot.runtime import Runtime
from bot.web import api, dashboard, probes, slack
from bot.web.limits import MAX_BODY, MAX_BODY_TEXT
from bot.web.replies import error

log = logging.getLogger(__name__)


def create_app(bus: Bus, gate: slack.SlackGate | None, probe: Bus | None = None,
               slack_ready: Callable[[], bool] | None = None, rt: Runtime | None = None) -> Flask:
    """`gate` is None when Slack talks over Socket Mode (no Slack route here); a gate whose
    Bolt app comes later answers 503 until then. `probe` is the bus the health endpoints
    read (default: `probes.probe_bus(bus)`, a client with short timeouts). `/readyz` asks
    `slack_ready` (default: the gate's), and ignores Slack when there is neither."""
    app = Flask("busbot")
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY
    if gate is not None:
        app.register_blueprint(slack.blueprint(gate))
    others = tuple(probes.probe_bus(other.bus) for other in rt.envs.runtimes.values()
                   if other is not rt) if rt is not None and rt.envs is not None else ()  # other environments
    app.register_blueprint(probes.blueprint(probe or probes.probe_bus(bus),
                                            slack_ready=slack_ready or ((lambda: gate.ready) if gate else None),
                                            others=others))
    if rt is not None:
        dashboard.register(app, rt)  # /admin/events (bot/web/dashboard.py)
        api.register(app, rt)  # /events/... admin API and /events/openapi.json (bot/web/api.py)
    _errors(app)
    return app


def _errors(app: Flask) -> None:
    @app.errorhandler(NotFound)
    @app.errorhandler(MethodNotAllowed)
    def no_route(exc: HTTPException) -> Response:
        return error(404, f"no route for {request.method} {request.path}")

    @app.errorhandler(RequestEntityTooLarge)
    def too_large(exc: HTTPException) -> Response:
        log.info("refused a request to %s: body over %s", request.path, MAX_BODY_TEXT)
        return error(413, f"The request body is larger than {MAX_BODY_TEXT}; send a smaller one.")

    @app.errorhandler(Exception)
    def failed(exc: Exception) -> Response:
        if isinstance(exc, HTTPException):
            return error(exc.code or 500, exc.description or exc.name)
        log.error("request to %s failed", request.path, exc_info=exc)
        return error(500, "busbot could not answer this request: something went wrong on our side "
                          "and it is logged. Try again in a moment.")
