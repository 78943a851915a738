"""Start and stop a real `redis-server` on a free port for the tests."""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator

import pytest
import redis


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RedisServer:
    """A throwaway redis-server: no persistence, its own temp dir; `stop()`/`start()` for
    outage tests (the port stays the same)."""

    def __init__(self, port: int | None = None, password: str | None = None, args: tuple[str, ...] = ()):
        self.binary = shutil.which("redis-server")
        self.port = port or free_port()
        self.password = password  # --requirepass
        self.args = args  # more redis-server options, e.g. ("--replicaof", "127.0.0.1", "6380")
        self.dir = tempfile.mkdtemp(prefix="busbot-redis-")
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        self.proc = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", self.dir, "--daemonize", "no",
             *(["--requirepass", self.password] if self.password else []), *self.args],
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


def freezable_server() -> Iterator[RedisServer]:
    """A server a test may freeze (SIGSTOP): thawed before it is stopped. Use as a fixture."""
    if not require_binary():
        pytest.skip("redis-server not installed")
    server = RedisServer().start()
    yield server
    os.kill(server.proc.pid, signal.SIGCONT)
    server.stop()


def until(what: str, predicate: Callable[[], object], timeout: float = 120) -> object:
    """`predicate()`'s first truthy answer, polled; a Redis that cannot answer yet counts as no."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            got = predicate()
            if got:
                return got
        except (redis.ConnectionError, redis.TimeoutError):
            pass
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not happen within {timeout}s")
        time.sleep(0.05)


class RedisCluster:
    """A throwaway 3-primary Redis Cluster on free ports, each node in its own temp dir;
    `url` names the first node (busbot discovers the others). `replicas`: replicas per
    primary; `node_timeout_ms`: how long a silent node takes to be failed over (a replica
    is promoted a second or two after it with 1000)."""

    def __init__(self, primaries: int = 3, replicas: int = 0, node_timeout_ms: int = 5000):
        self.binary = shutil.which("redis-server")
        self.replicas, self.node_timeout_ms = replicas, node_timeout_ms
        nodes = primaries * (1 + replicas)
        self.ports = [free_port() for _ in range(nodes)]
        self.bus_ports = [free_port() for _ in range(nodes)]  # port + 10000 may be > 65535
        self.dir = tempfile.mkdtemp(prefix="busbot-cluster-")
        self.procs: list[subprocess.Popen] = []
        self.relays: dict[int, ReplicationProxy] = {}  # node port -> the relay it announces

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.ports[0]}/0"

    def start(self) -> RedisCluster:
        try:
            return self._start()
        except BaseException:
            self.stop()  # no node left running behind a failed start
            raise

    def _start(self) -> RedisCluster:
        for port in self.ports:
            self.procs.append(self._spawn(port))
        for port in self.ports:
            _wait_ping(redis.Redis(port=port), port, self.procs)
        subprocess.run([shutil.which("redis-cli") or "redis-cli", "--cluster", "create",
                        *(f"127.0.0.1:{p}" for p in self.ports), "--cluster-replicas", str(self.replicas),
                        "--cluster-yes"], check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, timeout=60)
        self.wait_ok(30)
        return self

    def _spawn(self, port: int) -> subprocess.Popen:
        """Start (or restart, with the nodes.conf it left) the node on `port`."""
        node_dir = os.path.join(self.dir, str(port))
        os.makedirs(node_dir, exist_ok=True)
        bus_port = self.bus_ports[self.ports.index(port)]
        return subprocess.Popen(
            [self.binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", node_dir, "--daemonize", "no",
             "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
             "--cluster-port", str(bus_port),
             "--cluster-node-timeout", str(self.node_timeout_ms)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def alive(self) -> list[int]:
        return [p for p, proc in zip(self.ports, self.procs) if proc.poll() is None]

    def wait_ok(self, timeout: float = 60) -> None:
        """Until every running node says cluster_state:ok and every replica's link to its
        primary is up (and caught up with it)."""
        deadline = time.monotonic() + timeout
        for port in self.alive():
            client = redis.Redis(port=port, decode_responses=True)
            while True:
                try:
                    if client.cluster("info").get("cluster_state") == "ok" and _in_sync(client):
                        break
                except redis.ConnectionError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError("the test Redis Cluster did not reach cluster_state:ok")
                time.sleep(0.05)

    def primary_of(self, key: str) -> int:
        """The port of the primary serving `key`'s slot, as a running node sees it now."""
        client = redis.Redis(port=self.alive()[0], decode_responses=True)
        slot = int(client.cluster("keyslot", key))
        behind = {relay.port: port for port, relay in self.relays.items()}
        for low, high, primary, *_ in client.cluster("slots"):
            if low <= slot <= high:
                return behind.get(int(primary[1]), int(primary[1]))
        raise RuntimeError(f"no node serves slot {slot}")

    def relay(self, port: int, timeout: float = 30) -> ReplicationProxy:
        """Put a relay in front of the primary on `port` (it announces the relay's port, so
        its replica and the clients connect through it) whose `hold()` holds back only the
        replication stream: the replica falls behind while clients carry on."""
        relay = ReplicationProxy(port, replication_only=True).start()
        self.relays[port] = relay
        replica = self.replica_of(port)
        redis.Redis(port=port).config_set("cluster-announce-port", relay.port)
        deadline = time.monotonic() + timeout
        for node in self.alive():
            client = redis.Redis(port=node, decode_responses=True)
            while not (f"127.0.0.1:{relay.port}" in client.cluster("nodes") and _in_sync(client) and (
                    node != replica or int(client.info("replication")["master_port"]) == relay.port)):
                if time.monotonic() > deadline:
                    raise RuntimeError(f"the nodes did not learn the relay in front of port {port}")
                time.sleep(0.05)
        return relay

    def replica_of(self, port: int) -> int:
        """The port of a replica of the primary on `port`."""
        client = redis.Redis(port=port, decode_responses=True)
        return int(client.info("replication")["slave0"]["port"])

    def kill(self, port: int) -> None:
        """SIGKILL the node on `port`: no goodbye to its replica or the others."""
        proc = self.procs[self.ports.index(port)]
        proc.kill()
        proc.wait(10)
        if port in self.relays:  # what it held back is lost with the node
            self.relays.pop(port).stop()

    def restart(self, port: int) -> None:
        """Start a killed node again; it rejoins (a failed-over primary as a replica)."""
        i = self.ports.index(port)
        self.procs[i] = self._spawn(port)
        _wait_ping(redis.Redis(port=port), port, [self.procs[i]])

    def wait_failover(self, key: str, dead: int, timeout: float = 60) -> int:
        """Until another node serves `key`'s slot (its replica promoted) and the cluster is ok
        again; that node's port."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                port = self.primary_of(key)
                if port != dead and redis.Redis(port=port, decode_responses=True).cluster("info").get(
                        "cluster_state") == "ok":
                    return port
            except redis.ConnectionError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"no replica took over from the node on port {dead} in time")
            time.sleep(0.05)

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.terminate()
        for proc in self.procs:
            proc.wait(10)
        self.procs = []
        for relay in self.relays.values():
            relay.stop()
        self.relays = {}
        shutil.rmtree(self.dir, ignore_errors=True)


def _in_sync(client: redis.Redis) -> bool:
    """A primary, or a replica whose link is up and that has all its primary sent."""
    info = client.info("replication")
    if info.get("role") != "slave":
        return True
    return info.get("master_link_status") == "up" and int(info.get("master_sync_in_progress", 0)) == 0


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


def _openssl(*args: str) -> None:
    subprocess.run(["openssl", *args], check=True, capture_output=True)


class TlsFiles:
    """A throwaway CA, a server certificate for 127.0.0.1/localhost and a client certificate,
    made with `openssl` in their own temp dir."""

    def __init__(self) -> None:
        self.dir = tempfile.mkdtemp(prefix="busbot-tls-")
        p = lambda name: os.path.join(self.dir, name)  # noqa: E731
        self.ca, self.ca_key = p("ca.crt"), p("ca.key")
        self.server_cert, self.server_key = p("server.crt"), p("server.key")
        self.client_cert, self.client_key = p("client.crt"), p("client.key")
        self.other_ca = p("other-ca.crt")  # a CA that signed nothing here
        _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", self.ca_key, "-out", self.ca,
                 "-days", "2", "-subj", "/CN=busbot test CA")
        _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", p("other-ca.key"),
                 "-out", self.other_ca, "-days", "2", "-subj", "/CN=some other CA")
        ext = p("san.ext")
        with open(ext, "w") as f:
            f.write("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
        for cert, key, cn, extra in ((self.server_cert, self.server_key, "localhost", ["-extfile", ext]),
                                     (self.client_cert, self.client_key, "busbot", [])):
            csr = cert + ".csr"
            _openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", csr, "-subj", f"/CN={cn}")
            _openssl("x509", "-req", "-in", csr, "-CA", self.ca, "-CAkey", self.ca_key, "-CAcreateserial",
                     "-out", cert, "-days", "2", *extra)

    def cleanup(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)


class TlsRedisServer:
    """A redis-server that only speaks TLS (no plain port), with certificates from `files`;
    `client_certs`: whether it requires a client certificate (mutual TLS)."""

    def __init__(self, files: TlsFiles, client_certs: bool = False, args: tuple[str, ...] = ()):
        self.files, self.client_certs, self.args = files, client_certs, args
        self.port = free_port()
        self.dir = tempfile.mkdtemp(prefix="busbot-redis-tls-")
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"rediss://127.0.0.1:{self.port}/0"

    def start(self) -> TlsRedisServer:
        f = self.files
        self.proc = subprocess.Popen(
            [shutil.which("redis-server") or "redis-server", "--port", "0", "--tls-port", str(self.port),
             "--bind", "127.0.0.1", "--tls-cert-file", f.server_cert, "--tls-key-file", f.server_key,
             "--tls-ca-cert-file", f.ca, "--tls-auth-clients", "yes" if self.client_certs else "no",
             "--tls-replication", "yes", "--save", "", "--appendonly", "no", "--dir", self.dir, *self.args],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        client = redis.Redis(port=self.port, ssl=True, ssl_ca_certs=f.ca, ssl_certfile=f.client_cert,
                             ssl_keyfile=f.client_key)
        _wait_ping(client, self.port, [self.proc])
        return self

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)
        shutil.rmtree(self.dir, ignore_errors=True)


MASTER = "busbot"


class SentinelSetup:
    """One primary, one replica and three Sentinels (quorum 2) on free ports. `via_proxy`: the
    replica replicates through a `ReplicationProxy` the test can hold, so the primary can
    run ahead of its replica (a lagging replica on demand). `tls`: every server and Sentinel
    speaks TLS only, with these certificates."""

    def __init__(self, down_after_ms: int = 1000, via_proxy: bool = False, tls: TlsFiles | None = None):
        self.down_after_ms, self.tls = down_after_ms, tls
        self.primary: RedisServer | TlsRedisServer = TlsRedisServer(tls) if tls else RedisServer()
        self.proxy = ReplicationProxy(self.primary.port) if via_proxy else None
        upstream = self.proxy.port if self.proxy else self.primary.port
        replicaof = ("--replicaof", "127.0.0.1", str(upstream))
        self.replica = TlsRedisServer(tls, args=replicaof) if tls else RedisServer(args=replicaof)
        self.sentinel_ports = [free_port() for _ in range(3)]
        self.dir = tempfile.mkdtemp(prefix="busbot-sentinel-")
        self.sentinels: list[subprocess.Popen] = []

    @property
    def addresses(self) -> str:
        """BUS_REDIS_SENTINELS"""
        return ",".join(f"127.0.0.1:{p}" for p in self.sentinel_ports)

    def client(self, port: int) -> redis.Redis:
        """A client of one server or Sentinel of this setup (TLS when it is)."""
        ssl = dict(ssl=True, ssl_ca_certs=self.tls.ca) if self.tls else {}
        return redis.Redis(port=port, decode_responses=True, **ssl)

    def start(self) -> SentinelSetup:
        self.primary.start()
        if self.proxy:
            self.proxy.start()
        self.replica.start()
        for port in self.sentinel_ports:
            conf = os.path.join(self.dir, f"sentinel-{port}.conf")
            t = self.tls
            listen = (f"port 0\ntls-port {port}\ntls-cert-file {t.server_cert}\ntls-key-file {t.server_key}\n"
                      f"tls-ca-cert-file {t.ca}\ntls-auth-clients no\ntls-replication yes\n") if t else f"port {port}\n"
            with open(conf, "w") as f:
                f.write(f"{listen}bind 127.0.0.1\ndir {self.dir}\n"
                        f"sentinel monitor {MASTER} 127.0.0.1 {self.primary.port} 2\n"
                        f"sentinel down-after-milliseconds {MASTER} {self.down_after_ms}\n"
                        f"sentinel failover-timeout {MASTER} 60000\n"
                        f"sentinel parallel-syncs {MASTER} 1\n")
            self.sentinels.append(subprocess.Popen(
                [shutil.which("redis-sentinel") or "redis-sentinel", conf],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        deadline = time.monotonic() + 60
        for port in self.sentinel_ports:  # each knows the replica and the two other Sentinels
            client = self.client(port)
            while True:
                try:
                    master = client.sentinel_master(MASTER)
                    if master.get("num-slaves", 0) >= 1 and master.get("num-other-sentinels", 0) >= 2:
                        break
                except redis.ConnectionError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError("the test Sentinels did not find the replica and each other")
                time.sleep(0.1)
        self.wait_in_sync()
        return self

    def primary_port(self) -> int:
        """The port the Sentinels name as the primary now."""
        _, port = self.client(self.sentinel_ports[0]).sentinel_get_master_addr_by_name(MASTER)
        return int(port)

    def wait_in_sync(self, timeout: float = 30) -> None:
        """Until the replica has everything the primary wrote."""
        primary, replica = self.client(self.primary.port), self.client(self.replica.port)
        deadline = time.monotonic() + timeout
        while True:
            target = primary.info("replication")["master_repl_offset"]
            info = replica.info("replication")
            if info.get("master_link_status") == "up" and info.get("slave_repl_offset", -1) >= target:
                return
            if time.monotonic() > deadline:
                raise RuntimeError("the test replica did not catch up with its primary")
            time.sleep(0.05)

    def kill_primary(self) -> None:
        """SIGKILL: no goodbye to the replica or the Sentinels."""
        if self.primary.proc is not None:
            self.primary.proc.kill()
            self.primary.proc.wait(10)
            self.primary.proc = None
        if self.proxy:
            self.proxy.stop()

    def wait_failover(self, timeout: float = 60) -> int:
        """Until the Sentinels name the replica as the primary; its port."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                if self.primary_port() == self.replica.port and \
                        self.client(self.replica.port).info("replication")["role"] == "master":
                    return self.replica.port
            except redis.ConnectionError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("the Sentinels did not promote the replica in time")
            time.sleep(0.1)

    def stop(self) -> None:
        for proc in self.sentinels:
            if proc.poll() is None:
                proc.terminate()
        for proc in self.sentinels:
            proc.wait(10)
        self.sentinels = []
        if self.proxy:
            self.proxy.stop()
        self.primary.stop()
        self.replica.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


class ReplicationProxy:
    """A TCP relay between a replica and its primary. `hold()` stops relaying the primary's
    stream (the replica falls behind; its primary still believes it connected), `release()`
    sends on what was held back. `replication_only`: clients go through it too (a cluster
    node announcing the relay's port), and only connections on which a replica spoke
    (REPLCONF, PSYNC) are held."""

    def __init__(self, upstream_port: int, replication_only: bool = False):
        import threading

        self.upstream_port = upstream_port
        self.replication_only = replication_only
        self.port = free_port()
        self.flowing = threading.Event()
        self.flowing.set()
        self.closed = threading.Event()
        self._server: socket.socket | None = None
        self._sockets: list[socket.socket] = []
        self._threading = threading

    def start(self) -> ReplicationProxy:
        self._server = socket.create_server(("127.0.0.1", self.port))
        self._threading.Thread(target=self._accept, daemon=True).start()
        return self

    def hold(self) -> None:
        self.flowing.clear()

    def release(self) -> None:
        self.flowing.set()

    def _accept(self) -> None:
        assert self._server is not None
        while not self.closed.is_set():
            try:
                down, _ = self._server.accept()
                up = socket.create_connection(("127.0.0.1", self.upstream_port))
            except OSError:
                return
            self._sockets += [down, up]
            replica = [not self.replication_only]  # whether this connection is a replica's
            self._threading.Thread(target=self._pipe, args=(down, up, False, replica), daemon=True).start()
            self._threading.Thread(target=self._pipe, args=(up, down, True, replica), daemon=True).start()

    def _pipe(self, src: socket.socket, dst: socket.socket, held: bool, replica: list[bool]) -> None:
        try:
            while not self.closed.is_set():
                data = src.recv(65536)
                if not data:
                    break
                if not held and (b"REPLCONF" in data.upper() or b"PSYNC" in data.upper()):
                    replica[0] = True
                if held and replica[0]:
                    self.flowing.wait()
                if self.closed.is_set():
                    break
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def stop(self) -> None:
        """Drop every connection; what was held back is lost, as with a dead primary."""
        self.closed.set()
        self.flowing.set()
        for s in [*self._sockets, *([self._server] if self._server else [])]:
            try:
                s.close()
            except OSError:
                pass
