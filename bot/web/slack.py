"""`POST /slack/events`: Slack's commands and button clicks, handed to Bolt.

The signature is checked here, before Bolt sees the request: an unsigned, forged, stale or
malformed request (a timestamp that is not a number, a body that is not UTF-8) is a 401 and
nothing else happens: no listener, no error handler, no request to its `response_url`, and
its body is never logged. Until Slack has accepted the bot token at start-up (the Bolt app
exists), signed requests get 503 and Slack retries them.
"""
from __future__ import annotations

import logging
import threading

from flask import Blueprint, Response, request
from slack_bolt import App
from slack_bolt.adapter.flask import SlackRequestHandler
from slack_sdk.signature import SignatureVerifier

from bot.web.replies import error

log = logging.getLogger(__name__)

SLACK_PATH = "/slack/events"
RETRY_AFTER_S = 5


class SlackGate:
    """The Bolt app once Slack has accepted the token; requests before that get 503."""

    def __init__(self, signing_secret: str, app: App | None = None):
        self.verifier = SignatureVerifier(signing_secret)
        self._handler: SlackRequestHandler | None = None
        self._lock = threading.Lock()
        if app is not None:
            self.open(app)

    def open(self, app: App) -> None:
        with self._lock:
            self._handler = SlackRequestHandler(app)

    @property
    def ready(self) -> bool:
        return self._handler is not None

    def handler(self) -> SlackRequestHandler | None:
        return self._handler

    def verified(self, body: bytes, timestamp: str | None, signature: str | None) -> bool:
        """True only for a well-formed request signed with our secret in the last 5 minutes."""
        try:
            return bool(self.verifier.is_valid(body, timestamp, signature))
        except Exception:  # noqa: BLE001 - any malformed header or body is simply not verified
            return False


def blueprint(gate: SlackGate) -> Blueprint:
    bp = Blueprint("slack", __name__)

    @bp.post(SLACK_PATH)
    def slack_events() -> Response:
        body = request.get_data(cache=True)  # over the body limit: 413 before anything else
        if not gate.verified(body, request.headers.get("X-Slack-Request-Timestamp"),
                             request.headers.get("X-Slack-Signature")):
            log.info("refused a request to %s: bad or missing Slack signature (%d bytes)",
                     SLACK_PATH, len(body))
            return error(401, "The request is not signed by Slack; only Slack may call this endpoint.")
        handler = gate.handler()
        if handler is None:
            return error(503, "busbot is still connecting to Slack; Slack retries this request.",
                         retry_after=RETRY_AFTER_S)
        return handler.handle(request)

    return bp
