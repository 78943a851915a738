"""One call of a command: who asked, what they typed, and typed access to the arguments."""
from __future__ import annotations

from dataclasses import dataclass

from bot.bus import Bus
from bot.phrase import PhraseLike, code, phrase
from bot.runtime import Runtime
from bot.timeparse import WhenError, is_stream_id, parse_when
from commands.args import Args
from commands.registry import Command
from commands.reply import CommandError, UsageError


@dataclass
class Invocation:
    rt: Runtime
    command: Command
    args: Args
    user_id: str = "console"
    text: str = ""

    @property
    def bus(self) -> Bus:
        return self.rt.bus

    def usage_error(self, message: PhraseLike) -> UsageError:
        return UsageError(message, self.command.usage)

    def positional(self, index: int) -> str | None:
        p = self.args.positional
        return p[index] if index < len(p) else None

    def required(self, index: int, what: PhraseLike) -> str:
        value = self.positional(index)
        if value is None:
            raise self.usage_error(phrase(code(self.command.name), " needs ", what, "."))
        return value

    def number(self, raw: str | None, what: str, default: int, lo: int, hi: int) -> int:
        if raw is None or raw == "":
            return default
        if not (raw.isascii() and raw.isdigit()):
            raise self.usage_error(phrase(f"{what} must be a whole number from {lo} to {hi}, not ", code(raw), "."))
        value = int(raw)
        if not lo <= value <= hi:
            raise self.usage_error(f"{what} must be from {lo} to {hi}, not {value}.")
        return value

    def option(self, name: str) -> str | None:
        value = self.args.options.get(name)
        if value is not None and value == "":
            raise self.usage_error(phrase(code(f"{name}="), " needs a value."))
        return value

    def stream_id(self, name: str) -> str | None:
        """An option that must be a stream id (the `before=` of paging buttons)."""
        raw = self.option(name)
        if raw is not None and not is_stream_id(raw):
            raise self.usage_error(phrase(code(f"{name}="), " takes a stream id like 1764000000000-0, not ",
                                          code(raw), "."))
        if raw is not None and raw.split("-")[0].strip("0") == "" and raw.partition("-")[2].strip("0") == "":
            raise CommandError(phrase("Nothing is older than ", code(raw), ", the first possible stream id."),
                               phrase("Leave out ", code(f"{name}="), " to start from the newest entries."))
        return raw

    def when(self, name: str) -> int | None:
        raw = self.option(name)
        if raw is None:
            return None
        try:
            return parse_when(raw, self.bus.clock())
        except WhenError as exc:
            raise self.usage_error(str(exc)) from None
