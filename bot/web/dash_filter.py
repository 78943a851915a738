"""The Dead Letter Queue tab's filter: `type`, `since`, `until`, `error`, `tenant` (and `sig`,
an exact error signature, which the top table's "show these" links use)."""
from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import parse_qsl, urlencode

from bot.envelope import ParsedEntry
from bot.services.dlq import DlqFilter
from bot.services.signature import signature
from bot.timeparse import WhenError, parse_when

FIELDS = ("type", "since", "until", "error", "tenant", "sig")


class DashFilter(DlqFilter):
    tenant: str | None = None
    until_ms: int | None = None
    sig: str | None = None
    given: dict[str, str] = {}  # the form's values as typed, for links and the inputs

    def matches(self, e: ParsedEntry) -> bool:
        if not super().matches(e):
            return False
        if self.tenant and e.tenant != self.tenant:
            return False
        return not self.sig or signature(e.error) == self.sig

    @property
    def active(self) -> bool:
        return bool(super().active or self.tenant or self.sig)

    @property
    def first_before(self) -> str | None:
        """`until` as the exclusive start of the newest-first walk (the whole ms included)."""
        return f"{self.until_ms + 1}-0" if self.until_ms is not None else None

    def query(self, **extra: str) -> str:
        return urlencode({**self.given, **{k: v for k, v in extra.items() if v}})


def parse_filter(args: Mapping[str, str], now: int) -> tuple[DashFilter, str | None]:
    """The filter, and a sentence when `since` or `until` is not a time."""
    given = {k: args[k].strip() for k in FIELDS if (args.get(k) or "").strip()}
    times: dict[str, int | None] = {"since": None, "until": None}
    error = None
    for k in times:
        if k in given:
            try:
                times[k] = parse_when(given[k], now)
            except WhenError as exc:
                error = f"{k}: {str(exc).replace('`', '')}"
    if error is None and times["since"] is not None and times["until"] is not None and times["since"] > times["until"]:
        error = "since is after until: pick a since before the until."
    flt = DashFilter(type=given.get("type"), since_ms=times["since"], error=given.get("error"),
                     tenant=given.get("tenant"), until_ms=times["until"], sig=given.get("sig"), given=given)
    return flt, error


def clean_query(qs: str) -> str:
    """A filter's query string with nothing but the filter's own fields in it."""
    return urlencode([(k, v) for k, v in parse_qsl(qs) if k in FIELDS])
