"""Opening the Redis connection: a real server from REDIS_URL, or an embedded one.

The embedded server is fakeredis, in process, for the console demo and fast tests.
"""
from __future__ import annotations

import fakeredis
import redis

from bot.bus import Bus
from bot.settings import Settings

_CLIENT_OPTIONS = dict(decode_responses=True, encoding_errors="replace")


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
        return Bus(connect(url), settings, where=_redact(url), url=url)
    return Bus(embedded(), settings, where="embedded demo Redis")


def _redact(url: str) -> str:
    """The URL without its password, for messages."""
    if "@" in url:
        scheme, rest = url.split("://", 1)
        return f"{scheme}://***@{rest.split('@', 1)[1]}"
    return url
