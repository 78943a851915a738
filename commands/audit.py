"""`/bus audit [N]`: the latest entries of the audit stream."""
from __future__ import annotations

from bot.actions import audit
from bot.phrase import person
from bot.plural import plural
from bot.timeparse import id_ms, iso_ms
from commands.invocation import Invocation
from commands.registry import REGISTRY
from commands.reply import Reply


def _row(e: audit.AuditEntry) -> dict:
    return {"at": (iso_ms(id_ms(e.id)) or "?")[:19].replace("T", " "), "who": person(e.who),
            "what": e.what, "args": e.args[:120], "result": e.result[:160], "job": e.job or None}


@REGISTRY.command("audit [N]", "Who did what: requests, approvals, refusals, jobs (latest N).",
                  max_positional=1, group="Actions")
def audit_command(inv: Invocation) -> Reply:
    n = inv.number(inv.positional(0), "N", 20, 1, 100)
    entries = audit.latest(inv.bus, n)
    return Reply("audit", {"entries": [_row(e) for e in entries], "stream": inv.bus.keys.audit},
                 f"Latest {plural(len(entries), 'audit entry')}")
