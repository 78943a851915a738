"""Showing a selection in a preview: counts, bounds, breakdown and what stays behind."""
from __future__ import annotations

from bot.actions.selection import BadId, Selection, resolve
from bot.render import md, num
from bot.timeparse import iso_ms
from commands.reply import CommandError


def selection_facts(sel: Selection) -> list[str]:
    return [f"*Selected*\n{num(sel.matched)} of {num(sel.total)}",
            f"*Stays behind*\n{num(sel.stays)}",
            f"*Oldest*\n{iso_ms(sel.oldest_ms) or '–'}",
            f"*Newest*\n{iso_ms(sel.newest_ms) or '–'}",
            f"*Id bounds*\n`{sel.first_id}` … `{sel.last_id}`",
            f"*Fixed upper id*\n`{sel.upper}`"]


def breakdown(sel: Selection) -> str:
    types = ", ".join(f"`{md(t)}` {num(n)}" for t, n in sel.by_type)
    tenants = ", ".join(f"`{md(t)}` {num(n)}" for t, n in sel.by_tenant)
    return f"*By type:* {types}\n*By tenant:* {tenants}"


def selection_notes(sel: Selection, what: str) -> list[str]:
    notes = []
    if sel.unmovable:
        notes.append(f"{num(sel.unmovable)} matching entr{'y has' if sel.unmovable == 1 else 'ies have'} "
                     f"no `event` field and cannot be {what}; they stay in the DLQ.")
    if sel.capped:
        notes.append(f"The preview read {num(sel.scanned)} entries, its limit: only entries up to "
                     f"`{sel.upper}` are included. Run it again afterwards for the rest.")
    return notes


def filter_text(type_: str | None, tenant: str | None, error: str | None) -> str:
    parts = [f"type={type_}" if type_ else "", f"tenant={tenant}" if tenant else "",
             f'error="{error}"' if error else ""]
    return " ".join(p for p in parts if p)


def entry_or_error(bus, stream: str, ident: str):
    """The entry `ident` (stream id or envelope id) names, or a one-sentence error."""
    try:
        return resolve(bus, stream, ident)
    except BadId as exc:
        raise CommandError(str(exc), "`/bus dlq list` shows DLQ entries with their ids.") from None
