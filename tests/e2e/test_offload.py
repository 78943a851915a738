"""Read-only commands answered in worker processes (bot/slack/offload.py) on a real Redis:
the answer is the same, writes stay in-process, a killed worker is replaced."""
from __future__ import annotations

import os
import signal

import pytest

import bot.slack.app as slack_app
from bot.bus import Bus
from bot.connection import connect
from bot.slack.offload import CommandPool
from tests.blockcheck import assert_valid_message
from tests.e2e.slack_stub import action_body, command_body
from tests.factories import add_dlq

T0 = 1_764_000_000_000


@pytest.fixture
def pool(redis_server):
    p = CommandPool(redis_server.url, processes=1)
    yield p
    p.shutdown()


@pytest.fixture
def real_bus(real_r, settings, redis_server) -> Bus:
    return Bus(real_r, settings, where="test redis", url=redis_server.url)


@pytest.fixture
def in_process(monkeypatch):
    """Texts this process answered itself (the rest came from the worker)."""
    seen: list[str] = []
    run, run_action = slack_app.router.run, slack_app.router.run_action

    def spy_run(text, *a, **kw):
        seen.append(text)
        return run(text, *a, **kw)

    def spy_action(action, value, *a, **kw):
        seen.append(f"{action}:{value}")
        return run_action(action, value, *a, **kw)
    monkeypatch.setattr(slack_app.router, "run", spy_run)
    monkeypatch.setattr(slack_app.router, "run_action", spy_action)
    return seen


def send(bot, stub, body_of, name):
    path = f"/response/{name}"
    status, _ = bot.post_signed(body_of(stub.url + path.lstrip("/")))
    assert status == 200
    return stub.wait_for(path)[0]


def test_read_commands_and_their_buttons_run_in_the_worker(start_bot, stub, real_bus, pool, in_process):
    for i in range(30):
        add_dlq(real_bus.r, real_bus.keys.dlq, T0 + i, type_="crm.contact.created")
    bot = start_bot(real_bus, pool)
    top = send(bot, stub, lambda url: command_body("dlq top", url), "top")
    assert_valid_message(top)
    assert top["blocks"][0]["text"]["text"] == "DLQ top: 30 entries"
    assert [b["value"] for blk in top["blocks"] if blk["type"] == "actions" for b in blk["elements"]][-1] == "dlq top"
    page = send(bot, stub, lambda url: action_body("bus_run", "dlq list 5", url), "page")
    assert page["replace_original"] is True and "crm.contact.created" in str(page["blocks"])
    shared = send(bot, stub, lambda url: action_body("bus_share", "health", url, user="U0BOB"), "share")
    assert shared["response_type"] == "in_channel" and "shared by <@U0BOB>" in str(shared["blocks"])
    typo = send(bot, stub, lambda url: command_body("dlq tpo", url), "typo")
    assert "Did you mean `/bus dlq top`?" in typo["text"] + str(typo["blocks"])
    jobs = send(bot, stub, lambda url: command_body("jobs", url), "jobs")
    assert_valid_message(jobs)
    assert in_process == ["jobs"]  # a command of the write side


def test_a_killed_worker_is_replaced(start_bot, stub, real_bus, pool):
    bot = start_bot(real_bus, pool)
    assert send(bot, stub, lambda url: command_body("health", url), "before")["text"].startswith("Event bus is")
    for process in [worker.process for worker in pool.workers]:
        os.kill(process.pid, signal.SIGKILL)
        process.join(10)
    after = send(bot, stub, lambda url: command_body("dlq", url), "after")
    assert after["text"].startswith("DLQ hyvve:dlq: 0 entries")


def test_no_pool_for_an_embedded_redis(fake_r, settings):
    from bot.slack.offload import pool_for
    assert pool_for(Bus(fake_r, settings, where="embedded")) is None


def test_worker_sees_redis_down_as_one_sentence(start_bot, stub, settings, redis_server):
    dead_url = "redis://127.0.0.1:1/0"
    dead_pool = CommandPool(dead_url, processes=1)
    try:
        bot = start_bot(Bus(connect(dead_url), settings, where=dead_url, url=dead_url), dead_pool)
        msg = send(bot, stub, lambda url: command_body("health", url), "down")
        assert msg["text"] == f"Redis at {dead_url} refused the connection: nothing listens on that port."
    finally:
        dead_pool.shutdown()


class CountingProxy:
    """A TCP proxy to Redis that delays each reply and counts the requests waiting at once."""

    def __init__(self, upstream_port: int, delay_s: float):
        import socket
        import threading
        self.upstream_port, self.delay_s = upstream_port, delay_s
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.lock = threading.Lock()
        self.waiting = self.most_waiting = 0
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        import socket
        import threading
        while True:
            client, _ = self.listener.accept()
            upstream = socket.create_connection(("127.0.0.1", self.upstream_port))
            threading.Thread(target=self._requests, args=(client, upstream), daemon=True).start()
            threading.Thread(target=self._replies, args=(upstream, client), daemon=True).start()

    def _requests(self, src, dst) -> None:
        with src, dst:
            while data := src.recv(65536):
                with self.lock:
                    self.waiting += 1
                    self.most_waiting = max(self.most_waiting, self.waiting)
                dst.sendall(data)

    def _replies(self, src, dst) -> None:
        import time
        with src, dst:
            while data := src.recv(65536):
                time.sleep(self.delay_s)
                with self.lock:
                    self.waiting = max(0, self.waiting - 1)
                dst.sendall(data)


def test_one_worker_answers_many_commands_at_once(redis_server):
    """Answers waiting on a slow Redis overlap: a command does not queue behind the one
    before it (a pool of two single-threaded processes answered two at a time)."""
    from concurrent.futures import ThreadPoolExecutor
    proxy = CountingProxy(redis_server.port, delay_s=0.3)
    one = CommandPool(f"redis://127.0.0.1:{proxy.port}/0", processes=1, threads=8)
    try:
        with ThreadPoolExecutor(6) as senders:
            replies = list(senders.map(lambda n: one.answer("health", f"U{n}")[0], range(6)))
        assert all(reply.template for reply in replies)
        assert proxy.most_waiting >= 4  # 1 when the worker answered one command at a time
    finally:
        one.shutdown(wait=True)
