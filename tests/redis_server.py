"""Start and stop a real `redis-server` on a free port for the tests."""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time

import redis


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RedisServer:
    """A throwaway redis-server: no persistence, its own temp dir; `stop()`/`start()` for
    outage tests (the port stays the same)."""

    def __init__(self, port: int | None = None, password: str | None = None):
        self.binary = shutil.which("redis-server")
        self.port = port or free_port()
        self.password = password  # --requirepass
        self.dir = tempfile.mkdtemp(prefix="busbot-redis-")
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> "RedisServer":
        self.proc = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", self.dir, "--daemonize", "no",
             *(["--requirepass", self.password] if self.password else [])],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        client = redis.Redis(port=self.port, password=self.password)
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                return self
            except redis.ConnectionError:
                if time.monotonic() > deadline or self.proc.poll() is not None:
                    raise RuntimeError(f"redis-server did not start on port {self.port}")
                time.sleep(0.05)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)
        self.proc = None


def require_binary() -> bool:
    """True when redis-server is present; in CI its absence is a failure, not a skip."""
    if shutil.which("redis-server"):
        return True
    if os.environ.get("CI"):
        raise RuntimeError("CI=true but redis-server is not installed: .ci/run must install it")
    return False
