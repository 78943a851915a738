"""Showing a selection in a preview: counts, bounds, breakdown and what stays behind."""
from __future__ import annotations

from bot.actions.selection import BadId, Selection, resolve
from bot.actions.view import readable_id
from bot.phrase import Phrase, code, fact, phrase
from bot.plural import plural
from bot.render import num
from bot.timeparse import iso_ms
from commands.reply import CommandError


def selection_facts(sel: Selection) -> list[dict]:
    return [fact("Selected", f"{num(sel.matched)} of {num(sel.total)}"),
            fact("Stays behind", num(sel.stays)),
            fact("Oldest", iso_ms(sel.oldest_ms) or "–"),
            fact("Newest", iso_ms(sel.newest_ms) or "–"),
            fact("Id bounds", code(sel.first_id), " … ", code(sel.last_id)),
            fact("Fixed upper bound", readable_id(sel.upper))]


def breakdown(sel: Selection) -> dict:
    """Counts by type and by tenant: [name, count] pairs, most first."""
    return {"by_type": [[t, n] for t, n in sel.by_type], "by_tenant": [[t, n] for t, n in sel.by_tenant]}


def selection_notes(sel: Selection, what: str) -> list[Phrase]:
    notes = []
    if sel.unmovable:
        notes.append(phrase(f"{plural(sel.unmovable, 'matching entry')} "
                            f"{'has' if sel.unmovable == 1 else 'have'} no ", code("event"),
                            f" field and cannot be {what}; they stay in the DLQ."))
    if sel.capped:
        notes.append(phrase(f"The preview read {plural(sel.scanned, 'entry')}, its limit: only entries up to ",
                            readable_id(sel.upper), " are included. Run it again afterwards for the rest."))
    return notes


def filter_text(type_: str | None, tenant: str | None, error: str | None) -> str:
    parts = [f"type={type_}" if type_ else "", f"tenant={tenant}" if tenant else "",
             f'error="{error}"' if error else ""]
    return " ".join(p for p in parts if p)


def matching(flt: str, nothing: str) -> Phrase:
    """`type=x` as a code span, or `nothing` ("anything", "(all)") when there is no filter."""
    return phrase(code(flt)) if flt else phrase(nothing)


def entry_or_error(bus, stream: str, ident: str):
    """The entry `ident` (stream id or envelope id) names, or a one-sentence error."""
    try:
        return resolve(bus, stream, ident)
    except BadId as exc:
        raise CommandError(str(exc), phrase(code("/bus dlq list"), " shows DLQ entries with their ids.")) from None
