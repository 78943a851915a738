"""Counted nouns, one helper for every message: `1 DLQ entry`, `2 DLQ entries`, `0 jobs`."""
from __future__ import annotations

IRREGULAR = {"entry": "entries", "was": "were", "has": "have", "is": "are", "this": "these"}


def noun(n: int | None, singular: str, plural_form: str | None = None) -> str:
    """The noun that goes with `n`: `entry`/`entries`; the last word of a phrase is inflected
    (`DLQ entry` -> `DLQ entries`)."""
    if n == 1:
        return singular
    if plural_form:
        return plural_form
    head, _, last = singular.rpartition(" ")
    if last in IRREGULAR:
        word = IRREGULAR[last]
    elif last.endswith(("s", "x", "ch", "sh")):
        word = last + "es"
    elif last.endswith("y") and last[-2:-1] not in ("a", "e", "o", "u"):
        word = last[:-1] + "ies"
    else:
        word = last + "s"
    return f"{head} {word}" if head else word


def plural(n: int | None, singular: str, plural_form: str | None = None) -> str:
    """`n` (with thousands separators) and its noun: `1 DLQ entry`, `1,204 DLQ entries`."""
    count = "unknown" if n is None else f"{n:,}"
    return f"{count} {noun(n, singular, plural_form)}"
