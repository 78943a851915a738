"""Credentials never leave busbot: one way to show a URL, or text that may hold one.

`redact_url()` masks the password of a connection URL wherever it sits (in the user-info,
however many `@` it holds, or as a `password=` style query parameter) and keeps what helps
an operator (scheme, user, host, port, database). `redact_text()` does the same for every
URL inside free text (an exception's message, a setting's value in an error).
"""
from __future__ import annotations

import logging
import re

MASK = "***"

# query parameters whose value is a secret (redis-py reads `password` from the query string)
SECRET_PARAMS = frozenset({"password", "pass", "passwd", "pwd", "secret", "token", "auth",
                           "access_token", "api_key", "apikey", "key"})

_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*://[^\s'\"<>`]*")
_BARE_USERINFO = re.compile(r"(^|[\s'\"(=,])([^\s:@/'\"*]*):(?!//|\*\*\*@)[^\s'\"]*@")
_PARAM = re.compile(r"(?P<sep>^|[?&;])(?P<name>[^=&;#]*)=(?P<value>[^&;#]*)")


def _mask_query(query: str) -> str:
    def one(m: re.Match) -> str:
        name = m.group("name")
        if name.strip().lower() in SECRET_PARAMS and m.group("value"):
            return f"{m.group('sep')}{name}={MASK}"
        return m.group(0)
    return _PARAM.sub(one, query)


def redact_url(url: str) -> str:
    """`url` with every credential masked; safe on malformed input (no scheme, stray `@`)."""
    text = str(url if url is not None else "").strip()
    scheme, sep, rest = text.partition("://")
    if not sep:
        scheme, rest = "", text
    # A password may hold "@", "/" or "?": the user-info ends at the LAST "@", unless that
    # "@" sits inside query pairs (`?user=a@b`). When in doubt, mask more.
    at, q = rest.rfind("@"), rest.find("?")
    userinfo: str | None = None
    if at >= 0 and (q < 0 or at < q or "=" not in rest[q:at]):
        userinfo, rest = rest[:at], rest[at + 1:]
    cut = min((i for i in (rest.find("?"), rest.find("#")) if i >= 0), default=len(rest))
    head, tail = rest[:cut], rest[cut:]
    if userinfo is not None:
        user = userinfo.split(":", 1)[0] if ":" in userinfo else ""
        head = (f"{user}:{MASK}@" if user else f"{MASK}@") + head
    if tail.startswith("?"):
        query, hash_sep, _fragment = tail[1:].partition("#")
        tail = "?" + _mask_query(query) + (f"#{MASK}" if hash_sep else "")
    elif tail.startswith("#"):
        tail = f"#{MASK}"
    return f"{scheme}{sep}{head}{tail}"


def redact_text(text: str) -> str:
    """`text` with the credentials of every URL in it masked (and `password=` pairs)."""
    text = _URL.sub(lambda m: redact_url(m.group(0)), str(text if text is not None else ""))
    text = _BARE_USERINFO.sub(lambda m: f"{m.group(1)}{m.group(2)}:{MASK}@", text)  # `user:pw@host`
    return re.sub(r"(?i)\b(password|passwd|pwd)=([^\s&;'\"]+)", rf"\1={MASK}", text)


def redact_value(value: str) -> str:
    """A setting's value as given: one URL, a comma-separated list of (`name=`)URLs, or
    anything else; every credential masked. A comma splits entries only where a new URL
    follows, so a password holding a comma stays whole (and masked)."""
    entries = re.split(r",(?=[^,]*://)", value)
    return ",".join(redact_url(e) if "://" in e or "@" in e else redact_text(e) for e in entries)


_installed = False


def install_log_redaction() -> None:
    """Every log record's message and trace go through `redact_text` and the default masks
    of personal data (bot/mask.py), whatever handler writes them (stderr, the console's log
    file, a test's capture). Idempotent."""
    global _installed
    if _installed:
        return
    _installed = True
    from bot.mask import default_text  # bot.mask builds on this module
    make_record = logging.getLogRecordFactory()
    formatter = logging.Formatter()

    def redacted(*args, **kwargs) -> logging.LogRecord:
        record = make_record(*args, **kwargs)
        try:
            record.msg, record.args = default_text(record.getMessage()), None
            if record.exc_info and not record.exc_text:
                record.exc_text = default_text(formatter.formatException(record.exc_info))
        except Exception:  # noqa: BLE001 - a log line must never fail on its way out
            pass
        return record

    logging.setLogRecordFactory(redacted)
