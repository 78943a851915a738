"""Lua scripts, one `.lua` file each with a header listing its KEYS and ARGV.

Each `Bus` holds a `Scripts` for its client: `bus.scripts.get("name")` registers
`bot/lua/name.lua` on that client once and returns the callable; wrap each in a typed
Python function next to the code that uses it.

A script that only reads starts with `#!lua flags=no-writes` and runs with EVALSHA_RO, so
Redis checks its keys as reads: a busbot whose ACL user may only read the platform's
streams can still count them. Where that cannot work (Redis before 7, the embedded
fakeredis), the same script runs without the flag, as any other.
"""
from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import redis
import redis.client
from redis.commands.core import Script

_DIR = Path(__file__).parent
NO_WRITES = "#!lua flags=no-writes\n"


@cache
def source(name: str) -> str:
    return (_DIR / f"{name}.lua").read_text()


class Scripts:
    """The scripts registered on one client, each registered the first time it is used."""

    def __init__(self, r: redis.Redis) -> None:
        self._r = r
        self._registered: dict[str, Script] = {}

    def get(self, name: str) -> Script:
        script = self._registered.get(name)
        if script is None:
            text = source(name)
            made: Any = ReadOnlyScript(self._r, text) if text.startswith(NO_WRITES) else self._r.register_script(text)
            script = self._registered[name] = made
        return script


def _embedded(r: Any) -> bool:
    return type(r).__module__.split(".")[0] == "fakeredis"


class ReadOnlyScript:
    """A script flagged no-writes, called like a `Script` (keys, args, client)."""

    def __init__(self, r: redis.Redis, text: str) -> None:
        self._r = r
        self.flagged = Script(r, text)
        self.plain = Script(r, text[len(NO_WRITES):])
        self._read_only: bool | None = False if _embedded(r) else None  # None: not probed yet

    @property
    def sha(self) -> str:
        return self.flagged.sha if self._read_only else self.plain.sha

    def _probe(self) -> bool:
        """Whether the server takes the flag: Redis 7 loads the flagged text, older ones
        refuse to compile it."""
        if self._read_only is None:
            try:
                self._r.script_load(self.flagged.script)
                self._read_only = True
            except redis.ResponseError:
                self._read_only = False
        return self._read_only

    def __call__(self, keys: Any = None, args: Any = None, client: Any = None) -> Any:
        keys, args = list(keys or []), list(args or [])
        client = self._r if client is None else client
        if not self._probe():
            return self.plain(keys=keys, args=args, client=client)
        if isinstance(client, redis.client.Pipeline):
            client.scripts.add(self.flagged)  # loaded, if missing, before the pipeline runs
            return client.evalsha_ro(self.flagged.sha, len(keys), *keys, *args)
        try:
            return client.evalsha_ro(self.flagged.sha, len(keys), *keys, *args)
        except redis.exceptions.NoScriptError:  # a restart or SCRIPT FLUSH: load it again
            client.script_load(self.flagged.script)
            return client.evalsha_ro(self.flagged.sha, len(keys), *keys, *args)
