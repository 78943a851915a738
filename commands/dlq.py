"""`/bus dlq`, `dlq top [N]`, `dlq list ...`, `dlq show <id>`: the DLQ read side."""
from __future__ import annotations

import shlex

from bot.actions.selection import last_id, select
from bot.bus import Bus
from bot.phrase import code, phrase
from bot.plural import plural
from bot.services import trends
from bot.services.dlq import dlq_entry, dlq_list, dlq_summary
from bot.services.dlq_top import dlq_top
from bot.texttable import share
from bot.timeparse import human_age, id_ms
from commands.dlq_actions import act_button
from commands.dlq_filters import OPTIONS, USAGE, Filters, list_before
from commands.edit import edit_button
from commands.forms import form_button
from commands.invocation import Invocation
from commands.registry import REGISTRY
from commands.reply import CommandError, Reply
from commands.unmask import unmasked, unmasking
from commands.views import entry_row, event_json, paging_buttons, run_button

MAX_TOP, MAX_LIST = 25, 15


@REGISTRY.command("dlq", "DLQ size, oldest and newest entry, arrivals in the last hour and day.")
def dlq_command(inv: Invocation) -> Reply:
    s = dlq_summary(inv.bus)
    buttons = [run_button("Top types and errors", "dlq top"), run_button("Newest entries", "dlq list"),
               form_button("reprocess")]
    lines = trends.last_hour(inv.bus, inv.bus.clock(), ("dlq", "failed"))
    return Reply("dlq_summary", {"s": s, "buttons": buttons if s.length else [],
                                 "trends": [t["text"] for t in lines]},
                 f"DLQ {s.stream}: {plural(s.length, 'entry')}, {s.last_hour:,} in the last hour")


@REGISTRY.command("dlq top [N]", "What is failing: exact counts over the whole DLQ by type, error and tenant.",
                  max_positional=1)
def dlq_top_command(inv: Invocation) -> Reply:
    return dlq_top_reply(inv.bus, inv.number(inv.positional(0), "N", 10, 1, MAX_TOP))


def dlq_top_reply(bus: Bus, n: int = 10) -> Reply:
    """The answer of `/bus dlq top N` (also posted in an alert's thread). Each row has "List"
    (`dlq list` with that row's filter) and "Reprocess these" (the guarded preview)."""
    top, now = dlq_top(bus, n), bus.clock()

    def rows(items):
        return [[r.count, share(r.count, top.total), r.key, human_age(now - id_ms(r.newest_id)),
                 r.newest_id] for r in items]

    def row_buttons(items, option: str) -> list[dict]:
        out = []
        for r in items:
            flt = f"{option}={shlex.quote(r.key)}"
            out += [run_button(f"List {r.key}", f"dlq list {flt}"),
                    act_button(f"Reprocess these {r.count:,}: {r.key}", f"reprocess {flt}")]
        return out
    buttons = ([run_button(f"Newest: {r.key}", f"dlq show {r.newest_id}") for r in top.by_signature[:2]]
               + ([form_button("reprocess")] if top.total else []))
    return Reply("dlq_top", {"t": top, "types": rows(top.by_type), "errors": rows(top.by_signature),
                             "tenants": rows(top.by_tenant), "buttons": buttons,
                             "row_buttons": {"types": row_buttons(top.by_type, "type"),
                                             "errors": row_buttons(top.by_signature, "signature"),
                                             "tenants": row_buttons(top.by_tenant, "tenant")}},
                 f"DLQ top: {plural(top.total, 'entry')}" + (f", most are {top.by_type[0].key}" if top.by_type else ""))


@REGISTRY.command(f"dlq list [N] {USAGE}", "DLQ entries newest first, filtered, with paging.",
                  options=(*OPTIONS, "before"), max_positional=1)
def dlq_list_command(inv: Invocation) -> Reply:
    n = inv.number(inv.positional(0), "N", 10, 1, MAX_LIST)
    filters = Filters.of(inv)
    flt = filters.for_list()
    before = inv.stream_id("before")
    page = dlq_list(inv.bus, n, flt, list_before(filters, before))
    return Reply("dlq_list", {"p": page, "rows": [entry_row(e, page.now) for e in page.entries],
                              "flt": flt, "buttons": paging_buttons(inv.text, before, page.next_before),
                              "bulk": _bulk_buttons(inv.bus, filters) if page.entries else [],
                              "first_page": before is None},
                 plural(len(page.entries), "DLQ entry"))


def _bulk_buttons(bus: Bus, filters: Filters) -> list[dict]:
    """"Reprocess these N" and "Delete these N" for a filtered list: N counted as the preview
    will count it (which binds the count again when clicked)."""
    if not filters.active:
        return []
    dlq = bus.keys.dlq
    sel = select(bus, "reprocess", dlq, filters.params(), start=filters.start(),
                 upper=filters.upper(last_id(bus, dlq)))
    more = "+" if sel.capped else ""
    buttons = [act_button(f"Reprocess these {sel.matched:,}{more}", f"reprocess {filters.text()}", "primary")]
    if sel.matched + sel.unmovable:  # entries without an `event` can be deleted, not reprocessed
        buttons.append(act_button(f"Delete these {sel.matched + sel.unmovable:,}{more}",
                                  f"dlq purge {filters.text()}", "danger"))
    return buttons if sel.matched else buttons[1:]


@REGISTRY.command("dlq show <id> [unmask=yes]", "One DLQ entry in full: event JSON, error, stack, attempts, "
                  "movedAt (personal data masked).", options=("unmask",), max_positional=1)
def dlq_show_command(inv: Invocation) -> Reply:
    ident = inv.required(0, "a DLQ stream id (1764000000000-0) or an event id")
    raw = unmasking(inv, f"dlq show {ident}")
    view = dlq_entry(inv.bus, ident, mask=raw)
    if view is None:
        raise CommandError(phrase("No entry ", code(ident), " in the DLQ ", code(inv.bus.keys.dlq), "."),
                           phrase("It may have been reprocessed or deleted; ", code("/bus event <id>"),
                                  " looks in the main stream too, ", code("/bus dlq list"), " shows what is there."))
    e = view.entry
    buttons = [act_button("Reprocess", f"reprocess {e.entry_id}", "primary"),
               edit_button(e.entry_id), act_button("Delete", f"dlq delete {e.entry_id}", "danger")]
    reply = Reply("dlq_show", {"v": view, "row": entry_row(e, inv.bus.clock()),
                               "json": event_json(e), "buttons": buttons if "event" in e.fields else buttons[2:]},
                  f"DLQ entry {view.entry.entry_id}: {view.entry.type}")
    return unmasked(reply) if raw else reply

