"""`/bus reprocess <id>|type=T|all [tenant=T] [error=TEXT]`: DLQ -> main stream (the same
event, then `reprocessedFrom` and `reprocessJob`), through preview, confirm, approval (bulk)
and a job. `preview_reprocess` is also the entry point of the alerts' "Reprocess" button."""
from __future__ import annotations

from bot.actions.requests import GuardedRequest
from bot.actions.selection import select
from bot.bus import Bus
from bot.phrase import code, fact, phrase
from bot.plural import plural
from bot.render import num
from commands.guard import check_source_free, empty_reply, preview_reply, require_operator
from commands.invocation import Invocation
from commands.registry import REGISTRY
from commands.reply import CommandError, Reply
from commands.selection_view import breakdown, entry_or_error, filter_text, matching, selection_facts, selection_notes


def preview_reprocess(bus: Bus, user_id: str, type: str | None = None, tenant: str | None = None,
                      error: str | None = None, entry: str | None = None) -> Reply:
    """The preview of a reprocess (one entry, or all matching a filter) with its buttons."""
    refused = require_operator(bus, user_id, "reprocess DLQ entries")
    if refused:
        return refused
    dlq = bus.keys.dlq
    check_source_free(bus, dlq)
    if entry:
        return _preview_one(bus, user_id, entry)
    params = {k: v for k, v in (("type", type), ("tenant", tenant), ("error", error)) if v}
    flt = filter_text(type, tenant, error)
    command = f"reprocess {flt or 'all'}"
    sel = select(bus, "reprocess", dlq, params)
    if sel.matched == 0:
        return empty_reply(phrase("No DLQ entry matches ", matching(flt, "anything"), f" ({num(sel.total)} in ",
                                  code(dlq), "), so there is nothing to reprocess."),
                           phrase(code("/bus dlq top"), " shows which types are in the DLQ."))
    req = GuardedRequest(token="", kind="reprocess_bulk", command=command, params=params,
                         source=dlq, target=bus.keys.events, start="-", upper=sel.upper,
                         to_move=sel.matched, requester=user_id)
    title = f"Reprocess {plural(sel.matched, 'DLQ entry')}"
    summary = phrase(f"{num(sel.matched)} of {plural(sel.total, 'DLQ entry')} match ", matching(flt, "(all)"),
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


@REGISTRY.command("reprocess <id>|type=T|all [tenant=T] [error=TEXT]",
                  "Put DLQ entries back on the main stream (preview, confirm, approval for bulk).",
                  options=("type", "tenant", "error"), max_positional=1, role="operator",
                  group="Actions")
def reprocess_command(inv: Invocation) -> Reply:
    target, type_ = inv.positional(0), inv.option("type")
    tenant, error = inv.option("tenant"), inv.option("error")
    if target and type_:
        raise inv.usage_error(phrase("Give either an id, ", code("type=T"), " or ", code("all"), ", not both."))
    if not target and not type_:
        raise inv.usage_error(phrase(code("reprocess"), " needs an id, ", code("type=T"), " or ", code("all"), "."))
    if target and target.lower() != "all":
        if tenant or error:
            raise inv.usage_error(phrase(code("tenant="), " and ", code("error="), " narrow ", code("type="),
                                         " or ", code("all"), ", not a single id."))
        return preview_reprocess(inv.bus, inv.user_id, entry=target)
    return preview_reprocess(inv.bus, inv.user_id, type=type_, tenant=tenant, error=error)
