"""The handle every service takes: a Redis client, the key names, settings and a clock."""
from __future__ import annotations

from dataclasses import dataclass, field

import redis

from bot.clock import Clock, system_ms
from bot.keys import Keys
from bot.settings import Settings


class BusUnavailable(Exception):
    """Redis could not be reached; the message is one plain sentence for the user."""


@dataclass
class Bus:
    r: redis.Redis
    settings: Settings
    keys: Keys = field(init=False)
    clock: Clock = system_ms
    where: str = "redis"  # for messages: the URL without its password, or "embedded ..."
    url: str | None = None  # how another process reaches the same Redis (None: in-process)

    def __post_init__(self) -> None:
        self.keys = Keys.from_settings(self.settings)
