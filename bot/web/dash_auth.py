"""Who is using the dashboard: an API token exchanged for a signed session cookie at
`/admin/login`, or the user an SSO proxy names in a trusted header.

The cookie holds the caller (`api:<name>`), a keyed fingerprint of the token it was signed in
with (so a token removed from BUS_API_TOKENS ends its sessions at the next request) and when it
was issued. It is signed with BUS_DASHBOARD_SECRET (else a random secret per process, so a
restart signs everyone out), HttpOnly, SameSite=Strict, scoped to /admin, Secure over HTTPS,
and expires after SESSION_HOURS.

The trusted header (BUS_DASHBOARD_TRUSTED_HEADER, e.g. X-Forwarded-Email) is believed only
from a remote address inside BUS_DASHBOARD_TRUSTED_PROXIES; from anywhere else it is ignored.
"""
from __future__ import annotations

import hashlib
import hmac
import ipaddress
import logging
import secrets
import time
from dataclasses import dataclass
from datetime import timedelta

from flask import Flask, Request, request, session
from flask.sessions import SecureCookieSessionInterface

from bot.settings import Settings
from bot.web.tokens import identify, parse_tokens

log = logging.getLogger(__name__)

SESSION_HOURS = 8
COOKIE = "busbot_session"


@dataclass(frozen=True)
class Identity:
    user: str
    via: str  # "token" or "proxy"


class DashboardAuth:
    def __init__(self, settings: Settings, secret: str):
        raw = settings.bus_api_tokens.get_secret_value() if settings.bus_api_tokens else ""
        self.tokens = parse_tokens(raw)
        self.header = (settings.bus_dashboard_trusted_header or "").strip() or None
        self.proxies = settings.dashboard_trusted_proxies
        self._key = hashlib.sha256(b"busbot dashboard token fingerprint|" + secret.encode()).digest()

    def fingerprint(self, token: str) -> str:
        return hmac.new(self._key, token.encode(), hashlib.sha256).hexdigest()[:32]

    def from_proxy(self, req: Request) -> bool:
        """The request comes straight from a trusted proxy."""
        try:
            addr = ipaddress.ip_address(req.remote_addr or "")
        except ValueError:
            return False
        return any(addr in net for net in self.proxies)

    def sign_in(self, presented: str) -> str | None:
        """Start a session for the caller of `presented`; None when no token matches."""
        user = identify(self.tokens, presented.strip())
        if user is None:
            return None
        session.clear()
        session.permanent = True
        session.update(user=user, fp=self.fingerprint(presented.strip()), at=int(time.time()))
        return user

    def current(self) -> Identity | None:
        if self.header and self.from_proxy(request):
            named = (request.headers.get(self.header) or "").strip()
            if named.startswith("api:"):  # token identities come from tokens only
                log.warning("dashboard: ignored %s naming a token identity", self.header)
            elif named:
                return Identity(named[:200], "proxy")
        user, fp, at = session.get("user"), session.get("fp"), session.get("at")
        if not (isinstance(user, str) and isinstance(fp, str) and isinstance(at, int)):
            return None
        if time.time() - at > SESSION_HOURS * 3600:
            return None
        token = self.tokens.get(user.removeprefix("api:"))
        if token is None or not hmac.compare_digest(fp, self.fingerprint(token)):
            return None  # the token was removed or changed since this session began
        return Identity(user, "token")

    def secure(self) -> bool:
        """HTTPS, directly or as a trusted proxy reports it."""
        if request.is_secure:
            return True
        return self.from_proxy(request) and request.headers.get("X-Forwarded-Proto", "").lower() == "https"


class DashboardSessions(SecureCookieSessionInterface):
    """Flask's signed cookie with the dashboard's flags; Secure whenever the request is HTTPS."""

    def __init__(self, auth: DashboardAuth):
        self.auth = auth

    def get_cookie_name(self, app: Flask) -> str:
        return COOKIE

    def get_cookie_path(self, app: Flask) -> str:
        return "/admin"

    def get_cookie_httponly(self, app: Flask) -> bool:
        return True

    def get_cookie_samesite(self, app: Flask) -> str:
        return "Strict"

    def get_cookie_secure(self, app: Flask) -> bool:
        return self.auth.secure()


def configure(app: Flask, settings: Settings) -> DashboardAuth:
    """Secret, lifetime and cookie flags of the app's sessions (the dashboard is their only user)."""
    secret = settings.bus_dashboard_secret.get_secret_value() if settings.bus_dashboard_secret else ""
    if not secret:
        log.info("BUS_DASHBOARD_SECRET is not set: dashboard sessions are signed with a random secret "
                 "and end when this process stops")
        secret = secrets.token_hex(32)
    app.secret_key = secret
    app.config["PERMANENT_SESSION_LIFETIME"] = timedelta(hours=SESSION_HOURS)
    app.config["WTF_CSRF_TIME_LIMIT"] = SESSION_HOURS * 3600
    app.config["WTF_CSRF_CHECK_DEFAULT"] = False  # only the dashboard's forms: it calls protect()
    auth = DashboardAuth(settings, secret)
    if not auth.tokens and not (auth.header and auth.proxies):
        log.warning("nobody can sign in to the dashboard (/admin/events): set BUS_API_TOKENS, or "
                    "BUS_DASHBOARD_TRUSTED_HEADER with BUS_DASHBOARD_TRUSTED_PROXIES")
    app.session_interface = DashboardSessions(auth)
    return auth
