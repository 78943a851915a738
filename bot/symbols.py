"""One table of the symbols busbot shows next to a status: the Slack emoji and the glyph a
terminal shows for it. View models name a symbol (`"warning"`, `"paused"`); each renderer
looks it up here, so a status looks the same in every answer."""
from __future__ import annotations

# name -> (Slack emoji, terminal glyph)
SYMBOLS: dict[str, tuple[str, str]] = {
    "healthy": (":large_green_circle:", "[OK]"),
    "ok": (":white_check_mark:", "[OK]"),
    "warning": (":large_yellow_circle:", "[WARN]"),
    "critical": (":red_circle:", "[CRIT]"),
    "unknown": (":white_circle:", "[?]"),
    "caution": (":warning:", "[!]"),
    "error": (":warning:", "[!]"),
    "info": (":information_source:", "[i]"),
    "lock": (":lock:", "[LOCKED]"),
    "zero": (":zero:", "[0]"),
    "expired": (":hourglass:", "[EXPIRED]"),
    "cancelled": (":no_entry_sign:", "[CANCELLED]"),
    "rejected": (":no_entry:", "[REJECTED]"),
    "approval": (":raised_hand:", "[APPROVAL]"),
    "paused": (":double_vertical_bar:", "[PAUSED]"),
    "resumed": (":arrow_forward:", "[>]"),
    "trimmed": (":scissors:", "[TRIMMED]"),
    "running": (":arrows_counterclockwise:", "[RUNNING]"),
    "cancelling": (":hourglass:", "[WAIT]"),
    "completed": (":white_check_mark:", "[DONE]"),
    "failed": (":x:", "[X]"),
    "check": (":mag:", "[CHECK]"),
    "alert": (":rotating_light:", "[ALERT]"),
    "snoozed": (":zzz:", "[SNOOZED]"),
    "acked": (":eyes:", "[ACK]"),
    "silenced": (":no_bell:", "[SILENCED]"),
}
FALLBACK = "unknown"


def slack_emoji(name: str | None) -> str:
    return SYMBOLS.get(str(name or "").lower(), SYMBOLS[FALLBACK])[0]


def glyph(name: str | None) -> str:
    return SYMBOLS.get(str(name or "").lower(), SYMBOLS[FALLBACK])[1]


def glyph_of_emoji(emoji: str) -> str:
    """The glyph of a Slack `:emoji:` name that appears in text (alert messages)."""
    for slack, text in SYMBOLS.values():
        if slack == emoji:
            return text
    return "[" + emoji.strip(":").replace("_", " ") + "]"
