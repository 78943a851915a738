"""Slack user groups as the role policy sees them (bot.actions.policy.GroupDirectory).

`usergroups.list` maps handles (`@oncall-platform`) to ids (`S…`); `usergroups.users.list`
gives a group's members. Both are cached for `ttl` seconds; a user who is not among the
cached members makes busbot ask again (at most every `miss_after` seconds per group), so
someone just added to a group does not wait for the cache to expire. When Slack cannot be
asked, the members last read stand (the answer is marked stale and replies say so); a group
never read answers None: nobody gets a role from it, and nobody loses one to an outage.
The members last read are also kept in Redis (`RedisMemory`), so a process started during an
outage (or a worker process that never asked) knows them too.
Needs the `usergroups:read` scope (manifest.yml).
"""
from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from typing import Any, Protocol

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.actions.policy import NO_GROUPS, Group, GroupDirectory
from bot.bus import Bus
from bot.redis_errors import UNREACHABLE
from bot.settings import Settings

log = logging.getLogger(__name__)

TTL_S = 60.0  # members older than this are read again
MISS_AFTER_S = 10.0  # a user not among the members re-reads them, at most this often
TIMEOUT_S = 5  # a command waits at most this long for Slack before last known members stand
BACKOFF_S = 30.0  # after Slack failed to answer, last known members stand this long without asking
NO_SUCH_GROUP = frozenset({"no_such_subteam", "subteam_not_found"})  # an answer, not an outage
MEMORY_TTL_S = 30 * 86400  # last known members are kept this long after the last read


class GroupMemory(Protocol):
    def remember(self, gid: str, handle: str, users: frozenset[str]) -> None: ...

    def recall(self) -> dict[str, tuple[str, frozenset[str]]]:
        """Group id -> (handle, members) as last read by any process."""
        ...


class RedisMemory:
    """Last known members in one Redis hash (bot.keys: slack_groups); Redis being down only
    means this process falls back to what it holds itself."""

    def __init__(self, bus: Bus):
        self.bus = bus

    def remember(self, gid: str, handle: str, users: frozenset[str]) -> None:
        key = self.bus.keys.slack_groups
        try:
            p = self.bus.r.pipeline(transaction=False)
            p.hset(key, gid, json.dumps({"handle": handle, "users": sorted(users), "at": int(time.time())}))
            p.expire(key, MEMORY_TTL_S)
            p.execute()
        except UNREACHABLE as exc:
            log.warning("could not keep Slack user group %s's members in Redis: %s", gid, exc)

    def recall(self) -> dict[str, tuple[str, frozenset[str]]]:
        try:
            raw = self.bus.r.hgetall(self.bus.keys.slack_groups)
        except UNREACHABLE as exc:
            log.warning("could not read the last known Slack user group members from Redis: %s", exc)
            return {}
        out = {}
        for gid, text in raw.items():
            try:
                doc = json.loads(text)
                out[str(gid)] = (str(doc["handle"]), frozenset(doc["users"]))
            except (ValueError, KeyError, TypeError):
                continue
        return out


class SlackGroups:
    def __init__(self, client: WebClient, *, ttl: float = TTL_S, miss_after: float = MISS_AFTER_S,
                 clock: Callable[[], float] = time.monotonic, memory: GroupMemory | None = None,
                 backoff: float = BACKOFF_S):
        # a client of its own: a short timeout and no retries, so an outage costs one wait
        self.client = WebClient(token=client.token, base_url=client.base_url, timeout=TIMEOUT_S,
                                retry_handlers=[])
        self.ttl, self.miss_after, self.clock, self.memory = ttl, miss_after, clock, memory
        self.backoff, self._down_until = backoff, float("-inf")  # commands do not queue on a dead Slack
        self._handles: dict[str, str] = {}  # "@handle" -> "S…"
        self._names: dict[str, str] = {}  # "S…" -> "@handle"
        self._handles_at: float | None = None
        self._members: dict[str, tuple[frozenset[str], float]] = {}  # "S…" -> (users, read at)
        self._warned: set[str] = set()  # unknown handles already logged
        self._lock = threading.Lock()

    def group(self, entry: str, user: str | None = None) -> Group | None:
        with self._lock:
            gid, stale = self._id(entry, user)
            if gid == "":  # Slack answered and has no such handle: a group nobody is in
                self._unknown(entry)
                return Group("", entry, frozenset())
            if gid is None:
                return None
            handle = self._names.get(gid, entry if entry.startswith("@") else gid)
            got = self._users(gid, user)
            if got is None:
                return None
            users, members_stale = got
            return Group(gid, handle, users, stale or members_stale)

    def _id(self, entry: str, user: str | None) -> tuple[str | None, bool]:
        """The group id an entry names, and whether the handle map is a stale copy."""
        if not entry.startswith("@"):
            return entry, False
        now = self.clock()
        fresh = self._handles_at is not None and now - self._handles_at < self.ttl
        if fresh and entry.lower() in self._handles:
            return self._handles[entry.lower()], False
        if fresh and now - (self._handles_at or 0) < self.miss_after:
            return "", False  # just read, and no such handle
        answer = self._ask("usergroups.list", lambda: self.client.usergroups_list(include_disabled=False))
        if answer is None:  # Slack down, rate limited, a missing scope: keep what we know
            if entry.lower() not in self._handles:
                remembered = {handle.lower(): gid for gid, (handle, _) in self._recall().items()}
                return remembered.get(entry.lower()), entry.lower() in remembered
            return self._handles.get(entry.lower()), True
        groups: list[dict] = answer.get("usergroups", [])
        self._handles = {"@" + g["handle"].lower(): g["id"] for g in groups if g.get("handle")}
        self._names = {gid: handle for handle, gid in self._handles.items()}
        self._handles_at = now
        return self._handles.get(entry.lower(), ""), False

    def _users(self, gid: str, user: str | None) -> tuple[frozenset[str], bool] | None:
        now = self.clock()
        cached = self._members.get(gid)
        if cached is not None:
            users, at = cached
            if now - at < self.ttl and (user is None or user in users or now - at < self.miss_after):
                return users, False
        answer = self._ask(f"usergroups.users.list {gid}",
                           lambda: self.client.usergroups_users_list(usergroup=gid, include_disabled=False))
        if answer is None:  # the last known members stand (or nobody, never everyone)
            if cached is not None:
                return cached[0], True
            remembered = self._recall().get(gid)
            return (remembered[1], True) if remembered is not None else None
        users = frozenset(answer.get("users", []))
        self._members[gid] = (users, now)
        if self.memory is not None:
            self.memory.remember(gid, self._names.get(gid, gid), users)
        return users, False

    def _ask(self, what: str, call: Callable[[], Any]) -> Any:
        """Slack's answer, or None when it failed (or failed less than `backoff` s ago)."""
        now = self.clock()
        if now < self._down_until:
            return None
        try:
            return call()
        except SlackApiError as exc:
            if exc.response is not None and exc.response.get("error") in NO_SUCH_GROUP:
                log.warning("Slack has no user group for %s (named in BUS_VIEWERS, BUS_OPERATORS or "
                            "BUS_APPROVERS): nobody gets a role from it", what)
                return {"users": []}
            return self._failed(now, what, exc)
        except Exception as exc:  # noqa: BLE001 - any failure: the caller falls back to what is known
            return self._failed(now, what, exc)

    def _failed(self, now: float, what: str, exc: Exception) -> None:
        log.warning("could not ask Slack (%s): %s; last known members stand for %g s", what, _why(exc),
                    self.backoff)
        self._down_until = now + self.backoff

    def _unknown(self, handle: str) -> None:
        if handle not in self._warned:
            self._warned.add(handle)
            log.warning("Slack has no user group %s (named in BUS_VIEWERS, BUS_OPERATORS or BUS_APPROVERS): "
                        "nobody gets a role from it; check the handle", handle)

    def _recall(self) -> dict[str, tuple[str, frozenset[str]]]:
        return self.memory.recall() if self.memory is not None else {}


def directory_for(settings: Settings, bus: Bus | None = None) -> GroupDirectory:
    """Slack's user groups when a bot token is set, else none (group entries match nobody);
    with `bus`, the members last read are kept in its Redis for other processes."""
    if settings.slack_bot_token is None:
        return NO_GROUPS
    url = settings.slack_api_url
    client = WebClient(token=settings.slack_bot_token.get_secret_value())
    if url:
        client.base_url = url if url.endswith("/") else url + "/"
    return SlackGroups(client, memory=RedisMemory(bus) if bus is not None else None)


def _why(exc: Exception) -> str:
    response = getattr(exc, "response", None)
    if response is not None:
        error = response.get("error") if hasattr(response, "get") else None
        return f"Slack answered {getattr(response, 'status_code', '?')} {error or ''}".strip()
    return f"{type(exc).__name__}: {exc}"
