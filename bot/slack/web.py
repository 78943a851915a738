"""The one WSGI app `busbot serve` runs: Slack's requests, the runbook's health JSON and
Prometheus metrics.

    POST /slack/events   Bolt (commands and interactivity; Slack signature checked by Bolt)
    GET  /events/health  {"status", "streamLength", "dlqLength", "consumerGroups", "lastProcessedAt"}
    GET  /metrics        Prometheus text format, read from Redis per scrape
"""
from __future__ import annotations

import json
import logging

import redis
from prometheus_client import CONTENT_TYPE_LATEST
from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler

from bot.bus import Bus
from bot.metrics import exposition, metrics_registry
from bot.redis_errors import describe
from bot.services.health import get_health
from bot.timeparse import iso_ms

log = logging.getLogger(__name__)

SLACK_PATH = "/slack/events"
JSON = "application/json"


def health_document(bus: Bus) -> tuple[int, dict]:
    """The runbook's `/events/health` answer; 503 with one sentence when Redis is down."""
    try:
        h = get_health(bus)
    except (redis.ConnectionError, redis.TimeoutError) as exc:
        sentence, _ = describe(exc, bus.where)  # names the cause: refused, wrong password, TLS...
        log.warning("health: %s", sentence)
        return 503, {"status": "unreachable", "error": sentence}
    return 200, {"status": h.status, "streamLength": h.stream_length, "dlqLength": h.dlq_length,
                 "consumerGroups": len(h.groups), "lastProcessedAt": iso_ms(h.last_processed_ms)}


class WebApp:
    """WSGI callable; `slack_app` is None when Slack talks to us over Socket Mode."""

    def __init__(self, bus: Bus, slack_app: App | None):
        self.bus = bus
        self.slack = SlackRequestHandler(slack_app, path=SLACK_PATH) if slack_app else None
        self.registry = metrics_registry(bus)

    def __call__(self, environ, start_response):
        method, path = environ.get("REQUEST_METHOD", "GET"), environ.get("PATH_INFO", "/")
        if path == SLACK_PATH and method == "POST" and self.slack:
            return self.slack(environ, start_response)
        if path == "/events/health" and method == "GET":
            status, doc = health_document(self.bus)
            return _send(start_response, status, JSON, json.dumps(doc).encode())
        if path == "/metrics" and method == "GET":
            return _send(start_response, 200, CONTENT_TYPE_LATEST, exposition(self.registry))
        return _send(start_response, 404, JSON, json.dumps({"error": f"no route for {method} {path}"}).encode())


REASONS = {200: "OK", 404: "Not Found", 503: "Service Unavailable"}


def _send(start_response, status: int, content_type: str, body: bytes):
    start_response(f"{status} {REASONS[status]}",
                   [("Content-Type", content_type), ("Content-Length", str(len(body)))])
    return [body]
