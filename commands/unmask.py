"""`unmask=yes` on `dlq show` and `event`: raw values for the role `BUS_UNMASK_ROLE` names,
in a private reply that cannot be posted to the channel; every look and every refused one
is audited. Everyone else, and everything else, sees masked values (bot/mask.py)."""
from __future__ import annotations

from bot.actions import audit, policy
from bot.mask import RAW, Masker
from bot.phrase import code, phrase
from commands.invocation import Invocation
from commands.reply import CommandError, Reply

OPTION = "unmask"
NOTE = "Unmasked: personal data is shown as stored. Only you see this answer, and the audit records that you looked."


def unmasking(inv: Invocation, what: str) -> Masker | None:
    """RAW when the caller asked for raw values and may see them, None when they did not ask;
    CommandError (audited) when they may not."""
    value = inv.option(OPTION)
    if value is None:
        return None
    if value.lower() not in ("yes", "true", "1"):
        raise inv.usage_error(phrase(code("unmask="), " takes ", code("yes"), "."))
    bus, role = inv.bus, inv.bus.settings.bus_unmask_role
    check = policy.has_role(bus.settings, inv.rt.groups, inv.user_id, role) if role else None
    if not check:
        why = f"not {'an' if role[:1] in 'aeiou' else 'a'} {role}" if role else "BUS_UNMASK_ROLE is not set"
        audit.record(bus, inv.user_id, "unmask.refused", what, why)
        message = (phrase("Only busbot ", policy.role_name(bus.settings, role), " may see unmasked values, and you "
                          "are not one of them.") if role else
                   phrase("Nobody may see unmasked values: ", code("BUS_UNMASK_ROLE"), " is not set."))
        raise CommandError(message, phrase("Leave out ", code("unmask=yes"), " to see it with personal data masked."))
    audit.record(bus, inv.user_id, "unmask", what, "shown unmasked in a private reply")
    return RAW


def unmasked(reply: Reply) -> Reply:
    """A reply with raw values: private, never posted to the channel, and it says so."""
    reply.visibility, reply.shareable = "private", False
    reply.text += " (unmasked, only you see it)"
    reply.context["role_note"] = NOTE  # shown under the answer, in Slack and in the console
    return reply
