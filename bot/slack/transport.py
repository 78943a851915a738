"""The outbox's `Transport` over the Slack Web API: Slack's answers become the outbox's
three outcomes (delivered, rate-limited with Retry-After, failed transient/permanent)."""
from __future__ import annotations

import logging
import time
import urllib.error

from slack_sdk.errors import SlackApiError

from bot.notify import DeliveryFailed, RateLimited
from bot.slack.poster import SlackPoster

log = logging.getLogger(__name__)

# Errors that retrying cannot fix: the delivery is dropped (and logged) instead.
PERMANENT = frozenset({
    "channel_not_found", "not_in_channel", "is_archived", "invalid_auth", "not_authed",
    "account_inactive", "token_revoked", "missing_scope", "no_permission", "invalid_blocks",
    "msg_too_long", "message_not_found", "cant_update_message", "edit_window_closed",
})


def _translate(exc: SlackApiError) -> Exception:
    response = exc.response
    if response.status_code == 429 or response.get("error") == "ratelimited":
        headers = {k.lower(): v for k, v in (response.headers or {}).items()}
        raw = headers.get("retry-after", "1")
        raw = raw[0] if isinstance(raw, list) else raw
        return RateLimited(float(raw) if str(raw).replace(".", "", 1).isdigit() else 1.0)
    error = str(response.get("error") or f"HTTP {response.status_code}")
    return DeliveryFailed(error, permanent=error in PERMANENT)


GROUPS_TTL_S = 600.0  # how long the user groups' handles are kept before they are read again


class SlackTransport:
    def __init__(self, poster: SlackPoster):
        self.poster = poster
        self._groups: dict[str, str] = {}  # "handle" -> "S…"
        self._groups_at: float | None = None

    def usergroup_id(self, handle: str) -> str | None:
        """The id of the user group `@handle` (usergroups.list, cached), for the mention of
        a critical alert; None when Slack has no such group or cannot be asked."""
        now = time.monotonic()
        if self._groups_at is None or now - self._groups_at >= GROUPS_TTL_S:
            try:
                answer = self.poster.client.usergroups_list(include_disabled=False)
            except (SlackApiError, urllib.error.URLError, TimeoutError, ConnectionError) as exc:
                log.warning("could not read Slack's user groups for the alert mention: %s", exc)
                self._groups_at = now - GROUPS_TTL_S + 60.0  # ask again in a minute, not at every post
                return self._groups.get(handle.lstrip("@").lower())
            found: list[dict] = answer.get("usergroups") or []
            self._groups = {g["handle"].lower(): g["id"] for g in found if g.get("handle")}
            self._groups_at = now
        return self._groups.get(handle.lstrip("@").lower())

    def post(self, channel: str, message: dict, thread_ts: str | None = None) -> str:
        try:
            return self.poster.post(channel, message, thread_ts=thread_ts)
        except SlackApiError as exc:
            raise _translate(exc) from None
        except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
            raise DeliveryFailed(f"Slack unreachable: {exc}") from None

    def update(self, channel: str, ts: str, message: dict) -> None:
        try:
            self.poster.update(channel, ts, message)
        except SlackApiError as exc:
            raise _translate(exc) from None
        except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
            raise DeliveryFailed(f"Slack unreachable: {exc}") from None
