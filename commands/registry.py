"""One registry of subcommands: it feeds the router, `/bus help`, usage errors and
"did you mean". Duplicate names are rejected when the module that registers them loads.

The registry lists its commands in `HELP_ORDER`, whichever module was imported first; a
command missing from it comes last (by name), and a test asks for every command to be in it."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from commands.invocation import Invocation
    from commands.reply import Reply


READ_ONLY_GROUPS = frozenset({"Help", "Read"})

# The order of `/bus help` (and of its groups: the order their first command appears in).
HELP_ORDER: tuple[str, ...] = (
    "help", "whoami",
    "health", "groups", "events", "event", "redis",
    "dlq", "dlq top", "dlq list", "dlq show",
    "alerts", "silences", "silence",
    "reprocess", "dlq edit", "dlq delete", "dlq purge", "dlq restore", "replay",
    "jobs", "job", "job cancel", "approvals", "approval",
    "pause", "resume", "trim", "audit",
)


@dataclass(frozen=True)
class Command:
    path: tuple[str, ...]  # ("dlq", "top")
    usage: str  # "dlq top [N]"
    help: str  # one line
    handler: Callable[[Invocation], Reply]
    options: frozenset[str] = frozenset()  # allowed key=value keys
    max_positional: int = 0
    role: str = "anyone"  # "anyone" or "operator"
    group: str = "Read"

    @property
    def name(self) -> str:
        return " ".join(self.path)

    @property
    def read_only(self) -> bool:
        """Reads the bus and nothing else: safe to run in any process."""
        return self.group in READ_ONLY_GROUPS


class Registry:
    def __init__(self, order: tuple[str, ...] = ()) -> None:
        self._commands: dict[tuple[str, ...], Command] = {}
        self._position = {name: i for i, name in enumerate(order)}

    def add(self, command: Command) -> Command:
        if command.path in self._commands:
            raise ValueError(f"command {command.name!r} registered twice")
        self._commands[command.path] = command
        return command

    def command(self, usage: str, help: str, *, options: tuple[str, ...] = (),
                max_positional: int = 0, role: str = "anyone", group: str = "Read"):
        """Decorator: the path is the usage's leading lowercase words."""
        words = usage.split()
        n = 0
        while n < len(words) and words[n].isalpha() and words[n].islower():
            n += 1

        def wrap(fn):
            self.add(Command(tuple(words[:n]), usage, help, fn, frozenset(options),
                             max_positional, role, group))
            return fn
        return wrap

    def all(self) -> list[Command]:
        """Every command in the registry's order, never in the order modules were imported."""
        last = len(self._position)
        return sorted(self._commands.values(), key=lambda c: (self._position.get(c.name, last), c.name))

    def match(self, words: list[str]) -> tuple[Command | None, list[str]]:
        """Longest registered path that prefixes `words`, and the words after it."""
        lowered = [w.lower() for w in words]
        for n in range(min(len(words), 3), 0, -1):
            cmd = self._commands.get(tuple(lowered[:n]))
            if cmd:
                return cmd, words[n:]
        return None, words

    def children(self, head: str) -> list[Command]:
        return [c for c in self.all() if c.path[0] == head]


REGISTRY = Registry(HELP_ORDER)
