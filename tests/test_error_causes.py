"""A Redis error names its real cause (wrong password, TLS mismatch, refused, unknown host),
in the router's reply and at the console's start-up, against real servers."""
from __future__ import annotations

import shutil
import socket
import subprocess
import time

import pytest
import redis

from bot.bus import Bus
from bot.cli import main
from bot.connection import connect
from bot.redis_errors import cause, describe, is_unavailable
from commands import router
from tests.alerts.helpers import FakeTransport
from tests.redis_server import RedisServer, free_port, require_binary
from tests.test_authorization import runtime

PASSWORD = "right-Pw-42"


@pytest.fixture(scope="module")
def locked_server():
    if not require_binary():
        pytest.skip("redis-server not installed (CI installs it)")
    server = RedisServer(password=PASSWORD).start()
    yield server
    server.stop()


def error_of(url: str) -> Exception:
    with pytest.raises(redis.RedisError) as caught:
        connect(url).ping()
    return caught.value


def urls(locked_server) -> dict[str, str]:
    port = locked_server.port
    return {
        "auth": f"redis://:wrong-pw@127.0.0.1:{port}/0",
        "auth-none": f"redis://127.0.0.1:{port}/0",
        "refused": f"redis://127.0.0.1:{free_port()}/0",
        "unknown_host": "redis://no-such-host.invalid:6379/0",
        "tls": f"rediss://127.0.0.1:{port}/0",
    }


@pytest.mark.parametrize("case", ["auth", "auth-none", "refused", "unknown_host", "tls"])
def test_the_cause_is_named(locked_server, case):
    url = urls(locked_server)[case]
    exc = error_of(url)
    assert is_unavailable(exc)
    assert cause(exc) == case.split("-")[0]
    sentence, hint = describe(exc, url)
    assert "not answering" not in sentence and sentence.endswith(".") and hint


@pytest.mark.parametrize("reply", ["WRONGPASS invalid username-password pair or user is disabled.",
                                   "NOAUTH Authentication required."])
def test_auth_replies_are_authentication_failures(reply):
    exc = redis.ResponseError(reply)
    assert is_unavailable(exc) and cause(exc) == "auth"
    assert cause(redis.exceptions.AuthenticationWrongNumberOfArgsError("wrong number")) == "auth"
    assert not is_unavailable(redis.ResponseError("WRONGTYPE Operation against a key"))


def test_wrong_password_through_the_router(locked_server, settings):
    url = urls(locked_server)["auth"]
    bus = Bus(connect(url), settings, where=url)
    reply = router.run("health", runtime(bus), "U1")
    assert reply.template == "error"
    assert "authentication failed" in reply.text and "not answering" not in reply.text
    assert "wrong-pw" not in reply.text  # the where is redacted even when passed raw


def test_a_wrong_password_reply_after_connecting_is_still_a_sentence(monkeypatch, settings):
    import fakeredis

    bus = Bus(fakeredis.FakeRedis(decode_responses=True), settings, where="redis://h:1")

    def refuse(*args, **kwargs):
        raise redis.ResponseError("NOAUTH Authentication required.")
    monkeypatch.setattr(bus.r, "execute_command", refuse)
    reply = router.run("dlq", runtime(bus), "U1")
    assert reply.template == "error" and "authentication failed" in reply.text


@pytest.mark.parametrize("case,words", [("auth", "authentication failed"), ("refused", "refused the connection"),
                                        ("unknown_host", "unknown host"), ("tls", "TLS handshake")])
def test_console_start_up_names_the_cause(locked_server, capsys, monkeypatch, case, words):
    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.setattr("bot.console.cli._log_to_file", lambda: None)
    assert main(["console", "--redis", urls(locked_server)[case], "-c", "health"]) == 1
    out = capsys.readouterr()
    text = out.out + out.err
    assert words in text and "check that Redis is up" not in text and "Traceback" not in text
    assert "wrong-pw" not in text


def test_the_redis_alert_names_the_cause(locked_server, settings):
    from bot.alerts.runner import AlertRunner

    url = urls(locked_server)["auth"]
    alerting = settings.model_copy(update={"bus_alert_channel": "C_ALERTS", "bus_alert_for": 0})
    transport = FakeTransport()
    runner = AlertRunner(Bus(connect(url), alerting, where=url), transport)
    assert runner.check() is None and runner.check() is None  # down, then held long enough to fire
    posts = [c["message"] for c in transport.calls]
    shown = " ".join(str(p) for p in posts)
    assert posts and "authentication failed" in shown and "wrong-pw" not in shown


@pytest.mark.parametrize("exc,kind,words", [
    (redis.exceptions.BusyLoadingError("Redis is loading the dataset in memory"), "loading", "still loading"),
    (redis.ConnectionError("Connection closed by server."), "closed", "closed the connection"),
    (redis.TimeoutError("Timeout reading from socket"), "timeout", "did not answer in time"),
])
def test_other_causes_read_plainly(exc, kind, words):
    assert is_unavailable(exc) and cause(exc) == kind
    sentence, hint = describe(exc, "redis://:pw@h:1/0")
    assert words in sentence and "pw" not in sentence and hint


def test_a_plain_client_against_a_tls_port_is_told_about_tls(tmp_path):
    if not (require_binary() and shutil.which("openssl")):
        pytest.skip("needs redis-server and openssl")
    key, cert = tmp_path / "k.pem", tmp_path / "c.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key),
                    "-out", str(cert), "-days", "1", "-subj", "/CN=localhost"], check=True, capture_output=True)
    port = free_port()
    server = subprocess.Popen([shutil.which("redis-server"), "--port", "0", "--tls-port", str(port),
                               "--bind", "127.0.0.1", "--tls-cert-file", str(cert), "--tls-key-file", str(key),
                               "--tls-ca-cert-file", str(cert), "--tls-auth-clients", "no", "--save", "",
                               "--dir", str(tmp_path)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while True:  # wait until the TLS port accepts connections (or the build has no TLS)
            if server.poll() is not None:
                pytest.skip("this redis-server was built without TLS")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "the TLS redis-server did not start"
                time.sleep(0.05)
        url = f"redis://127.0.0.1:{port}/0"
        sentence, hint = describe(error_of(url), url)
        assert "closed the connection" in sentence and "rediss://" in hint
    finally:
        server.terminate()
        server.wait(10)
