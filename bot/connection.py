"""Opening the Redis connection: a real server from REDIS_URL, or an embedded one.

The embedded server is fakeredis, in process, for the console demo and fast tests.
"""
from __future__ import annotations

from typing import Any

import fakeredis
import redis

from bot.bus import Bus
from bot.redact import redact_url
from bot.settings import Settings

_CLIENT_OPTIONS: dict[str, Any] = dict(decode_responses=True, encoding_errors="replace")


def connect(url: str) -> redis.Redis:
    """A client for a real server; short timeouts so a dead Redis answers in seconds."""
    return redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=5,
                                health_check_interval=30, **_CLIENT_OPTIONS)


def embedded() -> redis.Redis:
    """A fresh in-process Redis (fakeredis) with the same client options."""
    return fakeredis.FakeRedis(server=fakeredis.FakeServer(), **_CLIENT_OPTIONS)


def open_bus(settings: Settings, url: str | None = None) -> Bus:
    url = url or settings.redis_url
    if url:
        return Bus(connect(url), settings, where=redact_url(url), url=url)
    return Bus(embedded(), settings, where="embedded demo Redis")

