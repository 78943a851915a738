"""`/bus dlq delete <id>`, `/bus dlq purge [filters]`, `/bus dlq restore <job>`: entries are
archived (every field) before they leave the DLQ, so a purge can be undone for a while."""
from __future__ import annotations

from bot.actions import archive
from bot.actions.requests import GuardedRequest
from bot.actions.selection import last_id, select
from bot.jobs import store
from bot.phrase import code, fact, phrase
from bot.plural import plural
from bot.render import num
from commands.actions import ActionCall, action
from commands.dlq_filters import OPTIONS, USAGE, Filters
from commands.guard import check_source_free, empty_reply, preview_reply
from commands.invocation import Invocation
from commands.registry import REGISTRY
from commands.reply import CommandError, Reply
from commands.selection_view import breakdown, entry_or_error, selection_facts, selection_notes

ACT_ACTION = "bus_act"  # a button whose value is the text of a guarded command


def _days(inv: Invocation) -> str:
    return f"{inv.bus.settings.bus_archive_days} days"


@REGISTRY.command("dlq delete <id>", "Remove one DLQ entry (archived first; operator confirm).",
                  max_positional=1, role="operator", group="Actions")
def delete_command(inv: Invocation) -> Reply:
    bus = inv.bus
    ident = inv.required(0, "the id of a DLQ entry")
    check_source_free(bus, bus.keys.dlq)
    e = entry_or_error(bus, bus.keys.dlq, ident)
    req = GuardedRequest(token="", kind="delete", command=f"dlq delete {ident}",
                         params={"ids": [e.entry_id]}, source=bus.keys.dlq,
                         target=bus.keys.dlq_archive, start=e.entry_id, upper=e.entry_id,
                         to_move=1, requester=inv.user_id)
    summary = phrase(code(e.type), " event ", code(e.event_id or "?"), " (tenant ", code(e.tenant),
                     ") leaves the DLQ. It is copied to ", code(bus.keys.dlq_archive),
                     f" first and kept {_days(inv)}.")
    return preview_reply(bus, req, title="Delete 1 DLQ entry", verb="Delete", summary=summary,
                         facts=[fact("DLQ id", code(e.entry_id)), fact("Last error", e.error[:300] or "–")])


@REGISTRY.command(f"dlq purge {USAGE}", "Remove DLQ entries, all or those matching filters (archived first; approval).",
                  options=OPTIONS, role="operator", group="Actions")
def purge_command(inv: Invocation) -> Reply:
    bus = inv.bus
    flt = Filters.of(inv)
    check_source_free(bus, bus.keys.dlq)
    archive.expire_old(bus)
    params = flt.params()
    sel = select(bus, "purge", bus.keys.dlq, params, start=flt.start(), upper=flt.upper(last_id(bus, bus.keys.dlq)))
    if sel.matched == 0:
        return empty_reply(phrase("No DLQ entry matches ", flt.shown("anything"), f" ({num(sel.total)} in ",
                                  code(bus.keys.dlq), "), so there is nothing to purge."))
    req = GuardedRequest(token="", kind="purge", command=f"dlq purge {flt.text()}".strip(), params=params,
                         source=bus.keys.dlq, target=bus.keys.dlq_archive, start=flt.start(), upper=sel.upper,
                         to_move=sel.matched, requester=inv.user_id)
    summary = phrase(f"{num(sel.matched)} of {plural(sel.total, 'DLQ entry')} match ", flt.shown("(all)"),
                     f"; the {num(sel.stays)} others are untouched. They are copied to ",
                     code(bus.keys.dlq_archive), f" (kept {_days(inv)}; ", code("/bus dlq restore <job>"),
                     " puts them back), then removed.")
    return preview_reply(bus, req, title=f"Purge {plural(sel.matched, 'DLQ entry')}", verb="Purge",
                         summary=summary, facts=selection_facts(sel), breakdown=breakdown(sel),
                         notes=selection_notes(sel, "purged"))


@REGISTRY.command("dlq restore <job>", "Put the entries a purge or delete archived back into the DLQ.",
                  max_positional=1, role="operator", group="Actions")
def restore_command(inv: Invocation) -> Reply:
    bus = inv.bus
    job_id = inv.required(0, phrase("the id of the purge or delete job (see ", code("/bus jobs"), ")"))
    job = store.get(bus, job_id)
    if job is not None and job.kind not in ("purge", "delete"):
        raise CommandError(phrase("Job ", code(job_id), f" was a {job.kind}, not a purge or delete; "
                                  "there is nothing to restore."),
                           phrase(code("/bus jobs"), " lists recent purges."))
    check_source_free(bus, bus.keys.dlq_archive)
    archive.expire_old(bus)
    sel = select(bus, "restore", bus.keys.dlq_archive, {"archive_job": job_id})
    if sel.matched == 0:
        return empty_reply(phrase("The archive holds no entries of job ", code(job_id), f" (kept {_days(inv)}), "
                                  "so there is nothing to restore."),
                           phrase(code("/bus jobs"), " lists recent purges."))
    req = GuardedRequest(token="", kind="restore", command=f"dlq restore {job_id}",
                         params={"archive_job": job_id}, source=bus.keys.dlq_archive,
                         target=bus.keys.dlq, upper=sel.upper, to_move=sel.matched,
                         requester=inv.user_id)
    summary = phrase(f"{plural(sel.matched, 'archived entry')} of job ", code(job_id), " go back to ",
                     code(bus.keys.dlq), " with every field (as new, newest entries; ", code("restoredFrom"),
                     " names the archive entry) and leave the archive.")
    return preview_reply(bus, req, title=f"Restore {plural(sel.matched, 'DLQ entry')}", verb="Restore",
                         summary=summary, facts=selection_facts(sel)[:4], breakdown=breakdown(sel))


@action(ACT_ACTION, operator_only="start guarded actions")
def _act(call: ActionCall) -> Reply:
    """"Reprocess", "Delete", "Reprocess these N": the value is the guarded command's text; the
    answer is its preview (the same flow as typing it), beside the message the button sat on."""
    from commands import router  # the router imports every command module, this one too

    reply = router.run(router.button_command(call), call.rt, call.user_id)
    reply.replaces = False
    return reply


def act_button(text: str, command: str, style: str | None = None) -> dict:
    """A button that starts the guarded flow of `command` (a preview; nothing runs yet)."""
    b = {"text": text, "action_id": ACT_ACTION, "value": command}
    if style:
        b["style"] = style
    return b
