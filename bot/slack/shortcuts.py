"""The message shortcut "Look up event in busbot": on any message that holds a stream id
(`1764000000000-0`) or an event's envelope id, answer privately with `/bus event <id>`;
a message with neither gets a sentence."""
from __future__ import annotations

import re

from bot.runtime import Runtime
from commands import router
from commands.guard import notice
from commands.reply import Reply

CALLBACK_ID = "bus_lookup"
MAX_TRIES = 3  # ids looked up at most for one message
_STREAM_ID = re.compile(r"(?<![\w.-])(\d{10,20}-\d{1,20})(?![\w-])")
_JSON_ID = re.compile(r'"id"\s*:\s*"([A-Za-z0-9_.:-]{4,100})"')
_ENVELOPE_ID = re.compile(r"(?<![\w-])(c[a-z0-9]{20,32}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
                          r"|(?:evt|ev|event)_[A-Za-z0-9]{4,64})(?![\w-])", re.IGNORECASE)


def ids_in(text: str) -> list[str]:
    """Ids worth looking up, most telling first: stream ids, then `"id": "..."` values, then
    words shaped like envelope ids (cuid, uuid, evt_...)."""
    found: list[str] = []
    for pattern in (_STREAM_ID, _JSON_ID, _ENVELOPE_ID):
        for m in pattern.finditer(text or ""):
            if m.group(1) not in found:
                found.append(m.group(1))
    return found


def message_text(message: dict) -> str:
    """The text of a message and of its attachments (bots often put details there)."""
    parts = [message.get("text") or ""]
    for a in message.get("attachments") or []:
        parts += [a.get("text") or "", a.get("fallback") or "", a.get("pretext") or ""]
    return "\n".join(p for p in parts if p)


def lookup(text: str, rt: Runtime, user: str) -> Reply:
    """`event <id>` for the first id in `text` that busbot finds."""
    ids = ids_in(text)
    if not ids:
        return notice("This message holds no stream id (like 1764000000000-0) or event id, so there is "
                      "nothing to look up.", "Type /bus event <id> with the id you are after.", "unknown")
    reply = None
    for ident in ids[:MAX_TRIES]:
        reply = router.run(f"event {ident}", rt, user)
        if reply.template != "error":
            break
    assert reply is not None
    return reply
