"""`/bus help [command]`: the registry, grouped, with usage lines."""
from __future__ import annotations

from bot.phrase import code, phrase
from commands.invocation import Invocation
from commands.registry import REGISTRY
from commands.reply import CommandError, Reply


@REGISTRY.command("help [command]", "List the commands, or show one command's usage.",
                  max_positional=3, group="Help")
def help_command(inv: Invocation) -> Reply:
    topic = [w.lower() for w in inv.args.positional]
    commands = REGISTRY.all()
    if topic:
        commands = [c for c in commands if list(c.path[:len(topic)]) == topic[:len(c.path)]]
        if not commands:
            raise CommandError(phrase("There is no command ", code(" ".join(topic)), "."),
                               phrase("Type ", code("/bus help"), " for the list."))
    groups: dict[str, list[dict]] = {}
    for c in commands:
        groups.setdefault(c.group, []).append({"usage": c.usage, "help": c.help, "role": c.role})
    return Reply("help", {"groups": groups, "topic": " ".join(topic)},
                 f"busbot commands: {', '.join(c.name for c in commands)}")
