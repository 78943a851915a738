"""API tokens: `BUS_API_TOKENS=name:token,...`; a request bearing a token acts as `api:<name>`.

Tokens are compared in constant time and never logged or shown.
"""
from __future__ import annotations

import hmac


class TokenFormatError(ValueError):
    """BUS_API_TOKENS does not hold `name:token` pairs; the message never contains a token."""


def parse_tokens(raw: str) -> dict[str, str]:
    """`name:token,...` -> {name: token}. Blank entries are ignored."""
    tokens: dict[str, str] = {}
    for n, entry in enumerate((e.strip() for e in (raw or "").split(",")), start=1):
        if not entry:
            continue
        name, sep, token = entry.partition(":")
        if not sep or not name.strip() or not token.strip():
            raise TokenFormatError(f"entry {n} is not name:token")
        if name.strip() in tokens:
            raise TokenFormatError(f"the name {name.strip()!r} is given twice")
        tokens[name.strip()] = token.strip()
    return tokens


def identify(tokens: dict[str, str], presented: str | None) -> str | None:
    """The caller (`api:<name>`) whose token is `presented`, or None. Every stored token is
    compared, in constant time, so the answer's timing tells nothing about which one matched."""
    if not presented:
        return None
    found = None
    given = presented.encode()
    for name, token in tokens.items():
        if hmac.compare_digest(given, token.encode()):
            found = f"api:{name}"
    return found


def bearer(header: str | None) -> str | None:
    """The token of an `Authorization: Bearer <token>` header, else None."""
    scheme, _, value = (header or "").strip().partition(" ")
    return value.strip() or None if scheme.lower() == "bearer" else None
