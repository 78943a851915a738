"""Small view-model helpers shared by the read commands: an entry as a row, a table."""
from __future__ import annotations

import json

from bot.envelope import ParsedEntry
from bot.timeparse import human_age, id_ms


def entry_row(e: ParsedEntry, now: int) -> dict:
    ms = id_ms(e.entry_id)
    first_error = (e.error.strip().splitlines() or [""])[0]
    return {"id": e.entry_id, "age": human_age(now - ms) if ms else "?", "type": e.type,
            "tenant": e.tenant, "event_id": e.event_id, "error": first_error[:180],
            "attempts": e.fields.get("attempts"), "problem": e.problem,
            "user": (e.event or {}).get("userId"), "show": run_button("Show", f"dlq show {e.entry_id}")}


def event_json(e: ParsedEntry, limit: int = 2400) -> str:
    """The event pretty-printed, or the raw text of an entry that is not valid JSON."""
    if e.event is not None:
        text = json.dumps(e.event, indent=2, ensure_ascii=False)
    elif e.raw_event is not None:
        text = e.raw_event
    else:
        text = json.dumps(e.fields, indent=2, ensure_ascii=False)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def run_button(text: str, command: str, style: str | None = None) -> dict:
    """A button that runs a read-only command (paging, "show")."""
    b = {"text": text, "action_id": "bus_run", "value": command}
    if style:
        b["style"] = style
    return b


def paging_buttons(text: str, before: str | None, next_before: str | None) -> list[dict]:
    """*Newest* (when on an older page) and *Older →* for a newest-first listing whose
    command text takes `before=<id>`."""
    base = " ".join(w for w in text.split() if not w.startswith("before="))
    buttons = [run_button("Newest", base)] if before else []
    if next_before:
        buttons.append(run_button("Older →", f"{base} before={next_before}"))
    return buttons
