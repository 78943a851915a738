"""Personal data never leaves busbot: one masker for every value read from the streams.

`Masker.entry()` returns a masked copy of a `ParsedEntry`; the read side (bot.services.scan)
hands only such copies to the services, so every front end (Slack, console, API, dashboard,
exports) shows and searches masked text. `Masker.text()` masks free text (an error message,
an audit line, a log record). What Redis holds is never changed: moves copy entries by id.

Two kinds of rule:
- fields (`BUS_MASK_FIELDS`): paths into the event, `data.email`, `data.*.phone`,
  `data.items[*].name`; whatever sits there is masked whole, whatever it looks like.
- patterns (`BUS_MASK_PATTERNS`, plus the defaults unless `BUS_MASK_DEFAULTS=false`):
  regexes applied to every string; the defaults find e-mail addresses, phone numbers,
  payment card numbers (Luhn-checked), bearer tokens and JWTs, and URL credentials.

Masked values keep their shape so entries can be told apart: `j***@e***.com`,
`**** **** **** 4242`, `+** **** ***123`, `J*** S***`.
"""
from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import replace
from functools import lru_cache
from typing import Any

from bot.envelope import ParsedEntry
from bot.redact import redact_text

STAR = "***"
DEFAULTS_VERSION = 2  # bump when the default rules change

_EMAIL = re.compile(r"(?<![\w.+-])([A-Za-z0-9][A-Za-z0-9._%+-]*)@([A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,})\b")
_CARD = re.compile(r"(?<![\w-])[2-6](?:[ -]?\d){12,18}(?![\w-])")  # issuers' first digits: 2-6; not in ids
_PHONE = re.compile(
    r"(?<![\w+])\+\d{1,3}[ .-]?(?:\(\d{1,4}\)[ .-]?)?\d{2,5}(?:[ .-]?\d{2,5}){0,3}(?![\w-])"  # +44 7700 900123
    r"|(?<![\w-])\(?\d{3}\)?[ .-]\d{3}[ .-]\d{4}(?![\w-])")  # (555) 123-4567, 555.123.4567
_BEARER = re.compile(r"(?i)\b(bearer|basic)(\s+)([A-Za-z0-9\-._~+/]{8,}=*)"
                     r"|\b((?:access_|api_|auth_|refresh_)?token|api[_-]?key|secret|password)(\s*[=:]\s*\"?)"
                     r"([A-Za-z0-9\-._~+/]{6,}=*)")
_JWT = re.compile(r"\beyJ[\w-]{5,}\.[\w-]{5,}\.[\w-]*")


def luhn(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def mask_email(local: str, domain: str) -> str:
    labels = domain.split(".")
    return f"{local[:1]}{STAR}@{labels[0][:1]}{STAR}.{labels[-1]}"


def keep_last(text: str, keep: int) -> str:
    """Every digit but the last `keep` replaced by `*`; separators stay."""
    total = sum(c.isdigit() for c in text)
    out, seen = [], 0
    for c in text:
        if c.isdigit():
            seen += 1
            out.append(c if seen > total - keep else "*")
        else:
            out.append(c)
    return "".join(out)


def shape(value: str) -> str:
    """A whole value masked (a field rule): an e-mail keeps its shape, digits keep their
    last two, words their first letter."""
    m = _EMAIL.fullmatch(value.strip())
    if m:
        return mask_email(m.group(1), m.group(2))
    if sum(c.isdigit() for c in value) >= 6 and not any(c.isalpha() for c in value):
        return keep_last(value, 2)
    words = re.sub(r"[^\W\d_]+|\d+", lambda w: w.group(0)[:1] + STAR if len(w.group(0)) > 1 else "*", value)
    return words if words != value or not value else STAR


def _card(m: re.Match) -> str:
    digits = re.sub(r"\D", "", m.group(0))
    return keep_last(m.group(0), 4) if 13 <= len(digits) <= 19 and luhn(digits) else m.group(0)


def _phone(m: re.Match) -> str:
    digits = sum(c.isdigit() for c in m.group(0))
    return keep_last(m.group(0), 3) if 8 <= digits <= 15 else m.group(0)


DEFAULT_RULES: tuple[tuple[re.Pattern, Callable[[re.Match], str]], ...] = (
    (_JWT, lambda m: "eyJ" + STAR),
    (_BEARER, lambda m: f"{m.group(1) or m.group(4)}{m.group(2) or m.group(5)}{STAR}"),
    (_EMAIL, lambda m: mask_email(m.group(1), m.group(2))),
    (_CARD, _card),
    (_PHONE, _phone),
)


# Cheap tests for text which MAY hold something a default rule masks; most strings (ids,
# types, times, messages) hold nothing and skip the rules. Every rule needs one of these.
_MARKS = ("@", "://", "eyJ")
_WORDS = ("bearer", "basic", "token", "secret", "password", "passwd", "pwd", "key")
_NUMBERS = re.compile(r"\d{3}\)?[ .-]\d{3}[ .-]\d{4}|\d(?:[ -]?\d){12}|\+\d")


def _maybe(text: str) -> bool:
    if any(m in text for m in _MARKS):
        return True
    low = text.lower()
    return any(w in low for w in _WORDS) or _NUMBERS.search(text) is not None


class MaskError(ValueError):
    """A mask setting that busbot cannot use; the message says what is wrong."""


def split_patterns(value: str) -> list[str]:
    """`BUS_MASK_PATTERNS`: one regex a line, or comma-separated where a comma is outside
    brackets, braces and parentheses (`\\d{3,4}` stays whole)."""
    if "\n" in value:
        return [p.strip() for p in value.splitlines() if p.strip()]
    parts, depth, cur, escaped = [], 0, "", False
    for ch in value:
        if escaped:
            cur, escaped = cur + ch, False
            continue
        if ch == "\\":
            cur, escaped = cur + ch, True
            continue
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth = max(0, depth - 1)
        if ch == "," and depth == 0:
            parts.append(cur)
            cur = ""
            continue
        cur += ch
    parts.append(cur)
    return [p.strip() for p in parts if p.strip()]


def compile_patterns(value: str) -> list[re.Pattern]:
    out = []
    for p in split_patterns(value):
        try:
            out.append(re.compile(p))
        except re.error as exc:
            raise MaskError(f"{p!r} is not a regular expression ({exc})") from None
    return out


_STEP = re.compile(r"([^.\[\]]+)|\[(\*|\d+)\]")


def parse_path(path: str) -> tuple[str, ...]:
    """`data.items[*].email` -> ("data", "items", "[*]", "email"); `*` is any key."""
    path = path.strip()
    steps, pos = [], 0
    for m in _STEP.finditer(path):
        if path[pos:m.start()] not in ("", "."):
            raise MaskError(f"{path!r} is not a field path (use dots, * and [*], e.g. data.items[*].email)")
        steps.append(m.group(1) if m.group(1) is not None else f"[{m.group(2)}]")
        pos = m.end()
    if not steps or path[pos:] or path.startswith(".") or path.endswith("."):
        raise MaskError(f"{path!r} is not a field path (use dots, * and [*], e.g. data.items[*].email)")
    return tuple(steps)


def parse_fields(value: str) -> list[tuple[str, ...]]:
    return [parse_path(p) for p in value.split(",") if p.strip()]


class Masker:
    """Masks events, entries and text by field paths and patterns. Immutable; safe to share."""

    def __init__(self, fields: Iterable[tuple[str, ...]] = (), patterns: Iterable[re.Pattern] = (),
                 defaults: bool = True, enabled: bool = True):
        self.fields = tuple(fields)
        self.patterns = tuple(patterns)
        self.defaults = defaults
        self.enabled = enabled
        self.text = lru_cache(maxsize=65536)(self._text)  # error texts repeat a lot (dlq top)
        # names the rules, so results computed under other rules are not reused (dlq top's cache)
        self.key = "off" if not enabled else hashlib.sha1(repr(
            (self.fields, [p.pattern for p in self.patterns], defaults, DEFAULTS_VERSION)).encode()).hexdigest()[:12]

    @classmethod
    def from_settings(cls, settings: Any) -> Masker:
        """From `BUS_MASK_FIELDS`, `BUS_MASK_PATTERNS`, `BUS_MASK_DEFAULTS` (checked at start-up)."""
        return cls(parse_fields(getattr(settings, "bus_mask_fields", "") or ""),
                   compile_patterns(getattr(settings, "bus_mask_patterns", "") or ""),
                   defaults=bool(getattr(settings, "bus_mask_defaults", True)))

    def _text(self, text: str) -> str:
        if not self.enabled or not text:
            return text
        if self.defaults and _maybe(text):
            text = redact_text(text)
            for pattern, repl in DEFAULT_RULES:
                text = pattern.sub(repl, text)
        for pattern in self.patterns:
            text = pattern.sub(lambda m: shape(m.group(0)), text)
        return text

    def may_change(self, text: str) -> bool:
        """False when `text` certainly comes out of `text()` unchanged. It does not depend on
        which digits the text holds, only on where (the signature memo of `dlq top` relies on it)."""
        return self.enabled and (bool(self.patterns) or (self.defaults and _maybe(text)))

    @property
    def names_keys(self) -> bool:
        """Whether a field rule names an event's type or tenant (`type`, `tenantId`, `*`):
        then only whole masked entries tell what a filter on them selects."""
        return self.enabled and any(path[0] in ("type", "tenantId", "*") for path in self.fields)

    def top_level(self, name: str, value: str) -> str:
        """An event's top-level string (`type`, `tenantId`) as a masked entry shows it; the
        markers busbot writes itself (`<malformed>`, `<none>`) as they are."""
        if not self.enabled or value.startswith("<"):
            return value
        masked = self.event({name: value}).get(name, value)
        return masked if isinstance(masked, str) else value

    def value(self, v: Any) -> Any:
        """Every string inside `v` (dicts, lists) masked by the patterns; numbers that look
        like card or phone numbers too (then they become strings)."""
        if not self.enabled:
            return v
        if isinstance(v, str):
            return self.text(v)
        if isinstance(v, dict):
            return {k: self.value(x) for k, x in v.items()}
        if isinstance(v, list):
            return [self.value(x) for x in v]
        if isinstance(v, int) and not isinstance(v, bool) and abs(v) >= 10_000_000:
            masked = self.text(str(v))
            return v if masked == str(v) else masked
        return v

    def event(self, event: Any, text: str | None = None) -> Any:
        """A masked copy of an event: field rules first (whole values), then patterns.
        `text`, the JSON it was read from, lets an event that cannot hold anything the
        patterns mask skip the walk over its values (most events: the hot path of scans)."""
        if not self.enabled:
            return event
        for path in self.fields:
            event = _at(event, path, _whole)
        if text is not None and not self.patterns and "\\u" not in text and not (self.defaults and _maybe(text)):
            return event
        return self.value(event)

    def entry(self, e: ParsedEntry) -> ParsedEntry:
        """A masked copy of an entry: its event, every field and the raw text."""
        if not self.enabled:
            return e
        event = self.event(e.event, e.raw_event) if e.event is not None else None
        if event is not None and event == e.event and e.raw_event is not None:  # nothing to mask in it
            return replace(e, fields={k: v if k == "event" else self.text(v) for k, v in e.fields.items()},
                           type=self.text(e.type), tenant=self.text(e.tenant))
        redone = {"event", "payload"} if event is not None else set()  # written again from the masked event
        fields = {k: v if k in redone else self.text(v) for k, v in e.fields.items()}
        raw = self.text(e.raw_event) if e.raw_event is not None and event is None else None
        if event is not None and "event" in e.fields:
            raw = fields["event"] = json.dumps(event, separators=(",", ":"), ensure_ascii=False)
        elif event is not None and "payload" in e.fields and "data" in event:
            fields["payload"] = json.dumps(event["data"], separators=(",", ":"), ensure_ascii=False)
        return replace(e, fields=fields, event=event, raw_event=raw,  # a field rule may name type or tenantId
                       type=_key(event, "type", self.text(e.type)), tenant=_key(event, "tenantId", self.text(e.tenant)))


def _key(event: Any, name: str, otherwise: str) -> str:
    """The masked event's type or tenant (as parse_entry reads them), else `otherwise`."""
    value = event.get(name) if isinstance(event, dict) else None
    return value if isinstance(value, str) and value else otherwise


def _whole(v: Any) -> Any:
    """A value a field rule names: masked whole, containers leaf by leaf."""
    if isinstance(v, dict):
        return {k: _whole(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_whole(x) for x in v]
    if v is None or isinstance(v, bool):
        return v
    return shape(str(v))


def _at(node: Any, path: tuple[str, ...], fn: Callable[[Any], Any]) -> Any:
    """`node` with `fn` applied to whatever `path` names (copies, never in place)."""
    if not path:
        return fn(node)
    step, rest = path[0], path[1:]
    if step.startswith("["):
        if not isinstance(node, list):
            return node
        if step == "[*]":
            return [_at(x, rest, fn) for x in node]
        i = int(step[1:-1])
        return [(_at(x, rest, fn) if j == i else x) for j, x in enumerate(node)]
    if not isinstance(node, dict):
        return node
    if step == "*":
        return {k: _at(x, rest, fn) for k, x in node.items()}
    if step not in node:
        return node
    return {**node, step: _at(node[step], rest, fn)}


DEFAULT = Masker()  # the defaults only: for text read before settings are known (logs)
RAW = Masker(enabled=False)  # no masking: only for a caller that holds the unmask role
_for_logs: list[Masker] = [DEFAULT]


def use_for_logs(masker: Masker) -> None:
    """Log records are masked by `masker` from now on (the process's settings, once read);
    logs keep the default rules even where `BUS_MASK_DEFAULTS=false` turned them off."""
    _for_logs[0] = masker if masker.enabled and masker.defaults else Masker(masker.fields, masker.patterns)


def default_text(text: str) -> str:
    """Free text masked for a log record: the defaults, and the settings' own patterns once
    `use_for_logs` has been called (every log record goes through it)."""
    return _for_logs[0].text(text)
