"""The handle every service takes: a Redis client, its registered Lua scripts, the key
names, settings and a clock. Nothing else rides on it: what a process runs besides (the job
runner, the notifier) is in `bot.runtime.Runtime`."""
from __future__ import annotations

from dataclasses import dataclass, field

import redis
import redis.sentinel

from bot.clock import Clock, system_ms
from bot.keys import Keys
from bot.lua import Scripts
from bot.mask import Masker
from bot.settings import Settings


@dataclass
class Bus:
    r: redis.Redis
    settings: Settings
    keys: Keys = field(init=False)
    scripts: Scripts = field(init=False, repr=False, compare=False)
    clock: Clock = system_ms
    where: str = "redis"  # for messages: the URL without its password, or "embedded ..."
    # how another process reaches the same Redis (None: in-process); may hold a password
    url: str | None = field(default=None, repr=False)
    cluster: bool = field(init=False)  # a Redis Cluster client: keys live in several slots
    mode: str = field(init=False)  # standalone | cluster | sentinel | embedded, from the client
    _masker: tuple[Settings, Masker] | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.cluster = isinstance(self.r, redis.RedisCluster)
        self.mode = client_mode(self.r)
        self.keys = Keys.from_settings(self.settings)
        self.scripts = Scripts(self.r)

    @property
    def masker(self) -> Masker:
        """Masks every value read from the streams (bot/mask.py), by these settings."""
        if self._masker is None or self._masker[0] is not self.settings:
            self._masker = (self.settings, Masker.from_settings(self.settings))
        return self._masker[1]


def client_mode(r: redis.Redis) -> str:
    """What kind of Redis a client talks to, as `/bus redis` shows it."""
    if isinstance(r, redis.RedisCluster):
        return "cluster"
    pool = getattr(r, "connection_pool", None)
    if isinstance(pool, redis.sentinel.SentinelConnectionPool):
        return "sentinel"
    if type(r).__module__.startswith("fakeredis"):
        return "embedded"
    return "standalone"
