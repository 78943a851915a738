"""What a command returns: the template to render, its data, and a plain-text fallback."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Reply:
    template: str
    context: dict[str, Any] = field(default_factory=dict)
    text: str = ""
    command: str = ""  # the command text that produced it, for Share and paging buttons
    response_type: str = "ephemeral"  # or "in_channel": visible to everyone in the channel
    replace_original: bool = False  # a button's answer replaces the message it sat on
    shareable: bool = True  # the adapter may offer "Post to channel"


class CommandError(Exception):
    """Shown to the user as it is: one plain sentence and what to do instead."""

    def __init__(self, message: str, hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.hint = hint


class UsageError(CommandError):
    """The text does not fit the command's grammar; carries the usage line."""

    def __init__(self, message: str, usage: str):
        super().__init__(message, f"Usage: `/bus {usage}`")
        self.usage = usage
