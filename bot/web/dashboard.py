"""The admin dashboard at /admin/events: server-rendered pages over the same services and the
same guarded core as `/bus` (tabs: Overview, Dead Letter Queue, Replay, Jobs, Approvals, Audit).

`register(app, rt)` adds the blueprint, the session cookie and its secret. Every page
needs a signed-in user (bot/web/dash_auth.py); every POST needs the form's CSRF token; every
action needs an operator, and a refused POST is answered 403 and audited. Every answer
carries a Content-Security-Policy with a per-request nonce (no other script or style runs),
X-Frame-Options: DENY and X-Content-Type-Options: nosniff. Pages are rendered by the
templates in templates/html with autoescaping on: stream values are shown as text.
"""
from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from typing import Any

import jinja2
from flask import (
    Blueprint,
    Flask,
    Response,
    abort,
    current_app,
    flash,
    g,
    get_flashed_messages,
    has_request_context,
    redirect,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_wtf.csrf import CSRFError, CSRFProtect, generate_csrf
from werkzeug.exceptions import HTTPException

from bot.actions import audit, policy
from bot.redis_errors import UNREACHABLE
from bot.runtime import Runtime
from bot.web.dash_auth import DashboardAuth, Identity, configure

log = logging.getLogger(__name__)

PREFIX = "/admin"
TABS = [("overview", "Overview"), ("dlq", "Dead Letter Queue"), ("replay", "Replay"),
        ("jobs", "Jobs"), ("approvals", "Approvals"), ("audit", "Audit")]
OPEN = frozenset({"dashboard.login", "dashboard.login_post"})  # pages without a signed-in user

# why -> the role it lacks: the sentence names the role and its setting as the policy does
# (approvers are the operators, in BUS_OPERATORS, while BUS_APPROVERS is empty)
ROLE_REFUSALS = {"not a viewer": policy.VIEWER, "not an operator": policy.OPERATOR,
                 "not an approver": policy.APPROVER}
REFUSALS = {  # why -> (sentence, what to do instead)
    "not the requester": ("Only the operator who made this preview can {what}.",
                          "Make your own selection and preview it, or ask them to."),
    "not signed in": ("You are not signed in (or your session expired), so nothing was done.",
                      "Sign in again at /admin/login, then repeat what you did."),
    "missing or invalid CSRF token": ("This form could not be trusted (it carries no valid CSRF token), "
                                      "so nothing was done.", "Reload the page and submit the form again."),
}

bp = Blueprint("dashboard", __name__, url_prefix=PREFIX)


@dataclass
class Dashboard:
    base: Runtime  # the default environment's; `rt` is the one the request names
    auth: DashboardAuth
    env: jinja2.Environment
    csrf: CSRFProtect

    @property
    def rt(self) -> Runtime:
        """The environment `?env=` names (links and forms of its pages keep it), else the default."""
        picked = g.get("dash_rt") if has_request_context() else None
        return picked or self.base


def environment() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.PackageLoader("templates", "html"),
                             autoescape=True, undefined=jinja2.StrictUndefined,
                             trim_blocks=True, lstrip_blocks=True)
    env.globals.update(url_for=url_for, csrf_token=generate_csrf, TABS=TABS)
    return env


def register(app: Flask, rt: Runtime) -> None:
    """Serve the dashboard from `app` (the app factory calls this once)."""
    from bot.web import dash_actions, dash_pages  # noqa: F401  (their routes join `bp`)

    auth = configure(app, rt.bus.settings)
    app.extensions["busbot_dashboard"] = Dashboard(rt, auth, environment(), CSRFProtect(app))
    app.register_blueprint(bp)


def dash() -> Dashboard:
    return current_app.extensions["busbot_dashboard"]


def me() -> Identity:
    return g.dash_me


def is_operator() -> bool:
    rt = dash().rt
    return policy.is_operator(rt.bus.settings, me().user, rt.groups)


def is_approver() -> bool:
    rt = dash().rt
    return policy.is_approver(rt.bus.settings, me().user, rt.groups)


def is_viewer() -> bool:
    rt = dash().rt
    return bool(policy.has_role(rt.bus.settings, rt.groups, me().user, policy.VIEWER))


def page(template: str, status: int = 200, **context: Any) -> Response:
    ident: Identity | None = g.get("dash_me")
    envs = dash().base.envs
    html = dash().env.get_template(template).render(
        me=ident, operator=bool(ident) and is_operator(), nonce=g.dash_nonce,
        environment=dash().rt.environment if envs is not None and envs.multi else None,
        protected_env=dash().rt.protected,
        tab=context.pop("tab", ""), flashes=_flashes(), **context)
    return Response(html, status=status, mimetype="text/html")


def _flashes() -> list[Any]:
    return [m for m in get_flashed_messages() if isinstance(m, dict)]  # type: ignore[misc]


def notice(message: Any, hint: Any = None, kind: str = "info") -> None:
    """A sentence shown once on the next page (after a redirect)."""
    flash({"message": message, "hint": hint, "kind": kind})  # type: ignore[arg-type]  # any JSON value


def refuse(what: str, why: str, status: int = 403) -> Response:
    """Refused and audited (who tried, what, why). Anonymous refusals are only logged: the
    audit stream is capped, and nobody should be able to wash it out without a token."""
    ident = g.get("dash_me")
    if ident is not None:
        audit.record(dash().rt.bus, ident.user, "refused", f"dashboard: {what}", why)
    else:
        log.info("dashboard: refused %s from %s (%s)", what, request.remote_addr, why)
    role = ROLE_REFUSALS.get(why)
    if role is not None:
        msg, hint = _role_refusal(what, role)
    else:
        msg, hint = REFUSALS.get(why, REFUSALS["missing or invalid CSRF token"])
        msg = msg.format(what=what)
    return page("message.html", status, title="Refused", message=msg, hint=hint, tab="")


def _role_refusal(what: str, role: str) -> tuple[str, str]:
    settings = dash().rt.bus.settings
    name = policy.role_name(settings, role)
    setting, _ = policy.how_to_get(settings, role)
    ask = f"Ask one of the {name} to do it, or ask" if role != policy.VIEWER else "Ask"
    return (f"Only busbot {name} can {what}, and you are not one of them.",
            f"{ask} an admin to add you to {setting}.")


@bp.url_defaults
def _keep_environment(endpoint: str, values: dict[str, Any]) -> None:
    """Every link and form of a page shown for an environment stays in it (`?env=`)."""
    name = g.get("dash_env") if has_request_context() else None
    if name and "env" not in values:
        values["env"] = name


def _environment() -> Response | None:
    """`?env=` picks the environment of this request (several environments); an unknown name is a 404."""
    envs, name = dash().base.envs, request.args.get("env")
    if not name or envs is None or not envs.multi:
        return None
    picked = envs.get(name)
    if picked is None:
        return page("message.html", 404, title="No such environment", message=envs.unknown(name),
                    hint=f"Leave env out for {envs.default}.", tab="")
    g.dash_rt, g.dash_env = picked, picked.environment
    return None


@bp.before_request
def _gate() -> ResponseReturnValue | None:
    g.dash_nonce = secrets.token_urlsafe(16)
    unknown = _environment()
    if unknown is not None:
        return unknown
    g.dash_me = dash().auth.current()
    if request.method == "POST":
        try:
            dash().csrf.protect()  # the form's token; over HTTPS also a same-origin Referer
        except CSRFError as exc:
            log.info("dashboard: refused a POST to %s without a valid CSRF token (%s)", request.path, exc)
            return refuse(f"POST {request.path}", "missing or invalid CSRF token")
    if g.dash_me is None and request.endpoint not in OPEN:
        if request.method == "GET" and request.headers.get("Sec-Fetch-Site") == "cross-site":
            # A link from another site (Slack): the browser held back the SameSite=Strict
            # cookie. Load the same URL again from this site, where it is sent, and set no
            # cookie meanwhile (a fresh one would sign the user out).
            return page("continue.html", target=request.full_path.rstrip("?"))
        if request.method == "POST":
            return refuse(f"POST {request.path}", "not signed in", 401)
        return redirect(url_for("dashboard.login"))
    if g.dash_me is not None and request.endpoint not in OPEN and not is_viewer():
        return refuse("see the dashboard", "not a viewer")  # the same roles as in Slack and the API
    return None


@bp.after_request
def _headers(resp: Response) -> Response:
    nonce = g.get("dash_nonce", "")
    resp.headers["Content-Security-Policy"] = (
        f"default-src 'none'; script-src 'nonce-{nonce}'; style-src 'nonce-{nonce}'; "
        "img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
    resp.headers["X-Frame-Options"] = "DENY"
    resp.headers["X-Content-Type-Options"] = "nosniff"
    resp.headers["Referrer-Policy"] = "same-origin"  # CSRF checks it over HTTPS; never sent elsewhere
    resp.headers["Cache-Control"] = "no-store"
    return resp


@bp.errorhandler(400)
@bp.errorhandler(403)
@bp.errorhandler(404)
@bp.errorhandler(405)
@bp.errorhandler(413)
@bp.errorhandler(HTTPException)
def _http_error(exc: HTTPException) -> Response:
    """HTML pages for the dashboard's errors (by code too: the app's JSON handlers are
    registered by code, and Flask looks handlers up by code first)."""
    status = exc.code or 500
    if status == 404:
        return page("message.html", 404, title="Not found", message="There is no such page or item.",
                    hint="Use the tabs above to find it.")
    return page("message.html", status, title=exc.name, message=exc.description or exc.name,
                hint="Go back and try again.")


@bp.errorhandler(Exception)
def _failed(exc: Exception) -> Response:
    if isinstance(exc, UNREACHABLE):
        log.warning("dashboard: Redis unreachable at %s for %s", dash().rt.bus.where, request.path)
        return page("message.html", 503, title="Redis unreachable",
                    message="Redis is not answering, so busbot cannot read the bus right now.",
                    hint="Check that Redis is up, then reload this page.")
    log.error("dashboard: %s %s failed", request.method, request.path, exc_info=exc)
    return page("message.html", 500, title="Something went wrong",
                message="busbot could not show this page: something went wrong on our side and it is logged.",
                hint="Reload the page in a moment.")


@bp.get("/")
def home() -> ResponseReturnValue:
    return redirect(url_for("dashboard.overview"))


@bp.route("/<path:rest>", methods=["GET", "POST"])
def nowhere(rest: str) -> Response:
    """Any other path under /admin: the dashboard's own 404 page, with its headers."""
    abort(404)


@bp.get("/login")
def login() -> ResponseReturnValue:
    if g.dash_me is not None:
        return redirect(url_for("dashboard.overview"))
    return page("login.html", error=None)


@bp.post("/login")
def login_post() -> ResponseReturnValue:
    d = dash()
    user = d.auth.sign_in(request.form.get("token") or "")
    if user is None:
        log.info("dashboard: a sign-in from %s with an unknown token was refused", request.remote_addr)
        return page("login.html", 401, error="That token is not valid.")
    g.dash_me = d.auth.current()
    try:
        audit.record(d.rt.bus, user, "dashboard.signin", "", f"from {request.remote_addr}")
    except UNREACHABLE:  # signing in needs no Redis; the pages will say it is unreachable
        log.warning("dashboard: sign-in of %s not audited: Redis unreachable", user)
    return redirect(url_for("dashboard.overview"))


@bp.post("/logout")
def logout() -> ResponseReturnValue:
    session.clear()
    return redirect(url_for("dashboard.login"))
