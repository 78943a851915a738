"""`/bus replay from=WHEN to=WHEN [types=a,b] [tenant=T] [limit=N] [rate=N]`: copies of
past events republished (new id, `data.__replay`, `correlationId=replay-<job>`,
`replayOf`, `replayJob`). Reads the main stream by id range only, never a full scan."""
from __future__ import annotations

from bot.actions.requests import GuardedRequest
from bot.actions.selection import select
from bot.phrase import code, phrase
from bot.plural import plural
from bot.render import num
from bot.timeparse import MAX_ID_PART, id_ms, iso_ms
from commands.forms import form_button, open_form
from commands.guard import check_source_free, notice, preview_reply
from commands.invocation import Invocation
from commands.registry import REGISTRY
from commands.reply import Reply
from commands.selection_view import breakdown, matching, readable_id, selection_facts, selection_notes

MAX_LIMIT = 1_000_000
MAX_RATE = 100_000
ID_MAX_SEQ = MAX_ID_PART


@REGISTRY.command("replay from=WHEN to=WHEN [types=a,b] [tenant=T] [limit=N] [rate=N]",
                  "Republish past events as marked copies (preview, confirm, approval).",
                  options=("from", "to", "types", "tenant", "limit", "rate"), role="operator",
                  group="Actions")
def replay_command(inv: Invocation) -> Reply:
    bus = inv.bus
    if not inv.args.options and not inv.args.positional:
        return open_form(bus, "replay")
    start_ms, end_ms = inv.when("from"), inv.when("to")
    if start_ms is None:
        raise inv.usage_error(phrase(code("replay"), " needs ", code("from=WHEN"), " (and ", code("to=WHEN"),
                                     "; it defaults to now)."))
    end_ms = bus.clock() if end_ms is None else end_ms
    if start_ms > end_ms:
        raise inv.usage_error(phrase(code("from"), f" ({iso_ms(start_ms)}) is after ", code("to"),
                                     f" ({iso_ms(end_ms)})."))
    types = [t for t in (inv.option("types") or "").split(",") if t]
    tenant = inv.option("tenant")
    limit = inv.number(inv.option("limit"), "limit", 0, 1, MAX_LIMIT) or None
    rate = inv.number(inv.option("rate"), "rate", 0, 1, MAX_RATE)
    events = bus.keys.events
    check_source_free(bus, events)
    params = {k: v for k, v in (("types", types), ("tenant", tenant), ("rate", rate)) if v}
    sel = select(bus, "replay", events, params, start=f"{start_ms}-0",
                 upper=_upper(bus, end_ms), limit=limit)
    flt = " ".join(p for p in (f"types={','.join(types)}" if types else "",
                               f"tenant={tenant}" if tenant else "") if p)
    span = f"{iso_ms(start_ms)} … {iso_ms(end_ms)}"
    notes = selection_notes(sel, "replayed")
    warnings = []
    oldest = bus.r.xrange(events, "-", "+", count=1)
    if oldest and start_ms < (id_ms(oldest[0][0]) or 0):
        warnings.append(phrase("The range starts before the oldest entry the stream still holds "
                               f"({iso_ms(id_ms(oldest[0][0]))}); older events were trimmed and cannot be replayed."))
    if sel.matched == 0:
        hint = phrase(*[p for n in warnings + notes for p in (n, " ")]) if warnings or notes else None
        return notice(phrase(f"No event between {span} matches ", matching(flt, "anything"),
                             f" ({num(sel.scanned)} read), so there is nothing to replay."), hint, "zero",
                      [form_button("replay")])
    if sel.limited:
        notes.insert(0, phrase(code(f"limit={limit}"), " stops the selection at ", readable_id(sel.upper), "."))
    command = " ".join(w for w in ("replay", f"from={iso_ms(start_ms)}", f"to={iso_ms(end_ms)}",
                                   f"types={','.join(types)}" if types else "",
                                   f"tenant={tenant}" if tenant else "",
                                   f"limit={limit}" if limit else "", f"rate={rate}" if rate else "") if w)
    req = GuardedRequest(token="", kind="replay", command=command, params=params, source=events,
                         target=events, start=f"{start_ms}-0", upper=sel.upper, to_move=sel.matched,
                         requester=inv.user_id)
    summary = phrase(f"{num(sel.matched)} of the {plural(sel.scanned, 'event')} between {span} match ",
                     matching(flt, "(all)"), ". Each is republished to ", code(events),
                     " as a copy with a new id, ", code("data.__replay=true"), ", ",
                     code("correlationId=replay-<job>"), " and ", code("replayOf"), "; the originals stay. ",
                     f"Rate limit {num(rate)}/s." if rate else "Unthrottled.")
    return preview_reply(bus, req, title=f"Replay {plural(sel.matched, 'event')}", verb="Replay",
                         summary=summary, facts=selection_facts(sel)[2:], breakdown=breakdown(sel),
                         notes=notes, warnings=warnings)


def _upper(bus, end_ms: int) -> str:
    """The last id to read: `to`, but never past the stream's last entry now, so the copies
    the job writes can never be read back into it."""
    last = bus.r.xrevrange(bus.keys.events, "+", "-", count=1)
    end = f"{end_ms}-{ID_MAX_SEQ}"
    if not last:
        return f"{end_ms}-0"
    last_id = last[0][0]
    return last_id if _id_key(last_id) < _id_key(end) else end


def _id_key(entry_id: str) -> tuple[int, int]:
    ms, _, seq = entry_id.partition("-")
    return int(ms), int(seq or 0)
