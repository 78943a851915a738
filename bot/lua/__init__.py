"""Lua scripts, one `.lua` file each with a header listing its KEYS and ARGV.

`script(r, "name")` registers `bot/lua/name.lua` on a client once and returns the callable;
wrap each in a typed Python function next to the code that uses it.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import redis

_DIR = Path(__file__).parent


@lru_cache(maxsize=None)
def source(name: str) -> str:
    return (_DIR / f"{name}.lua").read_text()


def script(r: redis.Redis, name: str):
    """The registered script `name` for client `r` (cached on the client object)."""
    cache = r.__dict__.setdefault("_busbot_scripts", {})
    if name not in cache:
        cache[name] = r.register_script(source(name))
    return cache[name]
