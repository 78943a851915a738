"""What a command returns: the view to render, its data, and a plain-text fallback.

The data is plain values (numbers, strings, phrases of `bot.phrase`): no markup and no
Slack terms, so Slack, the console and any other front end render the same reply. Who sees
it and whether it takes the place of the message a button sat on are stated as intent;
each adapter maps them to its own terms.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel

from bot.phrase import PhraseLike, code, phrase, plain

Visibility = Literal["private", "channel"]


@dataclass
class Reply:
    template: str
    context: dict[str, Any] = field(default_factory=dict)
    text: str = ""
    command: str = ""  # the command text that produced it, for Share and paging buttons
    visibility: Visibility = "private"  # "channel": everyone in the channel sees it
    replaces: bool = False  # a button's answer takes the place of the message it sat on
    shareable: bool = True  # the adapter may offer "Post to channel"


def plain_data(value: Any) -> Any:
    """A view model as JSON-ready data (for renderers that serialise it): pydantic models and
    dataclasses become dicts, tuples lists; anything else that JSON cannot hold is an error."""
    if isinstance(value, BaseModel):
        return plain_data(value.model_dump(mode="json"))
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return plain_data(dataclasses.asdict(value))
    if isinstance(value, dict):
        return {str(k): plain_data(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain_data(v) for v in value]
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    raise TypeError(f"{type(value).__name__} in a view model is not plain data")


class CommandError(Exception):
    """Shown to the user as it is: one plain sentence and what to do instead (phrases)."""

    def __init__(self, message: PhraseLike, hint: PhraseLike = None):
        self.message = phrase(message)
        self.hint = phrase(hint) if hint else None
        super().__init__(plain(self.message))


class UsageError(CommandError):
    """The text does not fit the command's grammar; carries the usage line."""

    def __init__(self, message: PhraseLike, usage: str):
        super().__init__(message, phrase("Usage: ", code(f"/bus {usage}")))
        self.usage = usage
