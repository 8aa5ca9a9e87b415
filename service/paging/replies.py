"""SMS replies from known contacts: ACK 42, 1A, A, RES, ESC, STATUS, HELP, NOTE, DONE, STOP."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.auth.models import User
from service.auth.roles import NOTE_TAKERS, RESPONDERS
from service.db import utcnow
from service.errors import DomainError, InvalidTransition
from service.incidents import service as incidents
from service.incidents.models import MAX_NOTE, OPEN_STATUSES, Incident, Status
from service.paging import links, messages
from service.paging import service as paging
from service.paging.models import Page
from service.playbooks.runs import complete_step_by_sms
from service.timeline import events
from service.timeline import service as timeline
from service.timeline.service import Actor

STOP_WORDS = {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"}
START_WORDS = {"START", "YES", "UNSTOP"}
ACTIONS = {
    "A": "acknowledge",
    "ACK": "acknowledge",
    "ACKNOWLEDGE": "acknowledge",
    "R": "resolve",
    "RES": "resolve",
    "RESOLVE": "resolve",
    "E": "escalate",
    "ESC": "escalate",
    "ESCALATE": "escalate",
}
_CODE = re.compile(r"^(\d{1,3})\s*([ARE])$")
_NUMBERED = re.compile(r"^([A-Z]+)\s*#?\s*(\d{1,9})?$")
_NOTE = re.compile(r"^NOTE\s+#?(\d{1,9})\s+(.+)$", re.IGNORECASE | re.DOTALL)
_DONE = re.compile(r"^DONE\s+#?(\d{1,9})\s+(\S{1,64})$", re.IGNORECASE)


@dataclass(frozen=True)
class Command:
    """A parsed reply."""

    action: str  # acknowledge, resolve, escalate, status, help, note, done, stop, start
    number: int | None = None
    code: int | None = None
    text: str | None = None


def parse(body: str) -> Command | None:
    """Read a reply, tolerant of case and spacing; None if it is not a command."""
    raw = " ".join(body.split())
    word = raw.upper()
    if word in STOP_WORDS:
        return Command("stop")
    if word in START_WORDS:
        return Command("start")
    if word in ("HELP", "INFO", "?"):
        return Command("help")
    if m := _NOTE.match(raw):  # kept whole here; `_note` keeps what the notes API keeps
        return Command("note", number=int(m.group(1)), text=m.group(2).strip())
    if m := _DONE.match(raw):
        return Command("done", number=int(m.group(1)), text=m.group(2))
    if m := _CODE.match(word):
        return Command(ACTIONS[m.group(2)], code=int(m.group(1)))
    if m := _NUMBERED.match(word):
        verb, number = m.group(1), m.group(2)
        if verb == "STATUS":
            return Command("status", number=int(number) if number else None)
        if verb in ACTIONS:
            return Command(ACTIONS[verb], number=int(number) if number else None)
    return None


def _incident_for(session: Session, user: User, cmd: Command) -> Incident | None:
    if cmd.number is not None:
        return session.get(Incident, cmd.number)
    query = select(Page).where(Page.user_id == user.id, Page.incident_id.is_not(None))
    latest = query.order_by(Page.id.desc()).limit(1)
    if cmd.code is None:
        page = session.scalar(latest)
    else:
        # the open incident holding this code; else the last one that held it (resolved
        # since), so the answer can say so
        coded = latest.where(Page.reply_code == cmd.code)
        page = session.scalar(
            coded.join(Incident, Incident.id == Page.incident_id).where(
                Incident.status.in_(OPEN_STATUSES)
            )
        ) or session.scalar(coded)
    return session.get(Incident, page.incident_id) if page else None


def _unchanged(incident: Incident, action: str) -> str:
    """The answer to an acknowledgement or resolution the incident's status refused."""
    if incident.status == Status.RESOLVED and incident.resolved_at is not None:
        return (
            f"#{incident.id} is already resolved (at {incident.resolved_at:%H:%M UTC}); "
            "nothing changed."
        )
    if incident.status == Status.CLOSED:
        return f"#{incident.id} is closed; nothing changed."
    if (
        action == "acknowledge"
        and incident.status == Status.ACKNOWLEDGED
        and incident.acknowledged_by is not None
        and incident.acknowledged_at is not None
    ):
        at = f"{incident.acknowledged_at:%H:%M UTC}"
        who = incident.acknowledged_by.name
        return f"#{incident.id} was already acknowledged by {who} at {at}."
    return f"#{incident.id} is {incident.status}; nothing changed."


def _note(session: Session, *, incident: Incident, actor: Actor, text: str) -> str:
    """Add the note whole, up to the notes API's limit; a longer one keeps its beginning, and
    the answer says how much was kept."""
    kept = text[:MAX_NOTE]
    incidents.add_note(session, incident=incident, actor=actor, text=kept)
    if len(kept) < len(text):
        return (
            f"Note added to #{incident.id}, but cut: the first {len(kept):,} of "
            f"{len(text):,} characters were kept (the limit is {MAX_NOTE:,})."
        )
    return f"Note added to #{incident.id}."


def handle(session: Session, *, user: User, body: str) -> str:
    """Carry out one reply from a known contact; return the text to answer with."""
    cmd = parse(body)
    if cmd is None:
        return "Sorry, I did not understand that. " + messages.HELP
    if cmd.action == "help":
        return messages.HELP
    if cmd.action == "stop":
        user.sms_opted_out_at = user.sms_opted_out_at or utcnow()
        return "You will get no more Firebreak SMS. Reply START to receive pages again."
    if cmd.action == "start":
        user.sms_opted_out_at = None
        return "Firebreak pages are on again for this number."
    if cmd.action == "status" and cmd.number is None:
        open_ = session.scalars(
            select(Incident).where(Incident.status.in_(OPEN_STATUSES)).order_by(Incident.id)
        ).all()
        if not open_:
            return "No open incidents."
        return "Open: " + ", ".join(f"#{i.id} {i.severity} {i.status}" for i in open_[:8])
    incident = _incident_for(session, user, cmd)
    if incident is None:
        what = f"#{cmd.number}" if cmd.number else f"code {cmd.code}" if cmd.code else "a page"
        return f"No incident found for {what}. Reply STATUS for open incidents."
    return _act(session, user=user, incident=incident, cmd=cmd, body=body)


def _act(session: Session, *, user: User, incident: Incident, cmd: Command, body: str) -> str:
    actor = Actor.of(user, via="sms")
    # a step's owner role decides who may finish it (legal finishes legal's steps)
    allowed = NOTE_TAKERS if cmd.action in ("note", "done") else RESPONDERS
    if cmd.action != "status" and not (user.role_set & set(allowed)):
        return f"Your role cannot {cmd.action} incidents by SMS."
    incident = incidents.get(session, number=incident.id, lock=True)
    if cmd.action == "status":
        wolf = incident.assignee(incidents.IncidentRole.WOLF)
        token = links.issue(session, user_id=user.id, incident_id=incident.id, now=utcnow())
        return (
            f"#{incident.id} {incident.severity} {incident.status}; Wolf: "
            f"{wolf.name if wolf else 'unassigned'}. " + links.url(token)
        )
    _record(session, incident, actor, body, cmd)
    if cmd.action in ("acknowledge", "resolve"):
        try:
            incidents.transition(session, incident=incident, action=cmd.action, actor=actor)
        except InvalidTransition:
            return _unchanged(incident, cmd.action)
        verb = "acknowledged" if cmd.action == "acknowledge" else "resolved"
        return f"#{incident.id} {verb}. Thank you, {user.name.split()[0]}."
    if cmd.action == "escalate":
        moved = paging.advance(
            session,
            incident_id=incident.id,
            now=utcnow(),
            expect=None,
            reason=f"escalated by {user.name} by SMS",
        )
        return (
            f"#{incident.id} escalated to the next level."
            if moved
            else f"#{incident.id} is not escalating (it is {incident.status})."
        )
    if cmd.action == "note":
        return _note(session, incident=incident, actor=actor, text=cmd.text or "")
    if cmd.action == "done":
        try:
            return complete_step_by_sms(session, incident=incident, user=user, step=cmd.text or "")
        except DomainError as exc:
            return f"#{incident.id}: {exc.detail}"
    return messages.HELP


def _record(session: Session, incident: Incident, actor: Actor, body: str, cmd: Command) -> None:
    timeline.append(
        session,
        incident_id=incident.id,
        actor=actor,
        event=events.SmsReplied(body=body[:300], command=cmd.action),
    )
