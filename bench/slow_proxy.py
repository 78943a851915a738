"""A TCP proxy that delays every reply from Redis: a slow Redis without touching Redis."""
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
            threading.Thread(target=_pump, args=(client, upstream, 0), daemon=True).start()
            threading.Thread(target=_pump, args=(upstream, client, self.delay_s), daemon=True).start()


def _pump(src: socket.socket, dst: socket.socket, delay_s: float) -> None:
    with src, dst:
        while data := src.recv(65536):
            time.sleep(delay_s)
            dst.sendall(data)
