"""`/bus dlq`, `dlq top [N]`, `dlq list ...`, `dlq show <id>`: the DLQ read side."""
from __future__ import annotations

import shlex

from bot.bus import Bus
from bot.phrase import code, phrase
from bot.plural import plural
from bot.services.dlq import DlqFilter, dlq_entry, dlq_list, dlq_summary
from bot.services.dlq_top import dlq_top
from bot.texttable import share
from bot.timeparse import human_age, id_ms
from commands.invocation import Invocation
from commands.registry import REGISTRY
from commands.reply import CommandError, Reply
from commands.views import entry_row, event_json, paging_buttons, run_button

MAX_TOP, MAX_LIST = 25, 15


@REGISTRY.command("dlq", "DLQ size, oldest and newest entry, arrivals in the last hour and day.")
def dlq_command(inv: Invocation) -> Reply:
    s = dlq_summary(inv.bus)
    buttons = [run_button("Top types and errors", "dlq top"), run_button("Newest entries", "dlq list")]
    return Reply("dlq_summary", {"s": s, "buttons": buttons if s.length else []},
                 f"DLQ {s.stream}: {plural(s.length, 'entry')}, {s.last_hour:,} in the last hour")


@REGISTRY.command("dlq top [N]", "What is failing: exact counts over the whole DLQ by type, error and tenant.",
                  max_positional=1)
def dlq_top_command(inv: Invocation) -> Reply:
    return dlq_top_reply(inv.bus, inv.number(inv.positional(0), "N", 10, 1, MAX_TOP))


def dlq_top_reply(bus: Bus, n: int = 10) -> Reply:
    """The answer of `/bus dlq top N` (also posted in an alert's thread)."""
    top, now = dlq_top(bus, n), bus.clock()

    def rows(items):
        return [[r.count, share(r.count, top.total), r.key, human_age(now - id_ms(r.newest_id)),
                 r.newest_id] for r in items]
    buttons = ([run_button(f"List {r.key}", f"dlq list type={shlex.quote(r.key)}") for r in top.by_type[:3]]
               + [run_button(f"Newest: {r.key}", f"dlq show {r.newest_id}") for r in top.by_signature[:2]])
    return Reply("dlq_top", {"t": top, "types": rows(top.by_type), "errors": rows(top.by_signature),
                             "tenants": rows(top.by_tenant), "buttons": buttons},
                 f"DLQ top: {plural(top.total, 'entry')}" + (f", most are {top.by_type[0].key}" if top.by_type else ""))


@REGISTRY.command("dlq list [N] [type=T] [tenant=T] [since=WHEN] [error=TEXT]",
                  "DLQ entries newest first, filtered, with paging.",
                  options=("type", "tenant", "since", "error", "before"), max_positional=1)
def dlq_list_command(inv: Invocation) -> Reply:
    n = inv.number(inv.positional(0), "N", 10, 1, MAX_LIST)
    flt = DlqFilter(type=inv.option("type"), tenant=inv.option("tenant"), since_ms=inv.when("since"),
                    error=inv.option("error"))
    before = inv.stream_id("before")
    page = dlq_list(inv.bus, n, flt, before)
    return Reply("dlq_list", {"p": page, "rows": [entry_row(e, page.now) for e in page.entries],
                              "flt": flt, "buttons": paging_buttons(inv.text, before, page.next_before),
                              "first_page": before is None},
                 plural(len(page.entries), "DLQ entry"))


@REGISTRY.command("dlq show <id>", "One DLQ entry in full: event JSON, error, stack, attempts, movedAt.",
                  max_positional=1)
def dlq_show_command(inv: Invocation) -> Reply:
    ident = inv.required(0, "a DLQ stream id (1764000000000-0) or an event id")
    view = dlq_entry(inv.bus, ident)
    if view is None:
        raise CommandError(phrase("No entry ", code(ident), " in the DLQ ", code(inv.bus.keys.dlq), "."),
                           phrase("It may have been reprocessed or deleted; ", code("/bus event <id>"),
                                  " looks in the main stream too, ", code("/bus dlq list"), " shows what is there."))
    return Reply("dlq_show", {"v": view, "row": entry_row(view.entry, inv.bus.clock()),
                              "json": event_json(view.entry)},
                 f"DLQ entry {view.entry.entry_id}: {view.entry.type}")
