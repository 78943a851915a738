"""The HTTP server stops gracefully: no new connections, answers in flight still sent."""
from __future__ import annotations

import socket
import threading
import time

from flask import Flask

from bot.web.server import HttpServer
from tests.e2e.slack_stub import http


def _slow_app(entered: threading.Event, release: threading.Event) -> Flask:
    app = Flask("slow")

    @app.get("/slow")
    def slow() -> str:
        entered.set()
        release.wait(10)
        return "finished " + "x" * 100_000

    @app.get("/fast")
    def fast() -> str:
        return "ok"
    return app


def _refused(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return False
    except OSError:
        return True


def test_stop_refuses_new_connections_and_finishes_the_request_in_flight():
    entered, release = threading.Event(), threading.Event()
    server = HttpServer(_slow_app(entered, release), host="127.0.0.1", port=0, threads=4)
    runner = threading.Thread(target=server.run, daemon=True)
    runner.start()
    url = f"http://127.0.0.1:{server.port}"
    assert http("GET", url + "/fast")[:2] == (200, "ok")
    answer: list = []
    client = threading.Thread(target=lambda: answer.append(http("GET", url + "/slow", timeout=20)))
    client.start()
    assert entered.wait(10)
    server.stop()
    deadline = time.monotonic() + 10
    while not _refused(server.port):
        assert time.monotonic() < deadline, "still accepting connections after stop()"
        time.sleep(0.02)
    assert not server.stopped.is_set()  # still draining the request in flight
    release.set()
    client.join(20)
    status, text, _ = answer[0]
    assert status == 200 and text == "finished " + "x" * 100_000
    assert server.stopped.wait(10)
    runner.join(10)


def test_an_idle_server_stops_at_once():
    server = HttpServer(Flask("idle"), host="127.0.0.1", port=0, threads=2)
    runner = threading.Thread(target=server.run, daemon=True)
    runner.start()
    server.stop()
    assert server.stopped.wait(5)
