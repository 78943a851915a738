"""What "Redis is unreachable" means, in one place, and what to tell the operator.

`UNREACHABLE` is the one tuple every catch site uses (in redis-py, `TimeoutError` is not a
subclass of `ConnectionError`, so catching only the latter lets a frozen Redis kill a loop).
`describe()` turns such an error into one sentence that names the real cause.
"""
from __future__ import annotations

import redis

UNREACHABLE: tuple[type[Exception], ...] = (redis.ConnectionError, redis.TimeoutError)
