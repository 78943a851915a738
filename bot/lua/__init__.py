"""Lua scripts, one `.lua` file each with a header listing its KEYS and ARGV.

Each `Bus` holds a `Scripts` for its client: `bus.scripts.get("name")` registers
`bot/lua/name.lua` on that client once and returns the callable; wrap each in a typed
Python function next to the code that uses it.
"""
from __future__ import annotations

from functools import cache
from pathlib import Path

import redis
from redis.commands.core import Script

_DIR = Path(__file__).parent


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
            script = self._registered[name] = self._r.register_script(source(name))
        return script
