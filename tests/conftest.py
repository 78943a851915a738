"""Shared fixtures: fakeredis and a real redis-server, and a `Bus` over either.

Tests that take `r` or `bus` run twice: once on fakeredis, once on the real server.
A module that sets `ON_CLUSTER = True` runs them on a 3-primary Redis Cluster as well,
twice: with the platform's default stream names (three slots) and with hash-tagged names
(`{hyvve}:events`, one slot); `names(request)` gives the stream settings of the backend.
Each test gets an empty database (flushdb, never flushall).
"""
from __future__ import annotations

import shutil

import pytest
import redis

from bot.bus import Bus
from bot.connection import connect, embedded
from bot.settings import Settings
from tests.redis_server import RedisCluster, RedisServer, SentinelSetup, require_binary

CLUSTER_BACKENDS = ("cluster", "cluster-tagged")
TAGGED_NAMES = {"bus_events_stream": "{hyvve}:events", "bus_dlq_stream": "{hyvve}:dlq",
                "bus_metadata_stream": "{hyvve}:events:metadata"}


def pytest_generate_tests(metafunc) -> None:
    if "r" in metafunc.fixturenames:
        backends = ["fake", "real"]
        if getattr(metafunc.module, "ON_CLUSTER", False):
            backends += CLUSTER_BACKENDS
        metafunc.parametrize("r", backends, indirect=True)


def backend(request) -> str:
    """The `r` backend of the running test ("fake", "real", "cluster", "cluster-tagged")."""
    callspec = getattr(request.node, "callspec", None)
    return callspec.params.get("r", "") if callspec else ""


def names(request) -> dict[str, str]:
    """Settings overrides for the backend's stream names (hash-tagged on "cluster-tagged")."""
    return dict(TAGGED_NAMES) if backend(request) == "cluster-tagged" else {}


@pytest.fixture(scope="session")
def redis_server():
    if not require_binary():
        pytest.skip("redis-server not installed (CI installs it)")
    server = RedisServer().start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def sentinels():
    """A primary, a replica and three Sentinels (tests/redis_server.py), one set per module."""
    if not (require_binary() and shutil.which("redis-sentinel")):
        pytest.skip("needs redis-server and redis-sentinel")
    setup = SentinelSetup().start()
    yield setup
    setup.stop()


@pytest.fixture
def real_r(redis_server) -> redis.Redis:
    client = connect(redis_server.url)
    client.flushdb()
    yield client
    client.close()


@pytest.fixture
def fake_r() -> redis.Redis:
    return embedded()


@pytest.fixture(scope="session")
def redis_cluster():
    if not require_binary():
        pytest.skip("redis-server not installed (CI installs it)")
    cluster = RedisCluster().start()
    yield cluster
    cluster.stop()


@pytest.fixture
def cluster_r(redis_cluster) -> redis.Redis:
    client = connect(redis_cluster.url)
    assert isinstance(client, redis.RedisCluster)
    client.flushdb(target_nodes=redis.RedisCluster.PRIMARIES)
    yield client
    client.close()


@pytest.fixture
def r(request) -> redis.Redis:
    kind = "cluster" if request.param in CLUSTER_BACKENDS else request.param
    return request.getfixturevalue(f"{kind}_r")


@pytest.fixture
def settings(request) -> Settings:
    return Settings(_env_file=None, **names(request))


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
