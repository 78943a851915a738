"""`/bus dlq delete <id>`, `/bus dlq purge [type=T]`, `/bus dlq restore <job>`: entries are
archived (every field) before they leave the DLQ, so a purge can be undone for a while."""
from __future__ import annotations

from bot.actions import archive
from bot.actions.requests import GuardedRequest
from bot.actions.selection import select
from bot.jobs import store
from bot.render import md, num
from commands.guard import check_source_free, empty_reply, preview_reply
from commands.invocation import Invocation
from commands.registry import REGISTRY
from commands.reply import CommandError, Reply
from commands.selection_view import (breakdown, entry_or_error, filter_text, selection_facts,
                                     selection_notes)


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
    summary = (f"`{md(e.type)}` event `{md(e.event_id or '?')}` (tenant `{md(e.tenant)}`) leaves the DLQ. "
               f"It is copied to `{md(bus.keys.dlq_archive)}` first and kept {_days(inv)}.\n"
               f"Last error: {md(e.error[:300]) or '–'}")
    return preview_reply(bus, req, title="Delete 1 DLQ entry", verb="Delete", summary=summary,
                         facts=[f"*DLQ id*\n`{e.entry_id}`"])


@REGISTRY.command("dlq purge [type=T]", "Remove DLQ entries, all or of one type (archived first; approval).",
                  options=("type",), role="operator", group="Actions")
def purge_command(inv: Invocation) -> Reply:
    bus = inv.bus
    type_ = inv.option("type")
    check_source_free(bus, bus.keys.dlq)
    archive.expire_old(bus)
    params = {"type": type_} if type_ else {}
    sel = select(bus, "purge", bus.keys.dlq, params)
    flt = filter_text(type_, None, None)
    if sel.matched == 0:
        return empty_reply(f"No DLQ entry matches {md(flt) or 'anything'} ({num(sel.total)} in "
                           f"`{md(bus.keys.dlq)}`), so there is nothing to purge.")
    req = GuardedRequest(token="", kind="purge", command=f"dlq purge {flt}".strip(), params=params,
                         source=bus.keys.dlq, target=bus.keys.dlq_archive, upper=sel.upper,
                         to_move=sel.matched, requester=inv.user_id)
    summary = (f"{num(sel.matched)} of {num(sel.total)} DLQ entries match {md(flt) or '(all)'}; the "
               f"{num(sel.stays)} others are untouched. They are copied to `{md(bus.keys.dlq_archive)}` "
               f"(kept {_days(inv)}; `/bus dlq restore <job>` puts them back), then removed.")
    return preview_reply(bus, req, title=f"Purge {num(sel.matched)} DLQ entries", verb="Purge",
                         summary=summary, facts=selection_facts(sel), breakdown=breakdown(sel),
                         notes=selection_notes(sel, "purged"))


@REGISTRY.command("dlq restore <job>", "Put the entries a purge or delete archived back into the DLQ.",
                  max_positional=1, role="operator", group="Actions")
def restore_command(inv: Invocation) -> Reply:
    bus = inv.bus
    job_id = inv.required(0, "the id of the purge or delete job (see `/bus jobs`)")
    job = store.get(bus, job_id)
    if job is not None and job.kind not in ("purge", "delete"):
        raise CommandError(f"Job `{job_id}` was a {job.kind}, not a purge or delete; there is nothing to restore.")
    check_source_free(bus, bus.keys.dlq_archive)
    archive.expire_old(bus)
    sel = select(bus, "restore", bus.keys.dlq_archive, {"archive_job": job_id})
    if sel.matched == 0:
        return empty_reply(f"The archive holds no entries of job `{md(job_id)}` (kept {_days(inv)}), "
                           "so there is nothing to restore.", "`/bus jobs` lists recent purges.")
    req = GuardedRequest(token="", kind="restore", command=f"dlq restore {job_id}",
                         params={"archive_job": job_id}, source=bus.keys.dlq_archive,
                         target=bus.keys.dlq, upper=sel.upper, to_move=sel.matched,
                         requester=inv.user_id)
    summary = (f"{num(sel.matched)} archived entries of job `{md(job_id)}` go back to "
               f"`{md(bus.keys.dlq)}` with every field (as new, newest entries; `restoredFrom` "
               "names the archive entry) and leave the archive.")
    return preview_reply(bus, req, title=f"Restore {num(sel.matched)} DLQ entries", verb="Restore",
                         summary=summary, facts=selection_facts(sel)[:4], breakdown=breakdown(sel))
