"""`/bus audit [N]`: the latest entries of the audit stream."""
from __future__ import annotations

from bot.actions import audit
from bot.actions.view import who
from bot.render import md
from bot.timeparse import id_ms, iso_ms
from commands.invocation import Invocation
from commands.registry import REGISTRY
from commands.reply import Reply


def _line(e: audit.AuditEntry) -> str:
    at = (iso_ms(id_ms(e.id)) or "?")[:19].replace("T", " ")
    job = f" · job `{md(e.job)}`" if e.job else ""
    args = f" `{md(e.args[:120])}`" if e.args else ""
    return f"`{at}` {who(e.who)} *{md(e.what)}*{args} → {md(e.result[:160])}{job}"


@REGISTRY.command("audit [N]", "Who did what: requests, approvals, refusals, jobs (latest N).",
                  max_positional=1, group="Actions")
def audit_command(inv: Invocation) -> Reply:
    n = inv.number(inv.positional(0), "N", 20, 1, 100)
    entries = audit.latest(inv.bus, n)
    return Reply("audit", {"entries": [_line(e) for e in entries], "stream": inv.bus.keys.audit},
                 f"Latest {len(entries)} audit entries")
