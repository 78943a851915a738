"""Opening the Redis connection: a real server from REDIS_URL, or an embedded one.

The embedded server is fakeredis, in process, for the console demo and fast tests.
"""
from __future__ import annotations

from typing import Any

import fakeredis
import redis

from bot.bus import Bus
from bot.redact import redact_url
from bot.redis_errors import UNREACHABLE
from bot.settings import Settings

_CLIENT_OPTIONS: dict[str, Any] = dict(decode_responses=True, encoding_errors="replace")


_TIMEOUTS: dict[str, Any] = dict(socket_connect_timeout=2, socket_timeout=5, health_check_interval=30)


def connect(url: str) -> redis.Redis:
    """A client for a real server; short timeouts so a dead Redis answers in seconds. A
    Redis Cluster node (`INFO cluster` says cluster_enabled:1) gets a cluster client that
    finds the other nodes itself; a server unreachable right now gets a plain client (its
    first command reports the outage)."""
    client = redis.Redis.from_url(url, **_TIMEOUTS, **_CLIENT_OPTIONS)
    try:
        if cluster_enabled(client):
            client.close()
            return connect_cluster(url)
    except UNREACHABLE:
        pass
    return client


def cluster_enabled(client: redis.Redis) -> bool:
    """True when `client`'s server is a Redis Cluster node."""
    try:
        return str(client.info("cluster").get("cluster_enabled", "0")) == "1"
    except redis.ResponseError:  # INFO disabled on some managed Redis: treat as standalone
        return False


def connect_cluster(url: str) -> redis.Redis:
    """A cluster client from any one node's URL, with the same options and timeouts."""
    return redis.RedisCluster.from_url(url, **_TIMEOUTS, **_CLIENT_OPTIONS)  # type: ignore[return-value]


def embedded() -> redis.Redis:
    """A fresh in-process Redis (fakeredis) with the same client options."""
    return fakeredis.FakeRedis(server=fakeredis.FakeServer(), **_CLIENT_OPTIONS)


def open_bus(settings: Settings, url: str | None = None) -> Bus:
    url = url or settings.redis_url
    if url:
        return Bus(connect(url), settings, where=redact_url(url), url=url)
    return Bus(embedded(), settings, where="embedded demo Redis")

