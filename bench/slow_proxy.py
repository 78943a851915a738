"""A TCP proxy that delays every reply from Redis: a slow Redis without touching Redis.

The delay falls once on each reply (the first bytes after a request), not on every chunk
of a large one: a 1 MB XRANGE reply arrives in many reads, and a far Redis adds its
latency once, not once per 64 KB.
"""
from __future__ import annotations

import socket
import threading
import time


class SlowProxy:
    def __init__(self, upstream_port: int, delay_s: float):
        self.upstream_port, self.delay_s = upstream_port, delay_s
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]

    def start(self) -> SlowProxy:
        threading.Thread(target=self._accept, daemon=True).start()
        return self

    def _accept(self) -> None:
        while True:
            client, _ = self.listener.accept()
            upstream = socket.create_connection(("127.0.0.1", self.upstream_port))
            asked = threading.Event()  # a request went up since the last delayed reply
            threading.Thread(target=_requests, args=(client, upstream, asked), daemon=True).start()
            threading.Thread(target=_replies, args=(upstream, client, asked, self.delay_s), daemon=True).start()


def _requests(src: socket.socket, dst: socket.socket, asked: threading.Event) -> None:
    with src, dst:
        while data := src.recv(65536):
            asked.set()
            dst.sendall(data)


def _replies(src: socket.socket, dst: socket.socket, asked: threading.Event, delay_s: float) -> None:
    with src, dst:
        while data := src.recv(65536):
            if asked.is_set():
                asked.clear()
                time.sleep(delay_s)
            dst.sendall(data)
