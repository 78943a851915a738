"""What "Redis is unreachable" means, in one place, and what to tell the operator.

`UNREACHABLE` is the one tuple every catch site uses (in redis-py, `TimeoutError` is not a
subclass of `ConnectionError`, so catching only the latter lets a frozen Redis kill a loop).
`describe()` turns such an error into one sentence that names the real cause (wrong
password, TLS mismatch, refused, timed out, unknown host, cluster down, no primary known to
the Sentinels) and what to do about it. `refusal()` does the same for a command the
server's ACL refuses busbot's user (NOPERM): it names the command or key.
"""
from __future__ import annotations

import re
import socket
import ssl

import redis
import redis.exceptions
import redis.sentinel

from bot.redact import redact_text

UNREACHABLE: tuple[type[Exception], ...] = (redis.ConnectionError, redis.TimeoutError,
                                             # a Redis Cluster that cannot serve every slot
                                             redis.exceptions.ClusterDownError,
                                             redis.exceptions.SlotNotCoveredError)

class NotReplicated(redis.ConnectionError):
    """Fewer replicas than BUS_WAIT_REPLICAS acknowledged a write in time (bot/durability.py).
    A connection error, so a job pauses and retries as it does while Redis is unreachable."""


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
    """One of auth, loading, cluster_down, no_primary, not_replicated, acl, not_cluster, tls,
    refused, timeout, unknown_host, closed, unreachable."""
    if is_auth_error(exc):
        return "auth"
    if isinstance(exc, redis.exceptions.BusyLoadingError):
        return "loading"
    if isinstance(exc, (redis.exceptions.ClusterDownError, redis.exceptions.SlotNotCoveredError)):
        return "cluster_down"
    if isinstance(exc, redis.sentinel.MasterNotFoundError):
        return "no_primary"
    if isinstance(exc, NotReplicated):
        return "not_replicated"
    chain = _chain(exc)
    if any(is_refused(e) for e in chain[1:]):  # e.g. the cluster client refused CLUSTER SLOTS
        return "acl"
    if "cluster mode is not enabled" in str(exc).lower() or "cluster support disabled" in str(exc).lower():
        return "not_cluster"
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


# cause -> (sentence, what to do); {where} stands for the redacted address
_CAUSES: dict[str, tuple[str, str]] = {
    "auth": ("Redis at {where} refused busbot's credentials (authentication failed).",
             "Check the password (and user name) in REDIS_URL against the server's."),
    "loading": ("Redis at {where} is still loading its data after a restart.",
                "Wait a few seconds and try again."),
    "cluster_down": ("The Redis Cluster at {where} is down: some hash slots have no node serving them.",
                     "Check `CLUSTER INFO` on a node (cluster_state, cluster_slots_ok); busbot carries on "
                     "once the cluster is ok again."),
    "no_primary": ("No Sentinel named a primary for {where}: none answered, or none monitors that name.",
                   "Check BUS_REDIS_SENTINELS and BUS_REDIS_SENTINEL_MASTER (`SENTINEL get-master-addr-by-name`), "
                   "use rediss:// in REDIS_URL if the Sentinels speak TLS, and wait if a failover is under way."),
    "not_cluster": ("Redis at {where} is not a cluster node, but BUS_REDIS_MODE says cluster.",
                    "Set BUS_REDIS_MODE=auto (or standalone), or point REDIS_URL at a node of the cluster."),
    "not_replicated": ("Redis at {where} answers, but its replicas did not confirm the last write in time.",
                       "Check the replicas (`INFO replication`: connected, lag); jobs go on once they catch up, "
                       "or lower BUS_WAIT_REPLICAS."),
    "closed": ("Redis at {where} closed the connection as soon as busbot spoke.",
               "If that port expects TLS, use rediss:// in REDIS_URL; otherwise check the "
               "server's log (client limits, protected mode)."),
    "tls": ("The TLS handshake with Redis at {where} failed.",
            "Use rediss:// only for a TLS port and redis:// for a plain one, "
            "and check the certificate settings (BUS_REDIS_CA_FILE)."),
    "unknown_host": ("The host of {where} could not be found (unknown host name).",
                     "Check the host name in REDIS_URL and the DNS of this machine."),
    "refused": ("Redis at {where} refused the connection: nothing listens on that port.",
                "Check the host and port in REDIS_URL and that Redis is up "
                "(`redis-cli -u $REDIS_URL ping`)."),
    "timeout": ("Redis at {where} did not answer in time.",
                "Check that Redis is up and not overloaded, and that this machine can reach it."),
    "unreachable": ("Redis is not answering at {where}.",
                    "Check REDIS_URL and that Redis is up (`redis-cli -u $REDIS_URL ping`), then try again."),
}


def describe(exc: BaseException, where: str) -> tuple[str, str]:
    """(one sentence naming the real cause, what to do about it) for a Redis error.

    `where` is shown as given after redaction, so a caller may pass the raw URL."""
    kind = cause(exc)
    if kind == "acl":
        return refusal(next(e for e in _chain(exc) if is_refused(e)))
    sentence, hint = _CAUSES.get(kind, _CAUSES["unreachable"])
    return sentence.replace("{where}", redact_text(where)), hint


# NOPERM replies, and what a script says when a command inside it is refused
_REFUSED_MARKS = ("NOPERM", "THE USER EXECUTING THE SCRIPT CAN'T")
_COMMAND_IN_REPLY = re.compile(r"run the '([^']+)' command")


def is_refused(exc: BaseException) -> bool:
    """Redis's ACL refused busbot's user a command, a key or a channel."""
    if isinstance(exc, redis.exceptions.NoPermissionError):
        return True
    text = str(exc).lstrip().upper()
    return isinstance(exc, redis.ResponseError) and text.startswith(_REFUSED_MARKS)


def refused_keys(args: tuple) -> list[str]:
    """The keys a command names, as far as a refusal needs them: a script's KEYS, the
    streams of XREAD/XREADGROUP, else the first argument."""
    name = str(args[0]).upper() if args else ""
    rest = [a.decode(errors="replace") if isinstance(a, bytes) else str(a) for a in args[1:]]
    if name in ("EVAL", "EVALSHA", "EVAL_RO", "EVALSHA_RO", "FCALL", "FCALL_RO") and len(rest) > 1:
        n = int(rest[1]) if rest[1].isdigit() else 0
        return rest[2:2 + n]
    if name in ("XREAD", "XREADGROUP"):
        upper = [r.upper() for r in rest]
        if "STREAMS" in upper:
            streams = rest[upper.index("STREAMS") + 1:]
            return streams[:len(streams) // 2]
    return rest[:1]


def note_refusal(exc: BaseException, args: tuple) -> None:
    """Remember on a refusal which command and keys it was (the reply names neither the key
    nor, inside a script, the command)."""
    if is_refused(exc) and args:
        exc.busbot_command = str(args[0]).upper()  # type: ignore[attr-defined]
        exc.busbot_keys = refused_keys(args)  # type: ignore[attr-defined]


def refusal(exc: BaseException) -> tuple[str, str]:
    """(one sentence naming what was refused, what to do) for an ACL refusal."""
    text = str(exc)
    command = getattr(exc, "busbot_command", None)
    keys: list[str] = getattr(exc, "busbot_keys", [])
    named = _COMMAND_IN_REPLY.search(text)
    hint = ("Give busbot's Redis user the rights docs/redis.md lists for its role (read-only, operator "
            "or worker), or ask someone whose busbot has them.")
    if named:
        return f"Redis's ACL does not allow busbot's user the `{named.group(1).upper()}` command.", hint
    if "channel" in text.lower():
        return "Redis's ACL does not allow busbot's user that Pub/Sub channel.", hint
    if keys:
        what = f"key `{keys[0]}`" if len(keys) == 1 else "keys " + ", ".join(f"`{k}`" for k in keys)
        via = "a script" if command and command.startswith(("EVAL", "FCALL")) else f"`{command}`"
        if "can't run this command" in text:
            return f"Redis's ACL does not allow busbot's user a command that {via} runs on {what}.", hint
        return f"Redis's ACL does not allow busbot's user {what} (through {via}).", hint
    return "Redis's ACL refused busbot's user a command or key it needs.", hint
