"""Two environments with the same stream names on two real redis-servers, as one busbot
process serves them (bot/environments.py)."""
from __future__ import annotations

from collections.abc import Iterator, Mapping

import pytest

from bot.connection import open_bus
from bot.environments import Environments, plan
from bot.runtime import build_runtime
from bot.settings import Settings
from tests.redis_server import RedisServer, require_binary
from tests.runtime_helpers import RecordingNotifier, manual_runtime

OPERATORS = "U0ALICE,U0BOB"


@pytest.fixture(scope="module")
def servers() -> Iterator[tuple[RedisServer, RedisServer]]:
    if not require_binary():
        pytest.skip("redis-server not installed (CI installs it)")
    prod, staging = RedisServer().start(), RedisServer().start()
    yield prod, staging
    prod.stop()
    staging.stop()


def base_settings(**values) -> Settings:
    return Settings(_env_file=None, **{"bus_operators": OPERATORS, **values})


def environ_of(servers, **more: str) -> dict[str, str]:
    prod, staging = servers
    return {"BUS_ENVIRONMENTS": f"prod={prod.url},staging={staging.url}", **more}


def open_environments(base: Settings, environ: Mapping[str, str], jobs: bool = False) -> Environments:
    """Every environment's runtime, flushed; `jobs`: each with a background job runner, as
    `busbot serve` has (else tests tick runners by hand)."""
    planned, channels = plan(base, environ)
    runtimes = {}
    for env in planned:
        bus = open_bus(env.settings)
        bus.r.flushdb()
        runtimes[env.name] = (build_runtime(bus, RecordingNotifier(), poll_s=0.05) if jobs
                              else manual_runtime(bus, RecordingNotifier()))
    return Environments(runtimes, channels, frozenset(e.name for e in planned if e.protected))
