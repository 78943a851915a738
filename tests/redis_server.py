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

    def start(self) -> RedisServer:
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
            except redis.ConnectionError as exc:
                if time.monotonic() > deadline or self.proc.poll() is not None:
                    raise RuntimeError(f"redis-server did not start on port {self.port}") from exc
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


class RedisCluster:
    """A throwaway 3-primary Redis Cluster (no replicas) on free ports, each node in its own
    temp dir; `url` names the first node (busbot discovers the others)."""

    def __init__(self, primaries: int = 3):
        self.binary = shutil.which("redis-server")
        self.ports = [free_port() for _ in range(primaries)]
        self.bus_ports = [free_port() for _ in range(primaries)]  # port + 10000 may be > 65535
        self.dir = tempfile.mkdtemp(prefix="busbot-cluster-")
        self.procs: list[subprocess.Popen] = []

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.ports[0]}/0"

    def start(self) -> RedisCluster:
        for port, bus_port in zip(self.ports, self.bus_ports):
            node_dir = os.path.join(self.dir, str(port))
            os.makedirs(node_dir, exist_ok=True)
            self.procs.append(subprocess.Popen(
                [self.binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                 "--appendonly", "no", "--dir", node_dir, "--daemonize", "no",
                 "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
                 "--cluster-port", str(bus_port),
                 "--cluster-node-timeout", "5000"],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        for port in self.ports:
            _wait_ping(redis.Redis(port=port), port, self.procs)
        subprocess.run([shutil.which("redis-cli") or "redis-cli", "--cluster", "create",
                        *(f"127.0.0.1:{p}" for p in self.ports), "--cluster-replicas", "0",
                        "--cluster-yes"], check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, timeout=60)
        deadline = time.monotonic() + 30
        for port in self.ports:  # every node must agree the cluster is up before tests use it
            client = redis.Redis(port=port, decode_responses=True)
            while client.cluster("info").get("cluster_state") != "ok":
                if time.monotonic() > deadline:
                    raise RuntimeError("the test Redis Cluster did not reach cluster_state:ok")
                time.sleep(0.05)
        return self

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.terminate()
        for proc in self.procs:
            proc.wait(10)
        self.procs = []
        shutil.rmtree(self.dir, ignore_errors=True)


def _wait_ping(client: redis.Redis, port: int, procs: list[subprocess.Popen]) -> None:
    deadline = time.monotonic() + 10
    while True:
        try:
            client.ping()
            return
        except redis.ConnectionError as exc:
            if time.monotonic() > deadline or any(p.poll() is not None for p in procs):
                raise RuntimeError(f"redis-server did not start on port {port}") from exc
            time.sleep(0.05)
