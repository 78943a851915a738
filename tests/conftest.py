"""Shared fixtures: fakeredis and a real redis-server, and a `Bus` over either.

Tests that take `r` or `bus` run twice: once on fakeredis, once on the real server.
Each test gets an empty database (flushdb, never flushall).
"""
from __future__ import annotations

import pytest
import redis

from bot.bus import Bus
from bot.connection import connect, embedded
from bot.settings import Settings
from tests.redis_server import RedisServer, require_binary


@pytest.fixture(scope="session")
def redis_server():
    if not require_binary():
        pytest.skip("redis-server not installed (CI installs it)")
    server = RedisServer().start()
    yield server
    server.stop()


@pytest.fixture
def real_r(redis_server) -> redis.Redis:
    client = connect(redis_server.url)
    client.flushdb()
    yield client
    client.close()


@pytest.fixture
def fake_r() -> redis.Redis:
    return embedded()


@pytest.fixture(params=["fake", "real"])
def r(request) -> redis.Redis:
    return request.getfixturevalue(f"{request.param}_r")


@pytest.fixture
def settings() -> Settings:
    return Settings(_env_file=None)


class FakeClock:
    def __init__(self, ms: int = 1_764_000_000_000):
        self.ms = ms

    def __call__(self) -> int:
        return self.ms

    def advance(self, seconds: float) -> None:
        self.ms += int(seconds * 1000)


@pytest.fixture
def bus(r, settings) -> Bus:
    return Bus(r, settings, where="test redis")


@pytest.fixture
def rt(bus):
    """The runtime over `bus`, runners driven by hand, posts recorded (`rt.notifier.posts`)."""
    from tests.runtime_helpers import manual_runtime

    return manual_runtime(bus)
