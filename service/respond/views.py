"""Phone pages behind SMS links (`/r/<token>`): no API token, no sign-in.

A link's trust equals an SMS reply from that phone: acknowledge, resolve with a note, add a
note, mark a playbook step done, and, for legal's approval links, approve or reject the exact
version the link names. A GET never acts (messaging apps fetch links for previews); every form
posts a per-link CSRF token and must come from this site. Actions call the same service
functions as the API, with the person as the actor ("via link").
"""

from __future__ import annotations

import secrets
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, Response, g, make_response, redirect, render_template, request
from werkzeug.wrappers import Response as BaseResponse

from service import config
from service.auth.roles import NOTE_TAKERS, RESPONDERS
from service.db import utcnow
from service.errors import DomainError, Forbidden, Invalid
from service.extensions import db
from service.incidents import service as incidents
from service.incidents.models import Incident
from service.paging import links
from service.paging.models import PageLink
from service.playbooks import runs
from service.playbooks.content import definitions
from service.postmortem.sentences import describe
from service.respond import approval as approval_page
from service.timeline.models import TimelineEvent
from service.timeline.service import Actor

blp = Blueprint("respond", __name__, url_prefix="/r", template_folder="templates")
ACTIONS = ("acknowledge", "resolve", "note", "step")


@blp.before_request
def _nonce() -> None:
    g.csp_nonce = secrets.token_urlsafe(16)


@blp.after_request
def _headers(resp: Response) -> Response:
    nonce = g.get("csp_nonce", "")
    resp.headers["Content-Security-Policy"] = (
        f"default-src 'none'; style-src 'nonce-{nonce}'; img-src 'self' data:; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    )
    resp.headers["X-Content-Type-Options"] = "nosniff"
    # the token is in the URL: never sent to another site (and a form posted back keeps its
    # Origin, which "no-referrer" would turn into "null")
    resp.headers["Referrer-Policy"] = "same-origin"
    resp.headers["X-Frame-Options"] = "DENY"
    resp.headers["Cache-Control"] = "no-store"
    resp.headers["X-Robots-Tag"] = "noindex"
    return resp


def _gone() -> Response:
    body = render_template(
        "respond/gone.html",
        sign_in=f"{config.current().public_url}/ui/sign-in",
    )
    return make_response(body, 410)


def _refuse(status: int, detail: str) -> Response:
    return make_response(render_template("respond/refused.html", detail=detail), status)


def _link(token: str) -> PageLink | None:
    return links.find(db.session, token, now=utcnow())


def _same_origin() -> bool:
    """A form must come from this site (no Origin from an old browser passes)."""
    origin = request.headers.get("Origin")
    if origin is None:
        return True
    ours = {request.host, urlsplit(config.current().public_url).netloc}
    return urlsplit(origin).netloc in ours


def _timeline(incident_id: int) -> list[dict[str, Any]]:
    rows = db.session.query(TimelineEvent).filter(TimelineEvent.incident_id == incident_id)
    recent = rows.order_by(TimelineEvent.seq.desc()).limit(12).all()
    return [
        {"at": e.at, "actor": e.actor, "text": describe(e.kind, e.data)} for e in reversed(recent)
    ]


def _steps(incident: Incident, link: PageLink) -> list[dict[str, Any]]:
    run = runs.current_run(db.session, incident_id=incident.id)
    if run is None:
        return []
    titles = {k: str(v.get("title", k)) for k, v in definitions(run).items()}
    return [
        {
            "ref": str(step.position),
            "title": titles.get(step.step_id, step.step_id),
            "owner": step.owner,
            "state": step.state,
            "may_finish": step.state in ("ready", "in_progress")
            and runs.may_act(link.user, incident, step),
        }
        for step in run.steps
    ]


@blp.route("/<token>", methods=["GET"])
def show(token: str) -> Any:
    """The incident (or approval) page of a link; reading only, whatever fetches it."""
    link = _link(token)
    if link is None:
        return _gone()
    incident = db.session.get_one(Incident, link.incident_id)
    common = {
        "incident": incident,
        "link": link,
        "token": token,
        "csrf": links.csrf_token(link),
        "done": request.args.get("done", "")[:80],
    }
    if link.approval_id is not None:
        return render_template("respond/approval.html", **common, **approval_page.view(link))
    return render_template(
        "respond/incident.html",
        **common,
        events=_timeline(incident.id),
        steps=_steps(incident, link),
        may_respond=bool(link.user.role_set & set(RESPONDERS)),
        may_note=bool(link.user.role_set & set(NOTE_TAKERS)),
    )


def _checked(token: str) -> PageLink | Response:
    link = _link(token)
    if link is None:
        return _gone()
    if not _same_origin() or not links.csrf_ok(link, request.form.get("csrf")):
        return _refuse(403, "This form has expired. Open the link from your SMS again.")
    return link


def _act(link: PageLink, action: str) -> str:
    """Carry out one form action through the same service functions as the API and SMS."""
    session, user = db.session, link.user
    actor = Actor.of(user, via="link")
    incident = incidents.get(session, number=link.incident_id, lock=True)
    note = (request.form.get("note") or "").strip()[:1000]
    if action in ("acknowledge", "resolve"):
        if not user.role_set & set(RESPONDERS):
            raise Forbidden(f"your role cannot {action} incidents")
        incidents.transition(
            session, incident=incident, action=action, actor=actor, note=note or None
        )
        return "acknowledged" if action == "acknowledge" else "resolved"
    if action == "note":
        if not user.role_set & set(NOTE_TAKERS):
            raise Forbidden("your role cannot add notes")
        if not note:
            raise Invalid("write a note first", field="note")
        incidents.add_note(session, incident=incident, actor=actor, text=note)
        return "note added"
    step = (request.form.get("step") or "").strip()[:64]
    done = runs.act(
        session, incident=incident, ref=step, action="done", user=user, now=utcnow(), via="link"
    )
    return f"step {done.position} done"


@blp.route("/<token>/act", methods=["POST"])
def act(token: str) -> Any:
    """One action from the incident page (acknowledge, resolve, note, step)."""
    link = _checked(token)
    if isinstance(link, BaseResponse):
        return link
    action = request.form.get("action", "")
    if action not in ACTIONS or link.approval_id is not None:
        return _refuse(422, "Unknown action.")
    try:
        done = _act(link, action)
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        return _refuse(exc.status if exc.status >= 400 else 400, exc.detail)
    return redirect(f"{links.PATH}{token}?done={done}", code=303)


@blp.route("/<token>/decide", methods=["POST"])
def decide(token: str) -> Any:
    """Legal approves or rejects the exact version the link names (four eyes as in the API)."""
    link = _checked(token)
    if isinstance(link, BaseResponse):
        return link
    if link.approval_id is None:
        return _refuse(404, "This link is not for an approval.")
    try:
        done = approval_page.decide(link, request.form)
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        return _refuse(exc.status if exc.status >= 400 else 400, exc.detail)
    return redirect(f"{links.PATH}{token}?done={done}", code=303)
