"""Health and metrics endpoints, and the probes of a process supervisor.

    GET /healthz         the process is alive (never touches Redis)
    GET /readyz          Redis answers and Slack accepted the token -> 200, else 503
    GET /events/health   the runbook's JSON: status, streamLength, dlqLength, consumerGroups,
                         lastProcessedAt (503 with one sentence when Redis is down)
    GET /metrics         Prometheus text, read from Redis per scrape

The endpoints that read Redis use their own client with a short timeout, and at most
`CONCURRENT` of them run at once; more get 503 with Retry-After at once. A hung Redis can so
hold at most that many HTTP threads for about a second each: Slack's acks never queue
behind health checks.
"""
from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import redis
from flask import Blueprint, Response, jsonify
from prometheus_client import CONTENT_TYPE_LATEST

from bot.bus import Bus
from bot.metrics import exposition, metrics_registry
from bot.redis_errors import UNREACHABLE, describe
from bot.services.health import get_health
from bot.timeparse import iso_ms
from bot.web.replies import error

log = logging.getLogger(__name__)

CONCURRENT = 4  # Redis-reading probe requests served at once
PROBE_TIMEOUT_S = 1.0  # socket timeout of the probes' Redis client
RETRY_AFTER_S = 1


class Busy(Exception):
    """Too many probe requests are reading Redis already."""


class ProbeLimiter:
    """A semaphore taken without waiting: a request that cannot have a slot is refused now."""

    def __init__(self, slots: int = CONCURRENT):
        self._slots = threading.BoundedSemaphore(slots)

    @contextmanager
    def slot(self) -> Iterator[None]:
        if not self._slots.acquire(blocking=False):
            raise Busy
        try:
            yield
        finally:
            self._slots.release()


def probe_bus(bus: Bus, timeout_s: float = PROBE_TIMEOUT_S) -> Bus:
    """The same bus through a client of its own whose commands give up after `timeout_s`.
    An embedded Redis (in process, it cannot hang) and client kinds this cannot copy
    (Sentinel, Cluster) are used as they are: the limiter still bounds them."""
    pool = getattr(bus.r, "connection_pool", None)
    if bus.url is None or type(pool) is not redis.ConnectionPool:
        return bus
    kwargs = {**pool.connection_kwargs, "socket_timeout": timeout_s, "socket_connect_timeout": timeout_s}
    client = redis.Redis(connection_pool=redis.ConnectionPool(connection_class=pool.connection_class,
                                                              max_connections=CONCURRENT + 1, **kwargs))
    return Bus(client, bus.settings, clock=bus.clock, where=bus.where, url=bus.url)


def health_document(bus: Bus) -> tuple[int, dict]:
    """The runbook's `/events/health` answer; 503 with one sentence when Redis is down."""
    try:
        h = get_health(bus)
    except UNREACHABLE as exc:
        sentence, _ = describe(exc, bus.where)  # names the cause: refused, wrong password, TLS...
        log.warning("health: %s", sentence)
        return 503, {"status": "unreachable", "error": sentence}
    return 200, {"status": h.status, "streamLength": h.stream_length, "dlqLength": h.dlq_length,
                 "consumerGroups": len(h.groups), "lastProcessedAt": iso_ms(h.last_processed_ms)}


def _busy() -> Response:
    return error(503, "busbot is answering as many health checks as it allows at once; retry in a second.",
                 retry_after=RETRY_AFTER_S)


def _json(status: int, doc: dict) -> Response:
    resp = jsonify(doc)
    resp.status_code = status
    return resp


def blueprint(bus: Bus, slack_ready: Callable[[], bool] | None = None,
              limiter: ProbeLimiter | None = None, others: tuple[Bus, ...] = ()) -> Blueprint:
    """`bus` should be a `probe_bus`; `slack_ready` is None when this process has no Slack.
    `others`: the other environments' probe buses, whose samples `/metrics` adds (labelled
    `env`); the health document and the probes answer for `bus`, the default environment."""
    bp = Blueprint("probes", __name__)
    limiter = limiter or ProbeLimiter()
    registry = metrics_registry(bus, *others)

    @bp.get("/healthz")
    def healthz() -> Response:
        return _json(200, {"status": "alive"})

    @bp.get("/readyz")
    def readyz() -> Response:
        try:
            with limiter.slot():
                bus.r.ping()
        except Busy:
            return _busy()
        except UNREACHABLE as exc:
            return _json(503, {"status": "not ready", "error": describe(exc, bus.where)[0]})
        if slack_ready is not None and not slack_ready():
            return _json(503, {"status": "not ready",
                               "error": "Slack has not accepted the bot token yet; busbot keeps trying."})
        return _json(200, {"status": "ready"})

    @bp.get("/events/health")
    def events_health() -> Response:
        try:
            with limiter.slot():
                status, doc = health_document(bus)
        except Busy:
            return _busy()
        return _json(status, doc)

    @bp.get("/metrics")
    def metrics() -> Response:
        try:
            with limiter.slot():
                body = exposition(registry)
        except Busy:
            return _busy()
        return Response(body, status=200, content_type=CONTENT_TYPE_LATEST)

    return bp
