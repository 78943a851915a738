"""Opening the Redis connection: a real server from REDIS_URL, or an embedded one.

What REDIS_URL names is found out, unless BUS_REDIS_MODE says it:

- `sentinel`: BUS_REDIS_SENTINELS and BUS_REDIS_SENTINEL_MASTER are set; the Sentinels name
  the primary, and the client follows it through a failover. REDIS_URL then gives only the
  scheme (TLS or not), the user, the password and the database.
- `cluster`: the node REDIS_URL names answers `INFO cluster` with cluster_enabled:1; a
  cluster client finds the other nodes itself.
- `standalone`: anything else (one server, or a managed endpoint that hides its nodes).

`rediss://` turns TLS on with certificate and host name verification; BUS_REDIS_CA_FILE
names the CA (default: the system's), BUS_REDIS_CERT_FILE and BUS_REDIS_KEY_FILE a client
certificate for mutual TLS. The embedded server is fakeredis, in process, for the console
demo and fast tests.
"""
from __future__ import annotations

import logging
from typing import Any

import fakeredis
import redis
import redis.sentinel
from redis.connection import parse_url

from bot import durability
from bot.bus import Bus
from bot.redact import redact_url
from bot.redis_errors import UNREACHABLE, note_refusal
from bot.settings import Settings

log = logging.getLogger(__name__)

_CLIENT_OPTIONS: dict[str, Any] = dict(decode_responses=True, encoding_errors="replace")


_TIMEOUTS: dict[str, Any] = dict(socket_connect_timeout=2, socket_timeout=5, health_check_interval=30)

MODES = ("standalone", "cluster", "sentinel")


class _NamesRefusals:
    """Keeps the command and keys on an ACL refusal (NOPERM), so the reply can name them."""

    def execute_command(self, *args: Any, **options: Any) -> Any:
        try:
            return super().execute_command(*args, **options)  # type: ignore[misc]
        except redis.ResponseError as exc:
            note_refusal(exc, args)
            raise


class BusRedis(_NamesRefusals, redis.Redis):
    """The client of a standalone or Sentinel-managed Redis."""


class BusRedisCluster(_NamesRefusals, redis.RedisCluster):
    """The client of a Redis Cluster."""


def tls_options(url: str | None, settings: Settings | None) -> dict[str, Any]:
    """Certificate options for a `rediss://` URL (nothing for a plain one). Verification of
    the server's certificate and host name stays on (redis-py's defaults); a URL may still
    turn it off with `?ssl_cert_reqs=none`, which docs/redis.md advises against."""
    if not (url and url.startswith("rediss://")) or settings is None:
        return {}
    files = {"ssl_ca_certs": settings.bus_redis_ca_file, "ssl_certfile": settings.bus_redis_cert_file,
             "ssl_keyfile": settings.bus_redis_key_file}
    return {k: v for k, v in files.items() if v}


def connect(url: str, settings: Settings | None = None) -> redis.Redis:
    """A client for a real server; short timeouts so a dead Redis answers in seconds. A
    Redis Cluster node (`INFO cluster` says cluster_enabled:1) gets a cluster client that
    finds the other nodes itself; a server unreachable right now gets a plain client (its
    first command reports the outage). `settings`: the mode and TLS files (None: detect,
    no TLS files)."""
    mode = settings.bus_redis_mode if settings is not None else "auto"
    if mode == "sentinel" or (mode == "auto" and settings is not None and settings.bus_redis_sentinel_master):
        assert settings is not None  # the settings check asks for the Sentinels in sentinel mode
        return connect_sentinel(url, settings)
    if mode == "cluster":
        return connect_cluster(url, settings)
    client = BusRedis.from_url(url, **_TIMEOUTS, **_CLIENT_OPTIONS, **tls_options(url, settings))
    if mode == "standalone":
        return client
    try:
        is_cluster = cluster_enabled(client)
    except UNREACHABLE:
        return client
    if is_cluster:  # a cluster busbot cannot open as one is an error, never a standalone client
        client.close()
        return connect_cluster(url, settings)
    return client


def cluster_enabled(client: redis.Redis) -> bool:
    """True when `client`'s server is a Redis Cluster node."""
    try:
        return str(client.info("cluster").get("cluster_enabled", "0")) == "1"
    except redis.ResponseError:  # INFO disabled on some managed Redis: treat as standalone
        return False


def connect_cluster(url: str, settings: Settings | None = None) -> redis.Redis:
    """A cluster client from any one node's URL, with the same options and timeouts. A
    cluster no node of which answers reads as unreachable (redis.ConnectionError)."""
    try:
        return BusRedisCluster.from_url(url, **_TIMEOUTS, **_CLIENT_OPTIONS,  # type: ignore[return-value]
                                           **tls_options(url, settings))
    except redis.exceptions.RedisClusterException as exc:
        raise redis.ConnectionError(f"busbot could not open the Redis Cluster: {exc}") from exc


def connect_sentinel(url: str | None, settings: Settings) -> redis.Redis:
    """A client of the primary the Sentinels name; after a failover its next connection goes
    to the promoted replica. The Sentinels are reached with the same TLS options as the
    primary and without its password."""
    kwargs: dict[str, Any] = dict(parse_url(url)) if url else {}
    for name in ("host", "port", "path"):
        kwargs.pop(name, None)
    tls = kwargs.pop("connection_class", None) is redis.SSLConnection
    ssl: dict[str, Any] = {"ssl": True, **tls_options(url, settings)} if tls else {}
    ssl.update({k: kwargs.pop(k) for k in list(kwargs) if k.startswith("ssl_")} if tls else {})
    socket_options = {k: v for k, v in _TIMEOUTS.items() if k.startswith("socket_")}
    sentinel = redis.sentinel.Sentinel(settings.sentinels, sentinel_kwargs={**socket_options, **ssl})
    master = settings.bus_redis_sentinel_master or ""
    return sentinel.master_for(master, redis_class=BusRedis, **_TIMEOUTS, **_CLIENT_OPTIONS, **ssl, **kwargs)


def sentinel_where(settings: Settings) -> str:
    """How messages name a Sentinel-managed primary."""
    hosts = ",".join(f"{h}:{p}" for h, p in settings.sentinels)
    return f"{settings.bus_redis_sentinel_master} (Sentinels {hosts})"


def embedded() -> redis.Redis:
    """A fresh in-process Redis (fakeredis) with the same client options."""
    return fakeredis.FakeRedis(server=fakeredis.FakeServer(), **_CLIENT_OPTIONS)


def open_bus(settings: Settings, url: str | None = None, warn: bool = True) -> Bus:
    """The bus of this process: REDIS_URL (or `url`) in the mode found out or set; the
    embedded demo Redis when neither a URL nor Sentinels are given. Says so in the log when
    BUS_WAIT_REPLICAS asks for more replicas than are connected, or is 0 on a Redis Cluster
    with replicas (a failover there can lose entries); `warn=False` leaves that to another
    process (the command workers of `busbot serve`, whose main process has said it)."""
    bus = _open_bus(settings, url)
    if not warn:
        return bus
    for warning in (durability.replicas_short(bus), durability.cluster_not_waited(bus)):
        if warning:
            log.warning("%s", warning)
    return bus


def _open_bus(settings: Settings, url: str | None) -> Bus:
    url = url or settings.redis_url
    sentinel = settings.bus_redis_mode in ("auto", "sentinel") and bool(settings.bus_redis_sentinel_master)
    if sentinel:
        # other processes (the command workers) reach it with the same settings and this URL
        shared = url or f"redis://{settings.bus_redis_sentinel_master}/0"
        return Bus(connect_sentinel(url, settings), settings, where=sentinel_where(settings), url=shared)
    if url:
        return Bus(connect(url, settings), settings, where=redact_url(url), url=url)
    return Bus(embedded(), settings, where="embedded demo Redis")
