"""`/bus reprocess <id>|all|<filters>` (`type=`, `tenant=`, `error=`, `signature=`, `since=`,
`until=`): DLQ -> main stream (the same event, then `reprocessedFrom` and `reprocessJob`),
through preview, confirm, approval (bulk) and a job. `preview_reprocess` is also the entry
point of the alerts' "Reprocess" button."""
from __future__ import annotations

from bot.actions.requests import GuardedRequest
from bot.actions.selection import last_id, select
from bot.bus import Bus
from bot.phrase import code, fact, phrase
from bot.plural import plural
from bot.render import num
from commands.dlq_filters import OPTIONS, USAGE, Filters
from commands.forms import form_button, open_form
from commands.guard import check_source_free, notice, preview_reply, require_operator
from commands.invocation import Invocation
from commands.registry import REGISTRY
from commands.reply import CommandError, Reply
from commands.selection_view import breakdown, entry_or_error, selection_facts, selection_notes


def preview_reprocess(bus: Bus, user_id: str, type: str | None = None, tenant: str | None = None,
                      error: str | None = None, entry: str | None = None,
                      flt: Filters | None = None) -> Reply:
    """The preview of a reprocess (one entry, or all matching a filter) with its buttons."""
    refused = require_operator(bus, user_id, "reprocess DLQ entries")
    if refused:
        return refused
    dlq = bus.keys.dlq
    check_source_free(bus, dlq)
    if entry:
        return _preview_one(bus, user_id, entry)
    flt = flt or Filters(type=type, tenant=tenant, error=error)
    params = flt.params()
    command = f"reprocess {flt.text() or 'all'}"
    sel = select(bus, "reprocess", dlq, params, start=flt.start(), upper=flt.upper(last_id(bus, dlq)))
    if sel.matched == 0:
        return notice(phrase("No DLQ entry matches ", flt.shown("anything"), f" ({num(sel.total)} in ",
                             code(dlq), "), so there is nothing to reprocess."),
                      phrase(code("/bus dlq top"), " shows which types are in the DLQ."), "zero",
                      [form_button("reprocess")] if sel.total else [])
    req = GuardedRequest(token="", kind="reprocess_bulk", command=command, params=params,
                         source=dlq, target=bus.keys.events, start=flt.start(), upper=sel.upper,
                         to_move=sel.matched, requester=user_id)
    title = f"Reprocess {plural(sel.matched, 'DLQ entry')}"
    summary = phrase(f"{num(sel.matched)} of {plural(sel.total, 'DLQ entry')} match ", flt.shown("(all)"),
                     f"; the {num(sel.stays)} others are untouched. Each goes back to ", code(bus.keys.events),
                     " as the same event (", code("event"), " first, then ", code("reprocessedFrom"), ", ",
                     code("reprocessJob"), ") and leaves the DLQ.")
    return preview_reply(bus, req, title=title, verb="Reprocess", summary=summary,
                         facts=selection_facts(sel), breakdown=breakdown(sel),
                         notes=selection_notes(sel, "reprocessed"))


def _preview_one(bus: Bus, user_id: str, ident: str) -> Reply:
    e = entry_or_error(bus, bus.keys.dlq, ident)
    if "event" not in e.fields:
        raise CommandError(phrase("DLQ entry ", code(e.entry_id), " has no ", code("event"),
                                  " field, so there is nothing to republish."),
                           phrase(code(f"/bus dlq show {e.entry_id}"), " shows it; ",
                                  code(f"/bus dlq delete {e.entry_id}"), " removes it."))
    req = GuardedRequest(token="", kind="reprocess_one", command=f"reprocess {ident}",
                         params={"ids": [e.entry_id]}, source=bus.keys.dlq, target=bus.keys.events,
                         start=e.entry_id, upper=e.entry_id, to_move=1, requester=user_id)
    summary = phrase(code(e.type), " event ", code(e.event_id or "?"), " (tenant ", code(e.tenant),
                     ") goes back to ", code(bus.keys.events), " unchanged and leaves the DLQ.")
    facts = [fact("DLQ id", code(e.entry_id)), fact("Attempts", e.fields.get("attempts", "?")),
             fact("Last error", e.error[:300] or "–")]
    return preview_reply(bus, req, title="Reprocess 1 DLQ entry", verb="Reprocess", summary=summary,
                         facts=facts)


@REGISTRY.command(f"reprocess <id>|type=T|all {USAGE.replace('[type=T] ', '')}",
                  "Put DLQ entries back on the main stream (preview, confirm, approval for bulk).",
                  options=OPTIONS, max_positional=1, role="operator", group="Actions")
def reprocess_command(inv: Invocation) -> Reply:
    target = inv.positional(0)
    flt = Filters.of(inv)
    if not target and not flt.active:
        return open_form(inv.bus, "reprocess")
    if target and target.lower() != "all":
        if flt.active:
            raise inv.usage_error(phrase("Give either an id or filters (", code("type="), ", ", code("tenant="),
                                         ", ", code("error="), ", ", code("since="), ", ...), not both."))
        return preview_reprocess(inv.bus, inv.user_id, entry=target)
    return preview_reprocess(inv.bus, inv.user_id, flt=flt)
