"""`/bus events [N] [type=T]` and `/bus event <id>`."""
from __future__ import annotations

from bot.phrase import code, phrase
from bot.plural import plural
from bot.services.events import lookup_event, recent_events
from bot.timeparse import is_stream_id
from commands.invocation import Invocation
from commands.registry import REGISTRY
from commands.reply import CommandError, Reply
from commands.unmask import unmasked, unmasking
from commands.views import entry_row, event_json, paging_buttons

MAX_EVENTS = 25


@REGISTRY.command("events [N] [type=T]", "Newest events on the main stream, optionally of one type.",
                  options=("type", "before"), max_positional=1)
def events_command(inv: Invocation) -> Reply:
    n = inv.number(inv.positional(0), "N", 10, 1, MAX_EVENTS)
    etype, before = inv.option("type"), inv.stream_id("before")
    view = recent_events(inv.bus, n, etype, before)
    now = inv.bus.clock()
    return Reply("events", {"v": view, "rows": [entry_row(e, now) for e in view.entries],
                            "buttons": paging_buttons(inv.text, before, view.next_before)},
                 f"{plural(len(view.entries), 'recent event')} on {view.stream}")


@REGISTRY.command("event <id> [unmask=yes]", "One event by stream id or event id: where it is, who has it, its JSON "
                  "(personal data masked).", options=("unmask",), max_positional=1)
def event_command(inv: Invocation) -> Reply:
    ident = inv.required(0, "a stream id (1764000000000-0) or an event id")
    raw = unmasking(inv, f"event {ident}")
    found = lookup_event(inv.bus, ident, mask=raw)
    if found.entry is None:
        how = ("" if is_stream_id(ident) else
               f" (event ids are searched among the newest {found.searched:,} entries of each)")
        raise CommandError(phrase("No entry ", code(ident), " in ", code(inv.bus.keys.events), " or ",
                                  code(inv.bus.keys.dlq), how, "."),
                           phrase("Check the id, or look for it with ", code("/bus events type=..."), " or ",
                                  code("/bus dlq list"), "."))
    now = inv.bus.clock()
    reply = Reply("event", {"f": found, "row": entry_row(found.entry, now), "json": event_json(found.entry)},
                  f"Event {ident} is in {found.where}")
    return unmasked(reply) if raw else reply
