"""Pages for people: sign in, the incidents list with filters, and the incident page."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, time
from typing import Any
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Response,
    g,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_limiter.errors import RateLimitExceeded
from sqlalchemy import func, select
from werkzeug.wrappers import Response as BaseResponse

from service import config, csp, limits
from service.db import utcnow
from service.errors import NotFound
from service.extensions import db
from service.guards import BadInput
from service.incidents import service as incidents
from service.incidents.models import Incident, Severity, Status
from service.limits import limiter
from service.monitors.models import Monitor
from service.postmortem.metrics import parse_time
from service.web import pages
from service.web import service as sessions
from service.web.models import WebSession

blp = Blueprint("web", __name__, url_prefix="/ui", template_folder="templates")
#: the site's root sends people to the pages
root = Blueprint("root", __name__)

SESSION_COOKIE = "__Host-fb-session"
CSRF_COOKIE = "__Host-fb-csrf"
TZ_COOKIE = "fb-tz"
PER_PAGE = 25
MAX_QUERY = 200


@blp.app_template_filter("utc")
def _utc_filter(iso: str | None) -> str:
    """An ISO time from the export as the pages show it: 2026-11-23 14:06:08.733131 UTC."""
    return pages.utc_text(parse_time(iso)) or "—"


@blp.after_app_request
def _headers(resp: Response) -> Response:
    """Security headers on every /ui answer, errors and unknown pages included."""
    if not request.path.startswith("/ui"):
        return resp
    nonce = csp.nonce()
    resp.headers["Content-Security-Policy"] = (
        f"default-src 'none'; style-src 'nonce-{nonce}'; script-src 'nonce-{nonce}'; "
        "img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    )
    resp.headers["X-Content-Type-Options"] = "nosniff"
    resp.headers["Referrer-Policy"] = "same-origin"
    resp.headers["X-Frame-Options"] = "DENY"
    resp.headers["Cache-Control"] = "no-store"
    return resp


def _error(status: int, title: str, detail: str, field: str | None = None) -> Response:
    body = render_template("web/error.html", status=status, title=title, detail=detail, field=field)
    return make_response(body, status)


@blp.errorhandler(RateLimitExceeded)
def _too_many(error: RateLimitExceeded) -> Response:
    """Too many sign-in attempts from this address: an HTML page (Retry-After is added)."""
    return _error(429, "Too many attempts", "Too many sign-in attempts; wait and try again.")


@blp.errorhandler(BadInput)
def _bad_input(error: BadInput) -> Response:
    """Bad input on a page (NUL in a parameter, an impossible id) as an HTML page naming it."""
    return _error(error.code or 400, "Bad request", error.description or "", field=error.field)


def _safe_next(target: str | None) -> str:
    """Only our own pages: no scheme, no host, no '//' tricks, no control characters."""
    default = url_for("web.incident_list")
    if not target or len(target) > 300 or not target.startswith("/ui/"):
        return default
    if not target.isprintable() or not target.isascii():
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or "\\" in target or "//" in target:
        return default
    return target


def _same_origin(origin: str | None) -> bool:
    """No Origin (an old browser) passes; else it must be this host or the public URL's."""
    if origin is None:
        return True
    ours = {request.host, urlsplit(config.current().public_url).netloc}
    return urlsplit(origin).netloc in ours


def _signed_in() -> WebSession | BaseResponse:
    row = sessions.current(db.session, cookie=request.cookies.get(SESSION_COOKIE), now=utcnow())
    if row is None:
        db.session.rollback()
        nxt = request.full_path.rstrip("?")
        return redirect(url_for("web.sign_in_form", next=nxt), 303)
    db.session.commit()  # last_seen_at
    g.web_session = row
    g.csrf = request.cookies.get(CSRF_COOKIE, "")
    return row


def _timezone() -> pages.Zone:
    """The reader's zone: ?tz= (remembered in a cookie), else the cookie, else none (UTC)."""
    raw = request.args.get("tz") or request.cookies.get(TZ_COOKIE) or ""
    return pages.zone(raw)


def _remember_tz(resp: Response, zone: pages.Zone) -> Response:
    if request.args.get("tz") is not None:
        resp.set_cookie(
            TZ_COOKIE, zone.name, max_age=365 * 86400, samesite="Lax", secure=True, httponly=True
        )
    return resp


@root.route("/", methods=["GET"])
def home() -> Any:
    """People who open the bare address land on the incidents list (or sign-in)."""
    return redirect(url_for("web.incident_list"), 302)


@blp.route("/sign-in", methods=["GET"])
def sign_in_form() -> Any:
    """The sign-in form."""
    return render_template("web/sign_in.html", next=_safe_next(request.args.get("next")))


@blp.route("/sign-in", methods=["POST"])
@limiter.limit(limits.SIGN_IN, deduct_when=lambda resp: resp.status_code != 303)
def sign_in() -> Any:
    """Open a browser session with an API token."""
    if not _same_origin(request.headers.get("Origin")):
        return _error(403, "Cross-site sign-in refused", "The form was posted from another site.")
    secret = request.form.get("token", "")
    nxt = _safe_next(request.form.get("next"))
    problem = None
    if not secret.strip():
        problem = "Paste your API token."
    elif len(secret) > 200:
        problem = "That is not a Firebreak token (too long)."
    else:
        try:
            opened = sessions.sign_in(db.session, token_secret=secret, now=utcnow())
        except sessions.SignInRefused as exc:
            db.session.rollback()
            problem = str(exc).capitalize() + "."
    if problem:
        body = render_template("web/sign_in.html", next=nxt, problem=problem)
        return make_response(body, 401 if len(secret.strip()) else 400)
    db.session.commit()
    resp = redirect(nxt, 303)
    life = int(sessions.ABSOLUTE_LIFETIME.total_seconds())
    for name, value in ((SESSION_COOKIE, opened.cookie), (CSRF_COOKIE, opened.csrf)):
        resp.set_cookie(name, value, max_age=life, secure=True, httponly=True, samesite="Lax")
    return resp


@blp.route("/sign-out", methods=["POST"])
def sign_out() -> Any:
    """End the browser session."""
    row = sessions.current(db.session, cookie=request.cookies.get(SESSION_COOKIE), now=utcnow())
    if row is not None:
        if not sessions.csrf_ok(row, csrf=request.form.get("csrf")):
            db.session.rollback()
            return _error(403, "Sign-out refused", "The form's CSRF token is missing or wrong.")
        sessions.sign_out(row, now=utcnow())
        db.session.commit()
    resp = redirect(url_for("web.sign_in_form"), 303)
    for name in (SESSION_COOKIE, CSRF_COOKIE):
        resp.delete_cookie(name, secure=True, httponly=True, samesite="Lax")
    return resp


def _choice_and_date_filters(args: Any, out: dict[str, Any], errors: dict[str, str]) -> None:
    """Status and severity (one of their values), and the opened-from/to dates."""
    for field, enum in (("status", Status), ("severity", Severity)):
        raw = args.get(field, "")
        if raw and raw not in {e.value for e in enum}:
            errors[field] = f"unknown {field} {raw!r}"
        elif raw:
            out[field] = [enum(raw)]
    for field, key, at in (("from", "opened_after", time.min), ("to", "opened_before", time.max)):
        raw = args.get(field, "")
        if raw:
            try:
                day = datetime.strptime(raw, "%Y-%m-%d").date()
                out[key] = datetime.combine(day, at, tzinfo=UTC)
            except ValueError:
                errors[field] = "use a date like 2026-11-23"
    if out.get("opened_before") and out.get("opened_after"):
        if out["opened_before"] < out["opened_after"]:
            errors["to"] = "'to' is before 'from'"


def _filters() -> tuple[dict[str, Any], dict[str, str]]:
    """The list's filters from the query string; returns (values, {field: problem})."""
    args = request.args
    errors: dict[str, str] = {}
    out: dict[str, Any] = {}
    _choice_and_date_filters(args, out, errors)
    monitor = args.get("monitor", "")
    if monitor:
        found = db.session.scalar(select(Monitor).where(Monitor.key == monitor[:64]))
        if found is None:
            errors["monitor"] = f"no monitor {monitor[:64]!r}"
        else:
            out["monitor_id"] = found.id
    q = args.get("q", "")
    if len(q) > MAX_QUERY:
        errors["q"] = f"at most {MAX_QUERY} characters"
    page = args.get("page", "1")
    number = int(page) if page.isascii() and page.isdigit() else 0
    if not 1 <= number <= 100_000:
        errors["page"] = "a page number from 1"
    return {**out, "q": q.strip(), "page": number or 1}, errors


@blp.route("/", methods=["GET"])
@blp.route("/incidents", methods=["GET"])
def incident_list() -> Any:
    """Incidents, newest first, with filters."""
    row = _signed_in()
    if isinstance(row, BaseResponse):
        return row
    values, errors = _filters()
    rows: Sequence[Any] = []
    total = 0
    page = values["page"]
    if not errors:
        query = incidents.search(
            monitor_id=values.get("monitor_id"),
            status=values.get("status"),
            severity=values.get("severity"),
            opened_after=values.get("opened_after"),
            opened_before=values.get("opened_before"),
        )
        if values["q"]:
            query = query.where(Incident.title.ilike(f"%{_like(values['q'])}%", escape="\\"))
        count = select(func.count()).select_from(query.order_by(None).subquery())
        total = db.session.scalar(count) or 0
        rows = db.session.scalars(query.limit(PER_PAGE).offset((page - 1) * PER_PAGE)).all()
    zone = _timezone()
    monitors = db.session.scalars(select(Monitor).order_by(Monitor.key)).all()
    body = render_template(
        "web/incidents.html",
        incidents=[pages.list_row(i, zone) for i in rows],
        total=total,
        page=page,
        pages=max(1, -(-total // PER_PAGE)),
        args=request.args,
        statuses=[s.value for s in Status],
        severities=[s.value for s in Severity],
        monitors=[m.key for m in monitors],
        zone=zone,
        zones=pages.COMMON_ZONES,
        errors=errors,
    )
    return _remember_tz(make_response(body, 400 if errors else 200), zone)


def _like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


@blp.route("/incidents/<int:number>", methods=["GET"])
def incident_page(number: int) -> Any:
    """One incident: headline metrics, chart, timeline, evidence, statements, chain."""
    row = _signed_in()
    if isinstance(row, BaseResponse):
        return row
    zone = _timezone()
    try:
        body = pages.incident_html(db.session, number=number, zone=zone, standalone=False)
    except NotFound:
        return _error(404, "No such incident", f"Incident #{number} does not exist.")
    return _remember_tz(make_response(body), zone)


@blp.route("/incidents/<int:number>/export.<fmt>", methods=["GET"])
def incident_export(number: int, fmt: str) -> Any:
    """Download an export of the incident (json, md, html, svg) from the page."""
    row = _signed_in()
    if isinstance(row, BaseResponse):
        return row
    if fmt not in pages.EXPORTS:
        return _error(404, "No such export", f"Exports are {', '.join(pages.EXPORTS)}.")
    try:
        body, mimetype = pages.export(db.session, number=number, fmt=fmt, zone=_timezone())
    except NotFound:
        return _error(404, "No such incident", f"Incident #{number} does not exist.")
    name = f"incident-{number}-postmortem.{fmt}" if fmt != "svg" else f"incident-{number}-chart.svg"
    resp = make_response(body)
    resp.mimetype = mimetype
    resp.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return resp


@blp.route("/<path:rest>", methods=["GET"])
def no_such_page(rest: str) -> Any:
    """Any other address under /ui: a page saying so (a browser shows HTML, not JSON)."""
    return _error(404, "No such page", f"There is no page at /ui/{rest[:200]}.")
