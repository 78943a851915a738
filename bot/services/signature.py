"""Error signatures: an error message with its variable parts normalised away, so
"timeout after 5003ms for ap_81" and "timeout after 4870ms for ap_12" are one row."""
from __future__ import annotations

import re
from functools import lru_cache

_RULES = [
    (re.compile(r'"[^"]*"'), '"…"'),
    (re.compile(r"'[^']*'"), "'…'"),
    (re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b", re.I), "<uuid>"),
    (re.compile(r"\bc[a-z0-9]{20,}\b"), "<id>"),  # cuid
    (re.compile(r"\b[A-Za-z]{1,12}_[A-Za-z0-9]*\d[A-Za-z0-9_]*\b"), "<id>"),  # ap_81, ws_123
    (re.compile(r"\b(?=[0-9a-f]*\d)[0-9a-f]{12,}\b", re.I), "<hex>"),
    (re.compile(r"\d+(?:\.\d+)?"), "<n>"),
    (re.compile(r"\s+"), " "),
]
MAX_LEN = 200


@lru_cache(maxsize=65536)
def signature(error: str) -> str:
    """The first line of `error`, normalised; `<no error>` when empty."""
    line = (error or "").strip().splitlines()[0] if (error or "").strip() else ""
    if not line:
        return "<no error message>"
    for pattern, repl in _RULES:
        line = pattern.sub(repl, line)
    return line.strip()[:MAX_LEN]
