"""A worker process outlives a Redis that stops answering (frozen with SIGSTOP, so its
reads time out as on a network cut rather than being refused), and consumes again once
Redis is back. The server is this test's own: freezing the shared one would stall others."""
from __future__ import annotations

import os
import signal
import time

import pytest

from bot.bus import Bus
from bot.connection import connect
from bot.eventbus.worker import ensure_group
from bot.settings import Settings
from tests.eventbus.chaos import GROUP, log_tail, start_worker
from tests.eventbus.helpers import publish
from tests.eventbus.proc_handlers import HANDLED
from tests.redis_server import freezable_server

pytestmark = pytest.mark.real_redis
SOCKET_TIMEOUT_S = 5  # bot.connection.connect: a read past this raises redis.TimeoutError


own_server = pytest.fixture(name="own_server")(freezable_server)


def _wait_until(check, seconds: float, proc) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert proc.poll() is None, f"the worker exited:\n{log_tail(proc)}"
        assert time.monotonic() < deadline, f"timed out:\n{log_tail(proc)}"
        time.sleep(0.02)


def test_worker_goes_on_consuming_after_redis_froze_past_the_socket_timeout(own_server):
    r = connect(own_server.url)
    bus = Bus(r, Settings(_env_file=None))
    ensure_group(bus, GROUP, "0")
    publish(bus, "crm.contact.created", fate="ok")
    proc = start_worker(own_server.url)
    try:
        _wait_until(lambda: r.scard(HANDLED) == 1, 30, proc)
        os.kill(own_server.proc.pid, signal.SIGSTOP)
        # The outage itself must last past the worker's socket timeout: this wait is the
        # length of the outage, not a synchronisation.
        time.sleep(SOCKET_TIMEOUT_S + 1.5)
        os.kill(own_server.proc.pid, signal.SIGCONT)
        publish(bus, "crm.contact.created", fate="ok")
        _wait_until(lambda: r.scard(HANDLED) == 2, 60, proc)
        assert proc.poll() is None
        assert "redis unavailable" in log_tail(proc)  # it did see the timeout, and went on
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)
        r.close()
