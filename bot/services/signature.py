"""Error signatures: an error message with its variable parts normalised away, so
"timeout after 5003ms for ap_81" and "timeout after 4870ms for ap_12" are one row."""
from __future__ import annotations

import re
from functools import lru_cache
from itertools import compress, repeat
from operator import is_

from bot.mask import Masker

_RULES = [
    (re.compile(r'"[^"]*"'), '"…"'),
    (re.compile(r"'[^']*'"), "'…'"),
    (re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b", re.I), "<uuid>"),
    (re.compile(r"\bc[a-z0-9]{20,}\b"), "<id>"),  # cuid
    (re.compile(r"\b[A-Za-z]{1,12}_[A-Za-z0-9]*\d[A-Za-z0-9_]*\b"), "<id>"),  # ap_81, ws_123
    (re.compile(r"\b(?=[0-9a-f]*\d)[0-9a-f]{12,}\b", re.I), "<hex>"),
    (re.compile(r"\d+(?:\.\d+)?"), "<n>"),
    (re.compile(r"\s+"), " "),
]
MAX_LEN = 200


def compute(error: str) -> str:
    """The first line of `error`, normalised; `<no error message>` when empty."""
    line = (error or "").strip().splitlines()[0] if (error or "").strip() else ""
    if not line:
        return "<no error message>"
    for pattern, repl in _RULES:
        line = pattern.sub(repl, line)
    return line.strip()[:MAX_LEN]


signature = lru_cache(maxsize=65536)(compute)

_DIGITS = bytes.maketrans(b"0123456789", b"0000000000")
_UUID, _CUID = _RULES[2][0], _RULES[3][0]
MEMO_LIMIT = 20_000  # remembered shapes per level; beyond it, misses are computed and not kept


class SignatureMemo:
    """The signature of each raw error of a scan of many entries, each shape computed once;
    with `mask` (a `bot.mask.Masker`), the signature of the MASKED error, as everywhere else
    (`signature(entry.error)` of a masked entry): no row shows or reveals personal data, and
    a row's signature finds its entries again.

    Real messages differ by ids and numbers ("timeout after 7312ms for ap_48213"), so a
    cache of whole messages almost never hits. Two keys that provably give the same
    signature do: (1) the message with every digit written as 0 (every rule treats all
    digits alike, and none survives the last rule); (2) on a miss, that text with its
    uuids and cuids already folded (the rules that fold them match the same spans before
    and after the quoted parts are folded, since they never span a quote character).
    An error the masker may change is masked first (`Masker.may_change` does not depend on
    digit values, so the digit-folded key tells). Where the masker is blind to digit values
    too (see `_digit_blind`) the masked message and the masked digit-folded one differ only
    by digits, and key (1) still holds; otherwise the message is masked and computed by
    itself. Any other message comes out of the masker unchanged, and the memo stands for it.
    """

    def __init__(self, mask: Masker | None = None, limit: int = MEMO_LIMIT) -> None:
        self.mask, self.limit = (mask if mask is not None and mask.enabled else None), limit
        self.by_digits: dict[bytes, str] = {}
        self.by_shape: dict[str, str] = {}
        self.maybe: dict[str, bool] = {}  # shape -> whether masking may change such messages
        # The shape as bytes, folded a page at a time: only shapes whose signature is the
        # shape's (no masking to apply); looked up before any per-message work.
        self.by_folded: dict[bytes, str] = {}

    def of(self, raw: bytes) -> str:
        key = raw.translate(_DIGITS)
        sig = self.by_digits.get(key)
        return sig if sig is not None else self._miss(key, raw)

    def many(self, raws: list[bytes]) -> list[str]:
        """The signatures of `raws`, in order: keys and lookups a page at a time (in C),
        the rare misses one by one."""
        keys = list(map(bytes.translate, raws, repeat(_DIGITS)))
        get = self.by_digits.get
        sigs = list(map(get, keys))
        if None in sigs:
            misses = list(compress(range(len(sigs)), map(is_, sigs, repeat(None))))
            folded = _fold([keys[i] for i in misses])
            hits = list(map(self.by_folded.get, folded)) if folded is not None else repeat(None)
            for i, fold, hit in zip(misses, folded or repeat(None), hits):
                if hit is not None:
                    sigs[i] = hit
                    continue
                sig = get(keys[i])  # an earlier miss of this page may have taught it
                sigs[i] = sig if sig is not None else self._miss(keys[i], raws[i], fold)
        return sigs  # type: ignore[return-value]

    def _miss(self, key: bytes, raw: bytes, folded: bytes | None = None) -> str:
        text = key.decode("utf-8", "replace")
        shape = _CUID.sub("<id>", _UUID.sub("<uuid>", text))
        if self.mask is not None and self._may_mask(shape, text):
            if not _digit_blind(self.mask, text):
                return signature(self.mask.text(raw.decode("utf-8", "replace")))
            sig = signature(self.mask.text(text))  # masks as the message itself would
            if len(self.by_digits) < self.limit:
                self.by_digits[key] = sig
            return sig
        known = self.by_shape.get(shape)
        if known is not None:
            sig = known
        else:
            sig = compute(text)  # masking leaves this text as it is
            if len(self.by_shape) < self.limit:
                self.by_shape[shape] = sig
        if folded is not None and len(self.by_folded) < self.limit:  # the shape, folded in C
            self.by_folded[folded] = sig
        if shape == text and len(self.by_digits) < self.limit:  # no uuid or cuid: likely to recur
            self.by_digits[key] = sig
        return sig

    def _may_mask(self, shape: str, text: str) -> bool:
        """`mask.may_change(text)`, asked once per shape where that provably tells: with the
        default rules only, no rule matches inside a uuid or cuid, nor across one without a
        mark it needs outside it ("@", "://", "eyJ", a key word; a card or phone number
        cannot end inside or right after one), and no mark can hide inside one (hex digits
        and hyphens; lowercase letters and digits after a word boundary). A rule of the
        operator's own may match anything: then the message itself is asked."""
        assert self.mask is not None
        if self.mask.patterns:
            return self.mask.may_change(text)
        got = self.maybe.get(shape)
        if got is None:
            got = self.mask.may_change(shape)
            if len(self.maybe) < self.limit:
                self.maybe[shape] = got
        return got


_UUID_BYTES, _CUID_BYTES = re.compile(_UUID.pattern.encode(), re.I), re.compile(_CUID.pattern.encode())


def _fold(keys: list[bytes]) -> list[bytes] | None:
    """The shapes of digit-folded messages (uuids, then cuids folded), as bytes, in two
    regex passes over the whole list; None unless every byte is ASCII (then the bytes
    patterns match exactly what the text patterns match) and no message holds a NUL (the
    separator)."""
    joined = b"\x00".join(keys)
    if not joined.isascii() or joined.count(b"\x00") != len(keys) - 1:
        return None
    return _CUID_BYTES.sub(b"<id>", _UUID_BYTES.sub(b"<uuid>", joined)).split(b"\x00")


_CARD_LENGTH = re.compile(r"\d(?:[ -]?\d){12}")  # 13 digits: what the card rule needs at least


def _digit_blind(mask: Masker, text: str) -> bool:
    """Whether `mask.text` treats every digit of `text` alike (matches by digit classes,
    copies digits or stars them): no rule of the operator's own (it may name digits), no
    card-number candidate (its first digit and Luhn check depend on values), no URL (a
    port's value decides how it parses)."""
    return not mask.patterns and "://" not in text and _CARD_LENGTH.search(text) is None
