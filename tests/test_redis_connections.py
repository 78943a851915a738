"""How busbot reaches Redis: TLS with its own CA and mutual TLS, a Sentinel-managed primary,
the mode override, and errors that name their cause (real servers made by the tests)."""
from __future__ import annotations

import shutil
import time

import pytest
import redis

from bot.bus import Bus
from bot.connection import connect, embedded, open_bus
from bot.durability import run_script, wait_replicas, wanted
from bot.redis_errors import NotReplicated, cause, describe, is_refused, is_unavailable, refusal, refused_keys
from bot.settings import Settings, SettingsError, load_settings
from commands import router
from tests.redis_server import MASTER, SentinelSetup, TlsFiles, TlsRedisServer, require_binary
from tests.runtime_helpers import manual_runtime


def settings(**kw) -> Settings:
    return Settings(_env_file=None, **kw)


@pytest.fixture(scope="module")
def tls_files():
    if not (require_binary() and shutil.which("openssl")):
        pytest.skip("needs redis-server and openssl")
    files = TlsFiles()
    yield files
    files.cleanup()


@pytest.fixture(scope="module")
def mutual_tls(tls_files):
    """A TLS-only redis-server that requires a client certificate."""
    try:
        server = TlsRedisServer(tls_files, client_certs=True).start()
    except RuntimeError:
        pytest.skip("this redis-server was built without TLS")
    yield server
    server.stop()


def tls_settings(files: TlsFiles, **kw) -> Settings:
    return settings(bus_redis_ca_file=files.ca, bus_redis_cert_file=files.client_cert,
                    bus_redis_key_file=files.client_key, **kw)


def test_mutual_tls_with_our_own_ca(mutual_tls, tls_files):
    bus = open_bus(tls_settings(tls_files), mutual_tls.url)
    assert bus.r.ping() and bus.mode == "standalone"
    reply = router.run("redis", manual_runtime(bus), "U1")
    assert reply.template == "redis" and reply.context["mode"] == "standalone"
    assert "(standalone)" in reply.text
    # the host name is checked against the certificate: localhost is in it too
    assert connect(mutual_tls.url.replace("127.0.0.1", "localhost"), tls_settings(tls_files)).ping()


@pytest.mark.parametrize("case", ["system CAs", "another CA", "no client certificate"])
def test_tls_failures_are_named(mutual_tls, tls_files, case):
    s = {"system CAs": settings(),
         "another CA": settings(bus_redis_ca_file=tls_files.other_ca, bus_redis_cert_file=tls_files.client_cert,
                                bus_redis_key_file=tls_files.client_key),
         "no client certificate": settings(bus_redis_ca_file=tls_files.ca)}[case]
    with pytest.raises(redis.RedisError) as caught:
        connect(mutual_tls.url, s).ping()
    assert is_unavailable(caught.value)
    sentence, hint = describe(caught.value, mutual_tls.url)
    if case == "no client certificate":  # the server hangs up after the handshake, or fails it
        assert cause(caught.value) in ("tls", "closed"), caught.value
    else:
        assert cause(caught.value) == "tls" and "TLS handshake" in sentence and "BUS_REDIS_CA_FILE" in hint


def test_tls_files_that_do_not_exist_stop_start_up(tmp_path):
    with pytest.raises(SettingsError, match="BUS_REDIS_CA_FILE: names no readable file"):
        load_settings(_env_file=None, bus_redis_ca_file=str(tmp_path / "nope.pem"))
    with pytest.raises(SettingsError, match="BUS_REDIS_SENTINEL_MASTER"):
        load_settings(_env_file=None, bus_redis_sentinels="127.0.0.1:26379")
    with pytest.raises(SettingsError, match="BUS_REDIS_SENTINELS: 'sentinel-1' is not host:port"):
        load_settings(_env_file=None, bus_redis_sentinels="sentinel-1", bus_redis_sentinel_master="m")
    with pytest.raises(SettingsError, match="BUS_REDIS_MODE"):
        load_settings(_env_file=None, bus_redis_mode="replica")


def test_the_mode_is_recorded_and_can_be_forced(redis_server):
    assert open_bus(settings(), redis_server.url).mode == "standalone"
    assert open_bus(settings()).mode == "embedded"
    forced = settings(bus_redis_mode="cluster")
    with pytest.raises(redis.ConnectionError) as caught:
        open_bus(forced, redis_server.url)
    sentence, hint = describe(caught.value, redis_server.url)
    assert "not a cluster node" in sentence and "BUS_REDIS_MODE" in hint


def sentinel_settings(setup: SentinelSetup, **kw) -> Settings:
    return settings(bus_redis_sentinels=setup.addresses, bus_redis_sentinel_master=MASTER, **kw)


def test_a_sentinel_managed_primary(sentinels):
    bus = open_bus(sentinel_settings(sentinels))
    assert bus.mode == "sentinel" and bus.r.set("k", "v") and bus.r.get("k") == "v"
    assert MASTER in bus.where and sentinels.addresses.split(",")[0] in bus.where
    assert redis.Redis(port=sentinels.primary.port, decode_responses=True).get("k") == "v"
    reply = router.run("redis", manual_runtime(bus), "U1")
    assert reply.template == "redis" and reply.context["mode"] == "sentinel"
    assert bus.url  # the command workers reach it with the same settings


def test_an_unknown_master_name_reads_plainly(sentinels):
    bus = open_bus(sentinel_settings(sentinels).model_copy(update={"bus_redis_sentinel_master": "nope"}))
    reply = router.run("health", manual_runtime(bus), "U1")
    assert reply.template == "error" and "No Sentinel named a primary" in reply.text


def test_wait_replicas_on_a_sentinel_primary(sentinels):
    bus = open_bus(sentinel_settings(sentinels, bus_wait_replicas=1, bus_wait_timeout=0.5))
    assert wanted(bus) == 1
    with bus.r.client() as client:
        client.set("durable", "1")
        assert wait_replicas(bus, client) == 1
    with bus.r.client() as client:
        client.set("durable", "2")
        with pytest.raises(NotReplicated) as caught:
            wait_replicas(bus, client, n=2)  # there is one replica only
    assert is_unavailable(caught.value) and cause(caught.value) == "not_replicated"
    assert "replicas did not confirm" in describe(caught.value, bus.where)[0]
    assert run_script(bus, "lease", ["lease:test"], ["acquire", "me", 5000]) == 1
    assert redis.Redis(port=sentinels.replica.port).get("lease:test") == b"me"  # on the replica already


def test_no_waiting_where_it_means_nothing():
    assert wanted(Bus(embedded(), settings(bus_wait_replicas=2))) == 0
    assert wanted(Bus(embedded(), settings())) == 0


@pytest.mark.parametrize("reply,command,keys,says", [
    ("NOPERM this user has no permissions to run the 'xdel' command", ("XDEL", "hyvve:dlq", "1-0"), None,
     "the `XDEL` command"),
    ("NOPERM this user has no permissions to access one of the keys used as arguments",
     ("XADD", "hyvve:events", "*", "event", "{}"), ["hyvve:events"], "key `hyvve:events` (through `XADD`)"),
    ("The user executing the script can't access at least one of the keys mentioned in the command arguments",
     ("EVALSHA", "abc", 2, "hyvve:dlq", "hyvve:events", "x"), ["hyvve:dlq", "hyvve:events"],
     "keys `hyvve:dlq`, `hyvve:events` (through a script)"),
    ("NOPERM this user has no permissions to access one of the keys used as arguments",
     ("XREADGROUP", "GROUP", "g", "c", "COUNT", 1, "STREAMS", "a", "b", ">", ">"), ["a", "b"], "keys `a`, `b`"),
])
def test_an_acl_refusal_names_the_command_or_key(reply, command, keys, says):
    from bot.redis_errors import note_refusal

    exc = redis.exceptions.NoPermissionError(reply) if reply.startswith("NOPERM") else redis.ResponseError(reply)
    assert is_refused(exc) and not is_unavailable(exc)
    if keys is not None:
        assert refused_keys(command) == keys
    note_refusal(exc, command)
    sentence, hint = refusal(exc)
    assert says in sentence and sentence.endswith(".") and "docs/redis.md" in hint
    assert not is_refused(redis.ResponseError("WRONGTYPE Operation against a key"))


@pytest.mark.parametrize("exc,kind,words", [
    (redis.exceptions.ClusterDownError("The cluster is down"), "cluster_down", "hash slots have no node"),
    (redis.exceptions.SlotNotCoveredError("Slot 5 not covered by the cluster"), "cluster_down", "hash slots"),
    (redis.sentinel.MasterNotFoundError("No master found for 'bus'"), "no_primary", "No Sentinel named"),
])
def test_cluster_and_sentinel_outages_read_plainly(exc, kind, words):
    assert is_unavailable(exc) and cause(exc) == kind
    sentence, hint = describe(exc, "bus (Sentinels s1:26379)")
    assert words in sentence and hint


def test_sentinels_and_servers_over_tls_through_a_failover(tls_files):
    if not shutil.which("redis-sentinel"):
        pytest.skip("needs redis-sentinel")
    try:
        setup = SentinelSetup(tls=tls_files).start()
    except RuntimeError:
        pytest.skip("this redis-server was built without TLS")
    try:
        bus = open_bus(sentinel_settings(setup, bus_redis_ca_file=tls_files.ca), f"rediss://{MASTER}/0")
        assert bus.mode == "sentinel" and bus.r.set("k", "before") and bus.r.get("k") == "before"
        setup.wait_in_sync()
        setup.kill_primary()
        setup.wait_failover()
        deadline = time.monotonic() + 30
        while True:  # the first command after the failover may still meet the dead primary
            try:
                assert bus.r.get("k") == "before" and bus.r.set("k", "after")
                break
            except redis.ConnectionError:
                assert time.monotonic() < deadline, "no command went through after the failover"
                time.sleep(0.1)
        assert setup.client(setup.replica.port).get("k") == "after"
        # a plain client of the same Sentinels is told about TLS, not left guessing
        plain = open_bus(sentinel_settings(setup), f"redis://{MASTER}/0")
        with pytest.raises(redis.ConnectionError) as caught:
            plain.r.ping()
        assert is_unavailable(caught.value)
        assert "No Sentinel named a primary" in describe(caught.value, plain.where)[0]
    finally:
        setup.stop()


def test_too_few_replicas_for_bus_wait_replicas_are_named_at_start_up(redis_server, sentinels, caplog):
    with caplog.at_level("WARNING", logger="bot.connection"):
        open_bus(settings(bus_wait_replicas=1), redis_server.url)
        open_bus(sentinel_settings(sentinels, bus_wait_replicas=1))  # one replica: enough
        open_bus(settings(bus_wait_replicas=1))  # embedded: never waits
    warnings = [r.getMessage() for r in caplog.records]
    assert len(warnings) == 1, warnings
    assert "BUS_WAIT_REPLICAS=1 but Redis at" in warnings[0] and "0 replica(s) connected" in warnings[0]
