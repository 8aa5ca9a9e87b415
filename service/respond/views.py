"""Phone pages behind SMS links (`/r/<token>`): no API token, no sign-in.

A link's trust equals an SMS reply from that phone: acknowledge, resolve with a note, add a
note, mark a playbook step done, and, for legal's approval links, approve or reject the exact
version the link names. A GET never acts (messaging apps fetch links for previews); every form
posts a per-link CSRF token and must come from this site. Actions call the same service
functions as the API, with the person as the actor ("via link").
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, Response, make_response, redirect, render_template, request
from werkzeug.wrappers import Response as BaseResponse

from service import config, csp
from service.auth.roles import NOTE_TAKERS, RESPONDERS
from service.db import utcnow
from service.errors import DomainError, Forbidden, Invalid
from service.extensions import db
from service.guards import BadInput
from service.incidents import service as incidents
from service.incidents.models import MAX_NOTE, Incident
from service.paging import links
from service.paging.models import PageLink
from service.playbooks import runs
from service.playbooks.content import definitions
from service.postmortem.sentences import describe
from service.respond import approval as approval_page
from service.statements.models import MAX_COMMENT
from service.timeline.models import TimelineEvent
from service.timeline.service import Actor

blp = Blueprint("respond", __name__, url_prefix="/r", template_folder="templates")
ACTIONS = ("acknowledge", "resolve", "note", "step")
#: the page's own words for what its form just did (`?done=<code>`; a step's code is step-<n>):
#: the query names an outcome, it never supplies the text shown
OUTCOMES = {"acknowledged": "acknowledged", "resolved": "resolved", "note": "note added"}
_STEP_DONE = re.compile(r"step-([0-9]{1,4})")
#: how a refused field is named on the page
_FIELDS = {"note": "the note", "comment": "the comment", "csrf": "the form"}


@blp.after_request
def _headers(resp: Response) -> Response:
    resp.headers["Content-Security-Policy"] = (
        f"default-src 'none'; style-src 'nonce-{csp.nonce()}'; img-src 'self' data:; "
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


@blp.errorhandler(BadInput)
def _bad_input(error: BadInput) -> Response:
    """A request guard's refusal (a NUL character in a note, ...) as a page saying what was
    wrong: a phone browser shows HTML, never problem+json. Nothing was changed."""
    if error.location in ("path", "query"):
        what = "the link"
    else:
        what = _FIELDS.get(error.field, f"the field {error.field!r}")
    detail = f"{what[0].upper()}{what[1:]} {error.description}"
    if "NUL" in (error.description or ""):
        detail += " (an invisible character, often pasted with text): remove it and send again"
    return _refuse(error.code or 400, detail + ".")


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
    """The playbook's steps; "Mark done" only where it can succeed, else why not."""
    run = runs.current_run(db.session, incident_id=incident.id)
    if run is None:
        return []
    titles = {k: str(v.get("title", k)) for k, v in definitions(run).items()}
    out = []
    for step in run.steps:
        active = step.state in ("ready", "in_progress")
        waits = active and runs.waits_for_statement(db.session, run=run, step=step)
        out.append(
            {
                "ref": str(step.position),
                "title": titles.get(step.step_id, step.step_id),
                "owner": step.owner,
                "state": step.state,
                "waits_for_statement": waits,
                "may_finish": active and not waits and runs.may_act(link.user, incident, step),
            }
        )
    return out


def _outcome(code: str, steps: list[dict[str, Any]]) -> str | None:
    """The incident page's words for `?done=<code>`, None for a code it does not know."""
    if code in OUTCOMES:
        return OUTCOMES[code]
    step = _STEP_DONE.fullmatch(code)
    if step and any(s["ref"] == step.group(1) for s in steps):
        return f"step {step.group(1)} done"
    return None


def _page(
    link: PageLink,
    token: str,
    *,
    done: str = "",
    problem: str | None = None,
    kept: dict[str, Any] | None = None,
    status: int = 200,
) -> Response:
    """The link's page: the incident, or the approval; after a refused form, the problem and
    the form again with what was typed (`kept`)."""
    incident = db.session.get_one(Incident, link.incident_id)
    common = {
        "incident": incident,
        "link": link,
        "token": token,
        "csrf": links.csrf_token(link),
        "problem": problem,
        "kept": kept or {},
        "max_note": MAX_NOTE,
        "max_comment": MAX_COMMENT,
    }
    if link.approval_id is not None:
        body = render_template(
            "respond/approval.html",
            **common,
            done=approval_page.outcome(link, done),
            **approval_page.view(link),
        )
        return make_response(body, status)
    steps = _steps(incident, link)
    body = render_template(
        "respond/incident.html",
        **common,
        done=_outcome(done, steps),
        events=_timeline(incident.id),
        steps=steps,
        may_respond=bool(link.user.role_set & set(RESPONDERS)),
        may_note=bool(link.user.role_set & set(NOTE_TAKERS)),
    )
    return make_response(body, status)


@blp.route("/<token>", methods=["GET"])
def show(token: str) -> Any:
    """The incident (or approval) page of a link; reading only, whatever fetches it."""
    link = _link(token)
    if link is None:
        return _gone()
    return _page(link, token, done=request.args.get("done", ""))


def _checked(token: str) -> PageLink | Response:
    link = _link(token)
    if link is None:
        return _gone()
    if not _same_origin() or not links.csrf_ok(link, request.form.get("csrf")):
        return _refuse(403, "This form has expired. Open the link from your SMS again.")
    return link


def _typed_note() -> str:
    """The note as typed, without surrounding space, its line breaks as the API stores them
    (a form sends CRLF, which the textarea's own count took as one character)."""
    return (request.form.get("note") or "").replace("\r\n", "\n").strip()


def _note() -> str:
    """The typed note, within the API's limit (never cut: a longer one is refused)."""
    note = _typed_note()
    if len(note) > MAX_NOTE:
        raise Invalid(
            f"the note is {len(note):,} characters long; at most {MAX_NOTE:,} fit. "
            "Shorten it and send it again",
            field="note",
        )
    return note


def _act(link: PageLink, action: str) -> str:
    """Carry out one form action through the same service functions as the API and SMS; the
    outcome's code for the page (`OUTCOMES`, or step-<n>)."""
    session, user = db.session, link.user
    actor = Actor.of(user, via="link")
    incident = incidents.get(session, number=link.incident_id, lock=True)
    if action in ("acknowledge", "resolve"):
        if not user.role_set & set(RESPONDERS):
            raise Forbidden(f"your role cannot {action} incidents")
        note = _note()
        incidents.transition(
            session, incident=incident, action=action, actor=actor, note=note or None
        )
        return "acknowledged" if action == "acknowledge" else "resolved"
    if action == "note":
        if not user.role_set & set(NOTE_TAKERS):
            raise Forbidden("your role cannot add notes")
        note = _note()
        if not note:
            raise Invalid("the note is empty: write a note first", field="note")
        incidents.add_note(session, incident=incident, actor=actor, text=note)
        return "note"
    step = (request.form.get("step") or "").strip()[:64]
    done = runs.act(
        session, incident=incident, ref=step, action="done", user=user, now=utcnow(), via="link"
    )
    return f"step-{done.position}"


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
    except Invalid as exc:  # what was typed: the page again, saying what to change
        db.session.rollback()
        kept = {"action": action, "note": _typed_note()}
        return _page(link, token, problem=exc.detail, kept=kept, status=exc.status)
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
    except Invalid as exc:  # what was typed: the page again, saying what to change
        db.session.rollback()
        kept = {
            "comment": approval_page.comment_of(request.form),
            "checklist": request.form.getlist("checklist"),
        }
        return _page(link, token, problem=exc.detail, kept=kept, status=exc.status)
    except DomainError as exc:
        db.session.rollback()
        return _refuse(exc.status if exc.status >= 400 else 400, exc.detail)
    return redirect(f"{links.PATH}{token}?done={done}", code=303)
