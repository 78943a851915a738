"""`/bus reprocess <id>|type=T|all [tenant=T] [error=TEXT]`: DLQ -> main stream (design §2),
through preview, confirm, approval (bulk) and a job. `preview_reprocess` is also the
entry point of the alerts' "Reprocess" button."""
from __future__ import annotations

from bot.actions.requests import GuardedRequest
from bot.actions.selection import select
from bot.bus import Bus
from bot.render import md, num
from commands.guard import check_source_free, empty_reply, preview_reply, require_operator
from commands.invocation import Invocation
from commands.registry import REGISTRY
from commands.selection_view import (breakdown, entry_or_error, filter_text, selection_facts,
                                     selection_notes)
from commands.reply import CommandError, Reply


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
        return empty_reply(f"No DLQ entry matches {md(flt) or 'anything'} "
                           f"({num(sel.total)} in `{md(dlq)}`), so there is nothing to reprocess.",
                           "`/bus dlq top` shows which types are in the DLQ.")
    req = GuardedRequest(token="", kind="reprocess_bulk", command=command, params=params,
                         source=dlq, target=bus.keys.events, start="-", upper=sel.upper,
                         to_move=sel.matched, requester=user_id)
    title = f"Reprocess {num(sel.matched)} DLQ entr{'y' if sel.matched == 1 else 'ies'}"
    summary = (f"{num(sel.matched)} of {num(sel.total)} DLQ entries match {md(flt) or '(all)'}; "
               f"the {num(sel.stays)} others are untouched. Each goes back to `{md(bus.keys.events)}` "
               "as the same event (`event` first, then `reprocessedFrom`, `reprocessJob`) and "
               "leaves the DLQ.")
    return preview_reply(bus, req, title=title, verb="Reprocess", summary=summary,
                         facts=selection_facts(sel), breakdown=breakdown(sel),
                         notes=selection_notes(sel, "reprocessed"))


def _preview_one(bus: Bus, user_id: str, ident: str) -> Reply:
    e = entry_or_error(bus, bus.keys.dlq, ident)
    if "event" not in e.fields:
        raise CommandError(f"DLQ entry `{e.entry_id}` has no `event` field, so there is nothing to republish.",
                           f"`/bus dlq show {e.entry_id}` shows it; `/bus dlq delete {e.entry_id}` removes it.")
    req = GuardedRequest(token="", kind="reprocess_one", command=f"reprocess {ident}",
                         params={"ids": [e.entry_id]}, source=bus.keys.dlq, target=bus.keys.events,
                         start=e.entry_id, upper=e.entry_id, to_move=1, requester=user_id)
    summary = (f"`{md(e.type)}` event `{md(e.event_id or '?')}` (tenant `{md(e.tenant)}`) goes back to "
               f"`{md(bus.keys.events)}` unchanged and leaves the DLQ.\nLast error: {md(e.error[:300]) or '–'}")
    facts = [f"*DLQ id*\n`{e.entry_id}`", f"*Attempts*\n{md(e.fields.get('attempts', '?'))}"]
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
        raise inv.usage_error("Give either an id, `type=T` or `all`, not both.")
    if not target and not type_:
        raise inv.usage_error("`reprocess` needs an id, `type=T` or `all`.")
    if target and target.lower() != "all":
        if tenant or error:
            raise inv.usage_error("`tenant=` and `error=` narrow `type=` or `all`, not a single id.")
        return preview_reprocess(inv.bus, inv.user_id, entry=target)
    return preview_reprocess(inv.bus, inv.user_id, type=type_, tenant=tenant, error=error)
