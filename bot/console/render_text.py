"""Block Kit -> terminal text, so the console shows what Slack would, from the same templates.

Buttons become numbered choices (`[1] Older`) that the REPL can run; `bus_share` ("Post to
channel") is left out, it means nothing in a terminal. ANSI styling only when asked for
(the caller passes `color=stdout.isatty()`).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

WIDTH = 72
SKIPPED_ACTIONS = frozenset({"bus_share"})

MARKS = {"large_green_circle": "[OK]", "white_check_mark": "[OK]", "large_yellow_circle": "[WARN]",
         "red_circle": "[CRIT]", "white_circle": "[?]", "warning": "[!]", "x": "[X]",
         "double_vertical_bar": "[PAUSED]", "arrow_forward": "[>]", "rotating_light": "[ALERT]",
         "hourglass": "[WAIT]", "hourglass_flowing_sand": "[WAIT]", "zzz": "[SNOOZED]", "eyes": "[ACK]"}

_BOLD, _DIM, _RESET = "\033[1m", "\033[2m", "\033[0m"
_ANSI = re.compile(r"\033\[[0-9;]*m")
_EMOJI = re.compile(r"(?<![\w:]):([a-z][a-z0-9_+\-]*):(?![\w])")
_LINK = re.compile(r"<([^<>|]+)\|([^<>]+)>")
_ANGLE = re.compile(r"<([@#!])?([^<>|]+)>")
_STAR = re.compile(r"(?<![\w*])\*([^*\n]+)\*(?![\w*])")
_UNDERSCORE = re.compile(r"(?<![\w])_([^_\n]+)_(?![\w])")
_STRIKE = re.compile(r"(?<![\w~])~([^~\n]+)~(?![\w~])")


@dataclass(frozen=True)
class Choice:
    """A button of the last answer: what the REPL runs when its number is typed."""
    label: str
    action_id: str
    value: str
    confirm: str | None = None  # the confirm dialog's text, asked before running


@dataclass
class Screen:
    text: str
    choices: list[Choice] = field(default_factory=list)


def unescape(text: str) -> str:
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def emoji_marks(text: str) -> str:
    return _EMOJI.sub(lambda m: MARKS.get(m.group(1), f"[{m.group(1).replace('_', ' ')}]"), text)


def _angle(m: re.Match) -> str:
    sigil, body = m.group(1), m.group(2)
    if sigil == "!":  # <!here>, <!channel>
        return "@" + body
    return (sigil or "") + body


def _link(m: re.Match) -> str:
    target, label = m.group(1), m.group(2)
    if target[0] in "@#":  # <@U123|alice>, <#C123|general>
        return target[0] + label
    if target[0] == "!":  # <!subteam^S1|@oncall>
        return label
    return f"{label} ({target})"


def _links(text: str) -> str:
    return _ANGLE.sub(_angle, _LINK.sub(_link, text))


def _styled(text: str, color: bool) -> str:
    """Inline mrkdwn outside `code` spans: *bold*, _italic_, ~strike~, emoji, links."""
    bold = (lambda m: f"{_BOLD}{m.group(1)}{_RESET}") if color else (lambda m: m.group(1))
    return _STRIKE.sub(r"\1", _STAR.sub(bold, emoji_marks(_links(text))))


def mrkdwn(text: str, color: bool = False) -> str:
    """One mrkdwn text -> terminal text; ``` blocks are kept as they are (tables)."""
    out = []
    for i, part in enumerate(text.split("```")):
        if i % 2:  # inside a code block
            out.append("\n" + part.strip("\n") + "\n")
        else:  # _italic_ may wrap `code`, so it is undone before splitting at backticks
            spans = _UNDERSCORE.sub(r"\1", part).split("`")
            out.append("`".join(s if j % 2 else _styled(s, color) for j, s in enumerate(spans)))
    return unescape("".join(out).strip("\n"))


def visible_len(text: str) -> int:
    return len(_ANSI.sub("", text))


def _columns(cells: list[str], color: bool) -> list[str]:
    """Section fields two by two, the left column padded to the widest left cell."""
    rendered = [mrkdwn(c, color).splitlines() or [""] for c in cells]
    left_width = min(max((visible_len(line) for cell in rendered[::2] for line in cell), default=0), WIDTH // 2)
    lines: list[str] = []
    for n in range(0, len(rendered), 2):
        left, right = rendered[n], rendered[n + 1] if n + 1 < len(rendered) else []
        for i in range(max(len(left), len(right))):
            a = left[i] if i < len(left) else ""
            b = right[i] if i < len(right) else ""
            lines.append((a + " " * max(0, left_width - visible_len(a)) + "    " + b).rstrip())
    return lines


def _text_of(obj) -> str:
    return obj.get("text", "") if isinstance(obj, dict) else str(obj or "")


def _button(element: dict, choices: list[Choice]) -> str | None:
    if element.get("type") != "button" or element.get("action_id") in SKIPPED_ACTIONS:
        return None
    label = emoji_marks(_text_of(element.get("text")))
    confirm = element.get("confirm")
    choices.append(Choice(label, element.get("action_id", ""), element.get("value", ""),
                          unescape(_text_of(confirm.get("text"))) if confirm else None))
    return f"[{len(choices)}] {label}"


def _wrap(labels: list[str]) -> list[str]:
    """Choices side by side, as many as fit in WIDTH on a line."""
    lines: list[str] = []
    for label in labels:
        if lines and visible_len(lines[-1]) + 2 + visible_len(label) <= WIDTH:
            lines[-1] += "  " + label
        else:
            lines.append(label)
    return lines


def _block(block: dict, color: bool, choices: list[Choice]) -> list[str]:
    kind = block.get("type")
    if kind == "header":
        title = unescape(emoji_marks(_text_of(block.get("text"))))
        return [f"{_BOLD}{title}{_RESET}" if color else title, "=" * min(visible_len(title), WIDTH)]
    if kind == "divider":
        return ["-" * WIDTH]
    if kind == "context":
        parts = [mrkdwn(_text_of(e), color) for e in block.get("elements", []) if e.get("type") != "image"]
        lines = ["  " + line for line in " · ".join(parts).splitlines()]
        return [f"{_DIM}{line}{_RESET}" for line in lines] if color else lines
    if kind == "actions":
        return _wrap([b for b in (_button(e, choices) for e in block.get("elements", [])) if b])
    lines: list[str] = []
    if block.get("text"):
        lines += mrkdwn(_text_of(block["text"]), color).splitlines()
    if block.get("fields"):
        lines += _columns([_text_of(f) for f in block["fields"]], color)
    accessory = _button(block.get("accessory") or {}, choices)
    if accessory:
        lines.append("    " + accessory)
    return lines


def render_text(message: dict, color: bool = False) -> Screen:
    """A Slack message body ({"blocks", "text"}) -> text for a terminal and its choices."""
    choices: list[Choice] = []
    blocks = message.get("blocks") or []
    if not blocks:
        return Screen(mrkdwn(message.get("text", ""), color))
    out: list[str] = []
    for block in blocks:
        lines = _block(block, color, choices)
        if block.get("type") != "context" and out and out[-1] != "":
            out.append("")  # blocks stand apart, as in Slack; a context belongs to what it follows
        out += lines
        if block.get("type") in ("header", "divider"):
            out.append("")
    return Screen("\n".join(out).rstrip(), choices)
