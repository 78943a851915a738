"""What "Redis is unreachable" means, in one place, and what to tell the operator.

`UNREACHABLE` is the one tuple every catch site uses (in redis-py, `TimeoutError` is not a
subclass of `ConnectionError`, so catching only the latter lets a frozen Redis kill a loop).
`describe()` turns such an error into one sentence that names the real cause (wrong
password, TLS mismatch, refused, timed out, unknown host) and what to do about it.
"""
from __future__ import annotations

import socket
import ssl

import redis
import redis.exceptions

from bot.redact import redact_text

UNREACHABLE: tuple[type[Exception], ...] = (redis.ConnectionError, redis.TimeoutError)

# a reply (not a broken connection) that still means "busbot's credentials are wrong"
_AUTH_REPLIES = ("WRONGPASS", "NOAUTH", "INVALIDPASSWORD")


def is_auth_error(exc: BaseException) -> bool:
    """Authentication failed: a wrong password or user, or none given where one is needed."""
    if isinstance(exc, (redis.AuthenticationError, redis.exceptions.AuthenticationWrongNumberOfArgsError)):
        return True
    return isinstance(exc, redis.ResponseError) and str(exc).lstrip().upper().startswith(_AUTH_REPLIES)


def is_unavailable(exc: BaseException) -> bool:
    """Redis cannot be used right now: unreachable, or it refuses busbot's credentials."""
    return isinstance(exc, UNREACHABLE) or is_auth_error(exc)


def _chain(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in seen:
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen


def cause(exc: BaseException) -> str:
    """One of auth, loading, tls, refused, timeout, unknown_host, closed, unreachable."""
    if is_auth_error(exc):
        return "auth"
    if isinstance(exc, redis.exceptions.BusyLoadingError):
        return "loading"
    chain = _chain(exc)
    text = " ".join(str(e) for e in chain).lower()
    if any(isinstance(e, ssl.SSLError) for e in chain) or any(
            mark in text for mark in ("_ssl.c", "[ssl", "ssl:", "handshake", "wrong version number",
                                      "certificate verify")):
        return "tls"
    if any(isinstance(e, socket.gaierror) for e in chain) or "name or service not known" in text \
            or "nodename nor servname" in text or "temporary failure in name resolution" in text:
        return "unknown_host"
    if any(isinstance(e, ConnectionRefusedError) for e in chain) or "connection refused" in text:
        return "refused"
    if any(isinstance(e, (redis.TimeoutError, TimeoutError, socket.timeout)) for e in chain) \
            or "timed out" in text or "timeout" in text:
        return "timeout"
    if any(isinstance(e, ConnectionResetError) for e in chain) or "closed by server" in text \
            or "reset by peer" in text:
        return "closed"
    return "unreachable"


def describe(exc: BaseException, where: str) -> tuple[str, str]:
    """(one sentence naming the real cause, what to do about it) for a Redis error.

    `where` is shown as given after redaction, so a caller may pass the raw URL."""
    where = redact_text(where)
    kind = cause(exc)
    if kind == "auth":
        return (f"Redis at {where} refused busbot's credentials (authentication failed).",
                "Check the password (and user name) in REDIS_URL against the server's.")
    if kind == "loading":
        return (f"Redis at {where} is still loading its data after a restart.",
                "Wait a few seconds and try again.")
    if kind == "closed":
        return (f"Redis at {where} closed the connection as soon as busbot spoke.",
                "If that port expects TLS, use rediss:// in REDIS_URL; otherwise check the "
                "server's log (client limits, protected mode).")
    if kind == "tls":
        return (f"The TLS handshake with Redis at {where} failed.",
                "Use rediss:// only for a TLS port and redis:// for a plain one, "
                "and check the certificate settings (BUS_REDIS_CA_FILE).")
    if kind == "unknown_host":
        return (f"The host of {where} could not be found (unknown host name).",
                "Check the host name in REDIS_URL and the DNS of this machine.")
    if kind == "refused":
        return (f"Redis at {where} refused the connection: nothing listens on that port.",
                "Check the host and port in REDIS_URL and that Redis is up "
                "(`redis-cli -u $REDIS_URL ping`).")
    if kind == "timeout":
        return (f"Redis at {where} did not answer in time.",
                "Check that Redis is up and not overloaded, and that this machine can reach it.")
    return (f"Redis is not answering at {where}.",
            "Check REDIS_URL and that Redis is up (`redis-cli -u $REDIS_URL ping`), then try again.")
