"""`/bus whoami`: the caller's roles, and where each comes from (which setting, which entry,
which Slack user group), so anyone can tell why busbot lets them do something or not."""
from __future__ import annotations

from bot.actions import policy
from bot.phrase import Phrase, code, fact, join, person, phrase, plain
from commands.invocation import Invocation
from commands.registry import REGISTRY
from commands.reply import Reply

LABELS = {policy.VIEWER: "Viewer (reads)", policy.OPERATOR: "Operator (previews, confirms, requests)",
          policy.APPROVER: "Approver (approves others' requests)"}


def _source(check: policy.Check, settings) -> Phrase:
    g = check.grant
    if g is None:
        setting, groups = policy.how_to_get(settings, check.role)
        ways = phrase(" (ask to join ", join([code(x) for x in groups], " or "), ")") if groups else None
        return phrase("no: not in ", code(setting), ways)
    if not g.entry:
        return phrase("yes: ", code(g.setting), " is empty, so everyone reads")
    if g.role != check.role:
        return phrase("yes, as ", "an " if g.role[0] in "aeiou" else "a ", g.role, " (", code(g.setting),
                      " lists ", code(g.entry), ")")
    fallback = (phrase(code("BUS_APPROVERS"), " is empty, so the operators approve; ")
                if check.role == policy.APPROVER and g.setting == "BUS_OPERATORS" else None)
    if g.group is not None:
        stale = " (as Slack last said: it could not be asked just now)" if g.group.stale else ""
        return phrase("yes: ", fallback, code(g.setting), " lists ", code(g.entry), f", and you are a member{stale}")
    return phrase("yes: ", fallback, code(g.setting), " lists you (", code(g.entry), ")")


@REGISTRY.command("whoami", "Show your busbot roles and where they come from.", group="Help")
def whoami(inv: Invocation) -> Reply:
    settings = inv.bus.settings
    checks = policy.roles_of(settings, inv.rt.groups, inv.user_id)
    facts = [fact(LABELS[c.role], _source(c, settings)) for c in checks]
    notes = [c.note for c in checks if c.note]
    held = [c.role for c in checks if c.grant]
    message = phrase("You are ", person(inv.user_id), ": ",
                     ", ".join(held) if held else "no busbot role", ".")
    return Reply("whoami", {"message": message, "facts": facts, "note": notes[0] if notes else None},
                 plain(message), shareable=False)
