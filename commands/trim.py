"""`/bus trim <maxlen> [force=yes]`: cap the main stream, never removing entries a consumer
group has not yet been delivered (or still has pending) unless forced; needs an approval."""
from __future__ import annotations

from bot.actions import audit
from bot.actions import trim as service
from bot.actions.requests import GuardedRequest
from bot.bus import Bus
from bot.phrase import code, fact, person, phrase
from bot.plural import plural
from bot.render import num
from commands.guard import EXECUTORS, check_source_free, empty_reply, notice, preview_reply
from commands.invocation import Invocation
from commands.registry import REGISTRY
from commands.reply import Reply

MAX = 10**12


@REGISTRY.command("trim <maxlen> [force=yes]",
                  "Cap the main stream's length, keeping what groups still need (approval).",
                  options=("force",), max_positional=1, role="operator", group="Actions")
def trim_command(inv: Invocation) -> Reply:
    bus = inv.bus
    maxlen = inv.number(inv.required(0, "the number of entries to keep"), "maxlen", 0, 0, MAX)
    force = (inv.option("force") or "no").lower() in ("yes", "true", "1")
    check_source_free(bus, bus.keys.events)
    p = service.plan(bus, maxlen, force)
    stream = code(p.stream)
    why = (phrase("The safety bound stops it: group ", code(p.bound_group), f" {p.bound_reason} from ",
                  code(p.bound), " on.") if p.bound else phrase())
    if p.over == 0:
        return empty_reply(phrase(stream, f" holds {plural(p.length, 'entry')}, not more than {num(maxlen)}; "
                                  "nothing to trim."))
    if p.may_go == 0:
        return empty_reply(phrase("Trimming ", stream, f" to {num(maxlen)} would remove {plural(p.over, 'entry')}, "
                                  "but none may go. ", why),
                           phrase("Let the consumers catch up (", code("/bus groups"), "), or add ",
                                  code("force=yes"), " to trim anyway."))
    req = GuardedRequest(token="", kind="trim", command=f"trim {maxlen}" + (" force=yes" if force else ""),
                         params={"maxlen": maxlen, "force": force}, source=p.stream,
                         upper=p.threshold or "", to_move=p.may_go, requester=inv.user_id)
    summary = phrase(stream, f" holds {plural(p.length, 'entry')}; keeping {num(maxlen)} means removing the "
                     f"oldest {num(p.over)}. {num(p.may_go)} of them may go (ids below ", code(p.threshold), "). ",
                     why, " " if why else "", "Redis trims whole nodes (", code("XTRIM MINID ~"),
                     "), so a few more may stay.")
    warnings = [phrase(code("force=yes"), ": entries no group has read yet may be removed.")] if force else []
    return preview_reply(bus, req, title=f"Trim {p.stream} by {num(p.may_go)}", verb="Trim",
                         summary=summary, facts=[fact("Length now", num(p.length)),
                                                 fact("Would go", f"{num(p.may_go)} of {num(p.over)}")],
                         warnings=warnings)


def _do_trim(bus: Bus, req: GuardedRequest) -> Reply:
    by = req.approved_by or req.confirmed_by
    removed = service.execute(bus, req.upper, bool(req.params.get("force")))
    audit.record(bus, by, "trim.done", req.command, f"removed {removed} (planned {req.to_move})")
    return notice(phrase("Trimmed ", code(req.source), f": removed {num(removed)} of the {num(req.to_move)} planned "
                         "(requested by ", person(req.requester), ", approved by ", person(by), ")."),
                  f"Length now {num(bus.r.xlen(req.source))}.", "trimmed")


EXECUTORS["trim"] = _do_trim
