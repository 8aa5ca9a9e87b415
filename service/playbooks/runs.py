"""Playbook runs: attach a playbook to an incident and move its steps along.

Step states: pending -> ready (every depends_on done or skipped) -> in_progress -> done,
skipped (reason) or blocked (reason). Rules are in docs/playbooks.md ("Runs").
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.auth.models import User
from service.auth.roles import Role
from service.db import utcnow
from service.errors import Conflict, Forbidden, Invalid, InvalidTransition, NotFound
from service.incidents.models import Incident, IncidentRole
from service.paging import resolution
from service.playbooks import deadlines
from service.playbooks.content import definitions, due_at
from service.playbooks.model import parse_duration
from service.playbooks.models import (
    ACTIVE,
    FINISHED,
    PlaybookRun,
    StepNote,
    StepRun,
    StepState,
)
from service.timeline import events
from service.timeline import service as timeline
from service.timeline.models import EventKind, TimelineEvent
from service.timeline.service import Actor

log = logging.getLogger(__name__)

ENGINE = Actor.system("playbooks")
S = StepState


class StatementNotApproved(Conflict):
    """The step needs an approved statement and the incident has none yet."""

    type = "statement-not-approved"


@dataclass(frozen=True)
class Rule:
    """A step action: the states it starts from and the state it leads to."""

    sources: tuple[StepState, ...]
    target: StepState


RULES = {
    "start": Rule((S.READY, S.BLOCKED), S.IN_PROGRESS),
    "done": Rule((S.READY, S.IN_PROGRESS, S.BLOCKED), S.DONE),
    "skip": Rule((S.PENDING, S.READY, S.IN_PROGRESS, S.BLOCKED), S.SKIPPED),
    "block": Rule((S.READY, S.IN_PROGRESS), S.BLOCKED),
    "reopen": Rule((S.DONE, S.SKIPPED), S.IN_PROGRESS),
}
ACTIONS = tuple(RULES)


def current_run(session: Session, *, incident_id: int) -> PlaybookRun | None:
    """The playbook run attached to an incident now (not replaced), if any."""
    return session.scalar(
        select(PlaybookRun).where(
            PlaybookRun.incident_id == incident_id, PlaybookRun.replaced_at.is_(None)
        )
    )


def statement_policy(session: Session, *, incident_id: int) -> dict[str, Any] | None:
    """The attached playbook's `statements` section, normalised; None if no run or no section.

    {"approvals": [roles], "approval_due_seconds": int | None, "checklist": [{"id", "text"}]}
    """
    run = current_run(session, incident_id=incident_id)
    section = (run.content or {}).get("statements") if run is not None else None
    if not isinstance(section, dict):
        return None
    due = section.get("approval_due")
    return {
        "approvals": [str(role) for role in section.get("approvals") or []],
        "approval_due_seconds": int(parse_duration(due).total_seconds()) if due else None,
        "checklist": [
            {"id": str(item["id"]), "text": str(item["text"])}
            for item in section.get("checklist") or []
        ],
    }


# -- the frozen content ---------------------------------------------------------------------


# -- steps ----------------------------------------------------------------------------------


def is_lead(user: User, incident: Incident) -> bool:
    """An admin, or the incident's Wolf (any Wolf while none is assigned)."""
    roles = user.role_set
    if Role.ADMIN in roles:
        return True
    wolf = incident.assignee(IncidentRole.WOLF)
    return wolf.id == user.id if wolf is not None else Role.WOLF in roles


def may_act(user: User, incident: Incident, step: StepRun) -> bool:
    """The step's owner role, the incident's Wolf, or an admin."""
    if is_lead(user, incident):
        return True
    return step.owner != Role.WOLF.value and step.owner in {r.value for r in user.role_set}


def find_step(run: PlaybookRun, ref: str) -> StepRun:
    """A step by id or by its 1-based position ("3")."""
    for step in run.steps:
        if step.step_id == ref or (ref.isdigit() and step.position == int(ref)):
            return step
    raise NotFound(f"playbook {run.playbook_id} has no step {ref!r}")


def run_of(session: Session, incident: Incident) -> PlaybookRun:
    """The current run, or NotFound."""
    run = current_run(session, incident_id=incident.id)
    if run is None:
        raise NotFound(f"incident #{incident.id} has no playbook attached")
    return run


def _change(
    session: Session,
    step: StepRun,
    target: StepState,
    *,
    actor: Actor,
    now: datetime,
    reason: str | None = None,
    action: str | None = None,
    statement_id: int | None = None,
) -> None:
    source = step.state
    step.state, step.updated_at = target.value, now
    if actor.user_id is not None:
        step.acted_by_id = actor.user_id
    event = events.StepChanged(
        run_id=step.run_id,
        step=step.step_id,
        position=step.position,
        from_=source,
        to=target.value,
        action=action,
        statement_id=statement_id,
        reason=reason or None,
    )
    timeline.append(session, incident_id=step.incident_id, actor=actor, event=event)
    if target.value not in ACTIVE:  # its notices and reminders still unsent would be stale
        active = set(
            session.scalars(
                select(StepRun.id).where(StepRun.run_id == step.run_id, StepRun.state.in_(ACTIVE))
            )
        )
        resolution.drop_about_steps(
            session,
            incident_id=step.incident_id,
            active=active,
            reason=f"step {step.position} {step.step_id} is {target.value.replace('_', ' ')}",
        )


def advance(
    session: Session,
    *,
    run: PlaybookRun,
    incident: Incident,
    actor: Actor,
    now: datetime,
    defer: bool = False,
) -> list[StepRun]:
    """Make every pending step whose dependencies are finished ready; schedule its deadline."""

    defs = definitions(run)
    finished = {s.step_id for s in run.steps if s.state in FINISHED}
    became = []
    for step in run.steps:
        definition = defs[step.step_id]
        if step.state == S.PENDING and set(definition.get("depends_on", [])) <= finished:
            step.ready_at = now
            step.due_at = due_at(definition, incident=incident, ready_at=now)
            _change(session, step, S.READY, actor=actor, now=now)
            became.append(step)
    waiting = [s for s in became if defs[s.step_id].get("needs_approved_statement")]
    auto = bool(waiting) and approved(session, incident_id=incident.id)
    for step in waiting if auto else []:  # the statement was approved before the step was ready
        step.finished_at = now
        _change(session, step, S.DONE, actor=ENGINE, now=now, reason="a statement is approved")
    became = [s for s in became if not (auto and s in waiting)]
    deadlines.on_ready(session, incident=incident, run=run, steps=became, now=now, defer=defer)
    if auto:
        became += advance(session, run=run, incident=incident, actor=actor, now=now, defer=defer)
    return became


def approved(session: Session, *, incident_id: int) -> bool:
    """Whether a statement version of the incident has been fully approved, as its timeline
    records (statements sit above playbooks: they read the playbook's approval rule)."""
    approvals = session.scalars(
        select(TimelineEvent.data).where(
            TimelineEvent.incident_id == incident_id,
            TimelineEvent.kind == EventKind.STATEMENT_APPROVED.value,
        )
    )
    return any(data.get("status") == "approved" for data in approvals)


def _refusal_check(
    session: Session,
    *,
    run: PlaybookRun,
    step: StepRun,
    incident: Incident,
    user: User,
    action: str,
    reason: str | None,
) -> str | None:
    """Refuse an action the step's state, the reason or the approval rule does not allow;
    return the cleaned reason."""
    rule = RULES[action]
    if step.state not in rule.sources:
        raise InvalidTransition(
            f"cannot {action} step {step.position} ({step.step_id}): it is {step.state}",
            state=step.state,
        )
    reason = (reason or "").strip() or None
    if action in ("skip", "block") and not reason:
        raise Invalid(f"a reason is required to {action} a step", field="reason")
    if action == "skip" and not step.optional and not is_lead(user, incident):
        raise Forbidden("only optional steps may be skipped, unless by an admin or the Wolf")
    if action == "done" and waits_for_statement(session, run=run, step=step):
        raise StatementNotApproved(
            f"step {step.position} ({step.step_id}) needs an approved statement first"
        )
    return reason


def waits_for_statement(session: Session, *, run: PlaybookRun, step: StepRun) -> bool:
    """Whether the step needs an approved statement its incident does not have yet (marking
    it done is refused until then; the approval itself finishes it)."""
    if not definitions(run)[step.step_id].get("needs_approved_statement"):
        return False
    return not approved(session, incident_id=run.incident_id)


def act(
    session: Session,
    *,
    incident: Incident,
    ref: str,
    action: str,
    user: User,
    now: datetime,
    reason: str | None = None,
    via: str | None = None,
) -> StepRun:
    """Apply a step action; the caller holds the incident's row lock and commits."""
    run = run_of(session, incident)
    step = find_step(run, ref)
    if not may_act(user, incident, step):
        raise Forbidden(
            f"step {step.position} ({step.step_id}) is owned by {step.owner}; only that role, "
            "the incident's Wolf or an admin may act on it"
        )
    rule = RULES[action]
    reason = _refusal_check(
        session, run=run, step=step, incident=incident, user=user, action=action, reason=reason
    )
    if action == "reopen":
        _reopen_dependents(session, run=run, step=step, now=now)
    actor = Actor.of(user, via=via)
    if rule.target is S.IN_PROGRESS and step.started_at is None:
        step.started_at = now
    if rule.target in (S.DONE, S.SKIPPED):
        step.finished_at = now
    elif action == "reopen":
        step.finished_at = None
    step.reason = reason if rule.target in (S.SKIPPED, S.BLOCKED) else step.reason
    _change(session, step, rule.target, actor=actor, now=now, reason=reason, action=action)
    if rule.target in (S.DONE, S.SKIPPED):
        advance(session, run=run, incident=incident, actor=actor, now=now)
    session.flush()
    return step


def _reopen_dependents(session: Session, *, run: PlaybookRun, step: StepRun, now: datetime):
    defs = definitions(run)
    dependents = [s for s in run.steps if step.step_id in defs[s.step_id].get("depends_on", [])]
    started = [s for s in dependents if s.state not in (S.PENDING, S.READY)]
    if started:
        names = ", ".join(f"{s.position} ({s.step_id}) is {s.state}" for s in started)
        raise InvalidTransition(f"cannot reopen step {step.position}: {names}")
    for s in dependents:
        if s.state == S.READY:
            s.ready_at = None
            _change(session, s, S.PENDING, actor=ENGINE, now=now, reason="a dependency reopened")
            s.due_at = due_at(defs[s.step_id], incident=run_incident(session, run), ready_at=None)


def run_incident(session: Session, run: PlaybookRun) -> Incident:
    """The incident of a run."""
    return session.get_one(Incident, run.incident_id)


def add_note(
    session: Session, *, incident: Incident, ref: str, user: User, text: str, now: datetime
) -> StepNote:
    """A note on a step, also on the timeline; the caller holds the incident lock and commits."""
    step = find_step(run_of(session, incident), ref)
    note = StepNote(author_id=user.id, author=user.name, body=text, created_at=now)
    step.notes.append(note)
    session.flush()
    timeline.append(
        session,
        incident_id=incident.id,
        actor=Actor.of(user),
        event=events.NoteAdded(
            text=text, step=step.step_id, position=step.position, run_id=step.run_id
        ),
    )
    return note


def complete_by_statement(
    session: Session, *, incident_id: int, statement_id: int, verb: str = "approved"
) -> int:
    """A statement was approved or published: finish the steps that waited for one (ready or
    in progress); steps that become ready later finish as they do (`advance`)."""
    run = current_run(session, incident_id=incident_id)
    if run is None:
        return 0

    now, defs, count = utcnow(), definitions(run), 0
    for step in run.steps:
        waiting = defs[step.step_id].get("needs_approved_statement")
        if waiting and step.state in (S.READY.value, S.IN_PROGRESS.value):
            step.finished_at = now
            _change(
                session,
                step,
                S.DONE,
                actor=ENGINE,
                now=now,
                statement_id=statement_id,
                reason=f"statement {statement_id} {verb}",
            )
            count += 1
    if count:
        advance(session, run=run, incident=run_incident(session, run), actor=ENGINE, now=now)
    return count


def complete_step_by_sms(session: Session, *, incident: Incident, user: User, step: str) -> str:
    """`DONE 42 3`: mark step 3 (or a step id) done; return the SMS answer."""

    done = act(
        session, incident=incident, ref=step, action="done", user=user, now=utcnow(), via="sms"
    )
    ready = [s for s in done.run.steps if s.state == S.READY]
    tail = ("Ready now: " + ", ".join(str(s.position) for s in ready[:6]) + ".") if ready else ""
    if all(s.state in FINISHED for s in done.run.steps):
        tail = "Playbook complete."
    return f"#{incident.id} step {done.position} ({done.step_id}) done. {tail}".strip()
