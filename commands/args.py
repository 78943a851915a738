"""Splitting `/bus` text into positional words and `key=value` options."""
from __future__ import annotations

import shlex
from dataclasses import dataclass, field

from bot.phrase import code, phrase
from commands.reply import CommandError


@dataclass
class Args:
    positional: list[str] = field(default_factory=list)
    options: dict[str, str] = field(default_factory=dict)


def tokenize(text: str) -> list[str]:
    """Words of the command; quotes group words (`error="timed out"`)."""
    text = text.replace("\u201c", '"').replace("\u201d", '"').replace("\u2018", "'").replace("\u2019", "'")
    try:
        return shlex.split(text)
    except ValueError:
        raise CommandError("A quote in your command is not closed.",
                           phrase("Close it, e.g. ", code('/bus dlq list error="timed out"'), ".")) from None


def split_args(words: list[str]) -> Args:
    args = Args()
    for w in words:
        key, eq, value = w.partition("=")
        if eq and key and key.replace("_", "").isalnum():
            args.options[key.lower()] = value
        else:
            args.positional.append(w)
    return args
