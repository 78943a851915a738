"""The DLQ filters `dlq list`, `reprocess` and `dlq purge` share: `type=` (one, or several
comma-separated), `tenant=`, `error=`, `signature=` (an error signature as `dlq top` shows it),
`since=` and `until=`.

The time bounds become the selection's id range (stream ids are millisecond timestamps), so a
narrow window never reads the rest of the DLQ; the other filters are the job's `matches`
parameters, so the preview counts and the job moves the same entries.
"""
from __future__ import annotations

import shlex
from dataclasses import dataclass
from typing import Any

from bot.envelope import ParsedEntry
from bot.phrase import Phrase, code, phrase
from bot.services.dlq import DlqFilter
from bot.services.signature import signature as signature_of
from bot.timeparse import MAX_ID_PART, iso_ms
from commands.invocation import Invocation

OPTIONS = ("type", "tenant", "error", "signature", "since", "until")
USAGE = "[type=T] [tenant=T] [error=TEXT] [signature=S] [since=WHEN] [until=WHEN]"


@dataclass(frozen=True)
class Filters:
    type: str | None = None
    tenant: str | None = None
    error: str | None = None
    signature: str | None = None
    since_ms: int | None = None
    until_ms: int | None = None

    @classmethod
    def of(cls, inv: Invocation) -> Filters:
        flt = cls(type=inv.option("type"), tenant=inv.option("tenant"), error=inv.option("error"),
                  signature=inv.option("signature"), since_ms=inv.when("since"), until_ms=inv.when("until"))
        if flt.since_ms is not None and flt.until_ms is not None and flt.since_ms > flt.until_ms:
            raise inv.usage_error(phrase(code("since"), f" ({iso_ms(flt.since_ms)}) is after ", code("until"),
                                         f" ({iso_ms(flt.until_ms)})."))
        return flt

    @property
    def active(self) -> bool:
        return any(v is not None for v in (self.type, self.tenant, self.error, self.signature,
                                           self.since_ms, self.until_ms))

    @property
    def types(self) -> list[str]:
        """`type=a,b` names several types."""
        return [t for t in (self.type or "").split(",") if t]

    def params(self) -> dict[str, Any]:
        """What the job's `matches` checks for every entry (the time window is the id range)."""
        types = self.types
        out: dict[str, Any] = {"types": types} if len(types) > 1 else {"type": types[0]} if types else {}
        out.update({k: v for k, v in (("tenant", self.tenant), ("error", self.error),
                                      ("signature", self.signature)) if v})
        return out

    def start(self) -> str:
        return f"{self.since_ms}-0" if self.since_ms is not None else "-"

    def upper(self, last_id: str | None) -> str:
        """The selection's fixed upper id: the source's last id now, or `until` if earlier."""
        last = last_id or "0-0"
        if self.until_ms is None:
            return last
        end = f"{self.until_ms}-{MAX_ID_PART}"
        return last if _id_key(last) < _id_key(end) else end

    def text(self) -> str:
        """The filters as command text (quoted where needed), e.g. `type=a error='timed out'`."""
        pairs = [("type", self.type), ("tenant", self.tenant), ("error", self.error),
                 ("signature", self.signature), ("since", iso_ms(self.since_ms)), ("until", iso_ms(self.until_ms))]
        return " ".join(f"{k}={shlex.quote(v)}" for k, v in pairs if v)

    def shown(self, nothing: str) -> Phrase:
        """The filters as a code span, or `nothing` ("anything", "(all)")."""
        t = self.text()
        return phrase(code(t)) if t else phrase(nothing)

    def for_list(self) -> ListFilter:
        types = self.types
        return ListFilter(type=types[0] if len(types) == 1 else None, types=types if len(types) > 1 else [],
                          tenant=self.tenant, error=self.error, since_ms=self.since_ms,
                          signature=self.signature, until_ms=self.until_ms)


class ListFilter(DlqFilter):
    """`dlq list`'s filter: the service's, with an error signature and an upper time."""
    types: list[str] = []
    signature: str | None = None
    until_ms: int | None = None

    def matches(self, e: ParsedEntry) -> bool:
        return (super().matches(e) and (not self.types or e.type in self.types)
                and (not self.signature or signature_of(e.error) == self.signature))

    @property
    def active(self) -> bool:
        return bool(super().active or self.types or self.signature or self.until_ms is not None)


def list_before(flt: Filters, before: str | None) -> str | None:
    """`dlq list`'s exclusive upper id: the paging cursor, or just past `until`, whichever is older."""
    if flt.until_ms is None:
        return before
    past_until = f"{flt.until_ms + 1}-0"
    return before if before is not None and _id_key(before) < _id_key(past_until) else past_until


def _id_key(entry_id: str) -> tuple[int, int]:
    ms, _, seq = entry_id.partition("-")
    return int(ms or 0), int(seq or 0)
