"""Approval of statement versions: submit, decide (four eyes, hash-bound), remind, escalate."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from service.auth.models import User
from service.auth.roles import Role
from service.bus import publish
from service.errors import Conflict, Forbidden, Invalid
from service.incidents.models import Incident, IncidentRole
from service.jobs import after_commit
from service.paging.resolution import drop_pending
from service.paging.service import new_page
from service.paging.targets import resolve
from service.playbooks.runs import statement_policy
from service.statements.hooks import StatementApproved
from service.statements.models import (
    Approval,
    ApprovalDecision,
    ApprovalStatus,
    Decision,
    Statement,
    StatementVersion,
)
from service.statements.schedule import EscalateApproval, RemindApprovers
from service.statements.service import statement_link
from service.timeline import events
from service.timeline import service as timeline
from service.timeline.service import Actor

DEFAULT_POLICY: dict[str, Any] = {
    "approvals": ["legal"],
    "approval_due_seconds": 1800,
    "checklist": [],
}
ENGINE = Actor.system("statements")
#: RQ schedules to the whole second, so a timer may fire up to a second early: accept that
EARLY = timedelta(seconds=2)


def policy_for(session: Session, *, incident_id: int) -> dict[str, Any]:
    """The approval rule from the attached playbook's statements section, else the default."""
    found = statement_policy(session, incident_id=incident_id) or {}
    return {
        "approvals": list(dict.fromkeys(found.get("approvals") or DEFAULT_POLICY["approvals"])),
        "approval_due_seconds": found.get("approval_due_seconds")
        or DEFAULT_POLICY["approval_due_seconds"],
        "checklist": list(found.get("checklist") or []),
    }


def lock(session: Session, *, version: StatementVersion) -> Approval | None:
    """The version's approval request, row-locked and freshly loaded (None if not submitted)."""
    query = (
        select(Approval)
        .where(Approval.version_id == version.id)
        .with_for_update(of=Approval)
        .execution_options(populate_existing=True)
    )
    return session.scalar(query)


def _label(statement: Statement, version: StatementVersion) -> str:
    return f"version {version.number} of statement {statement.id}"


def _latest(statement: Statement, version: StatementVersion) -> None:
    latest = max(v.number for v in statement.versions)
    if version.number != latest:
        raise Conflict(
            f"{_label(statement, version)} is stale: version {latest} is the current text",
            current_version=latest,
        )


def approvers(session: Session, *, incident: Incident, role: str, now: datetime) -> list[User]:
    """Who decides for a role: the incident's assignee for it, else everyone holding the role."""
    if role in IncidentRole.__members__.values():
        assigned = incident.assignee(IncidentRole(role))
        if assigned is not None and assigned.active:
            return [assigned]

    return resolve(session, [{"role": role}], at=now)


def _notify(
    session: Session,
    *,
    incident: Incident,
    users: list[User],
    body: str,
    now: datetime,
    approval_id: int | None = None,
) -> dict[str, tuple[events.Recipient, ...]]:
    """Text each person (their link opens the approval page); note who could not be reached."""
    sent, skipped = [], []
    for user in users:
        if user.pageable:
            new_page(
                session,
                incident=incident,
                user=user,
                kind="notify",
                body=body,
                now=now,
                approval_id=approval_id,
            )
            sent.append(events.Recipient(user=user.name, user_id=user.id))
        else:
            skipped.append(events.Recipient(user=user.name, user_id=user.id))
    return {"notified": tuple(sent), "skipped": tuple(skipped)}


def submit(
    session: Session,
    *,
    incident: Incident,
    statement: Statement,
    version: StatementVersion,
    user: User,
    now: datetime,
) -> Approval:
    """Ask the required roles to approve this exact text, page them, and set the deadline."""
    _latest(statement, version)
    if version.approval is not None:
        raise Conflict(
            f"{_label(statement, version)} was already submitted "
            f"(it is {version.approval.status}); draft a new version to change it"
        )
    rule = policy_for(session, incident_id=incident.id)
    due = int(rule["approval_due_seconds"])
    approval = Approval(
        version=version,
        incident_id=incident.id,
        sha256=version.sha256,
        required_roles=rule["approvals"],
        checklist=rule["checklist"],
        status=ApprovalStatus.PENDING.value,
        submitted_by_id=user.id,
        submitted_at=now,
        due_at=now + timedelta(seconds=due),
    )
    session.add(approval)
    session.flush()
    notified = _page_approvers(
        session, incident=incident, statement=statement, approval=approval, now=now, reminder=False
    )
    assert approval.due_at is not None  # every submitted version has a deadline
    timeline.append(
        session,
        incident_id=incident.id,
        actor=Actor.of(user),
        event=events.StatementSubmitted(
            statement_id=statement.id,
            version=version.number,
            sha256=version.sha256,
            required=tuple(approval.required_roles),
            due_at=timeline.format_time(approval.due_at),
            **notified,
        ),
    )
    after_commit(
        session,
        RemindApprovers(approval.id),
        job_id=f"statement-{approval.id}-remind",
        delay_seconds=due,
    )
    return approval


def _page_approvers(
    session: Session,
    *,
    incident: Incident,
    statement: Statement,
    approval: Approval,
    now: datetime,
    reminder: bool,
) -> dict[str, tuple[events.Recipient, ...]]:
    author_id = approval.version.author_id
    users: list[User] = []
    for role in approval.missing_roles:
        for person in approvers(session, incident=incident, role=role, now=now):
            if person.id != author_id and person not in users:
                users.append(person)
    what = "REMINDER: statement" if reminder else "Statement"
    body = (
        f"Firebreak #{incident.id}: {what} {statement.id} v{approval.version.number} "
        f"({statement.purpose}) needs approval by {', '.join(approval.missing_roles)}. "
        f"Review and decide: {statement_link(incident.id, statement.id)}"
    )
    return _notify(
        session, incident=incident, users=users, body=body, now=now, approval_id=approval.id
    )


def _deciding_role(
    approval: Approval,
    statement: Statement,
    version: StatementVersion,
    *,
    user: User,
    sha256: str,
    approve: bool,
    checklist: list[str],
) -> str:
    """The role `user` decides this version for, or why they may not (nothing changes then)."""
    label = _label(statement, version)
    held = {r.value for r in user.role_set} & set(approval.required_roles)
    if not held:
        needed = ", ".join(approval.required_roles)
        raise Forbidden(f"{label} must be decided by: {needed}")
    if version.author_id == user.id:
        raise Forbidden(f"four eyes: you wrote {label}; someone else must decide on it")
    if approval.status != ApprovalStatus.PENDING:
        raise Conflict(f"{label} is already {approval.status}; nothing changed")
    _latest(statement, version)
    if sha256 != version.sha256 or sha256 != approval.sha256:
        raise Conflict(
            f"the hash sent is not the text of {label} (sha256 {version.sha256[:12]}…): "
            "you reviewed a different text; reload and review again",
            field="hash",
            current_hash=version.sha256,
        )
    if any(d.user_id == user.id for d in approval.decisions):
        raise Conflict(f"you have already decided on {label}")
    open_roles = [r for r in approval.missing_roles if r in held]
    if not open_roles:
        raise Conflict(f"{label} was already approved by {', '.join(sorted(held))}")
    if approve:
        _check_list(approval, checklist)
    return open_roles[0]


def decide(
    session: Session,
    *,
    incident: Incident,
    statement: Statement,
    version: StatementVersion,
    decision: Decision,
    sha256: str,
    comment: str,
    checklist: list[str],
    user: User,
    now: datetime,
    via: str | None = None,
) -> Approval:
    """One required role approves or rejects this exact text (row-locked: one decision wins);
    `via` names the channel on the timeline's actor ("link" from the phone page)."""
    label = _label(statement, version)
    approval = lock(session, version=version)
    if approval is None:
        raise Conflict(f"{label} has not been submitted for approval")
    role = _deciding_role(
        approval,
        statement,
        version,
        user=user,
        sha256=sha256,
        approve=decision is Decision.APPROVE,
        checklist=checklist,
    )
    if decision is Decision.REJECT and not comment.strip():
        raise Invalid(f"a rejection of {label} needs a comment saying why", field="comment")
    session.add(
        ApprovalDecision(
            approval=approval,
            role=role,
            decision=decision.value,
            user_id=user.id,
            sha256=sha256,
            comment=comment,
            checklist=list(dict.fromkeys(checklist)),
            decided_at=now,
        )
    )
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError:
        raise Conflict(f"{role} has already decided on {label}") from None
    complete = False
    if decision is Decision.REJECT:
        approval.status, approval.decided_at = ApprovalStatus.REJECTED.value, now
    elif not approval.missing_roles:
        approval.status, approval.decided_at = ApprovalStatus.APPROVED.value, now
        complete = True
    if approval.status != ApprovalStatus.PENDING:
        drop_pending(session, approval_id=approval.id, reason=f"approval {approval.status}")
    decided = events.StatementApproved if decision is Decision.APPROVE else events.StatementRejected
    timeline.append(
        session,
        incident_id=incident.id,
        actor=Actor.of(user, via=via),
        event=decided(
            statement_id=statement.id,
            version=version.number,
            sha256=sha256,
            role=role,
            comment=comment,
            checklist=tuple(dict.fromkeys(checklist)),
            status=approval.status,
            waiting_for=tuple(approval.missing_roles) if not complete else (),
        ),
    )
    session.flush()
    if complete:
        publish(StatementApproved(session, incident.id, statement.id))
    return approval


def _check_list(approval: Approval, ticked: list[str]) -> None:
    """Every ticked item is one of the approval's, and every one of them is ticked: a 409
    naming the item otherwise (the checklist is the approval's state, not the request's shape)."""
    known = {item["id"] for item in approval.checklist}
    unknown = [t for t in ticked if t not in known]
    if unknown:
        raise Conflict(f"unknown checklist item: {unknown[0]}", field="checklist")
    for item in approval.checklist:
        if item["id"] not in ticked:
            raise Conflict(
                f"checklist item not ticked: {item['id']} ({item['text']})",
                field="checklist",
                missing=item["id"],
            )


def remind(session: Session, *, approval_id: int, now: datetime) -> bool:
    """Past the deadline and still undecided: remind the approvers once, then plan escalation."""
    approval = session.scalar(
        select(Approval).where(Approval.id == approval_id).with_for_update(of=Approval)
    )
    if approval is None or approval.status != ApprovalStatus.PENDING or approval.reminded_at:
        return False
    if approval.due_at is not None and now + EARLY < approval.due_at:
        return False
    incident = session.get_one(Incident, approval.incident_id)
    statement = approval.version.statement
    notified = _page_approvers(
        session, incident=incident, statement=statement, approval=approval, now=now, reminder=True
    )
    approval.reminded_at = now
    timeline.append(
        session,
        incident_id=incident.id,
        actor=ENGINE,
        event=events.StatementReminded(
            statement_id=statement.id,
            version=approval.version.number,
            waiting_for=tuple(approval.missing_roles),
            **notified,
        ),
    )
    after_commit(
        session,
        EscalateApproval(approval.id),
        job_id=f"statement-{approval.id}-escalate",
        delay_seconds=period(approval).total_seconds(),
    )
    return True


def period(approval: Approval) -> timedelta:
    """The approval window (deadline minus submission); escalation waits one more of it."""
    if approval.due_at is None:
        return timedelta(seconds=DEFAULT_POLICY["approval_due_seconds"])
    return approval.due_at - approval.submitted_at


def escalate(session: Session, *, approval_id: int, now: datetime) -> bool:
    """Reminded and still undecided: tell the incident's Wolf (or the admins), once."""
    approval = session.scalar(
        select(Approval).where(Approval.id == approval_id).with_for_update(of=Approval)
    )
    if approval is None or approval.status != ApprovalStatus.PENDING or approval.escalated_at:
        return False
    if approval.reminded_at is None or now + EARLY < approval.reminded_at + period(approval):
        return False
    incident = session.get_one(Incident, approval.incident_id)
    statement = approval.version.statement
    wolf = incident.assignee(IncidentRole.WOLF)
    if wolf is not None and wolf.active:
        users = [wolf]
    else:
        users = resolve(session, [{"role": Role.ADMIN.value}], at=now)
    body = (
        f"Firebreak #{incident.id}: statement {statement.id} v{approval.version.number} "
        f"is still waiting for {', '.join(approval.missing_roles)} past its deadline. "
        f"{statement_link(incident.id, statement.id)}"
    )
    notified = _notify(
        session, incident=incident, users=users, body=body, now=now, approval_id=approval.id
    )
    approval.escalated_at = now
    timeline.append(
        session,
        incident_id=incident.id,
        actor=ENGINE,
        event=events.StatementEscalated(
            statement_id=statement.id,
            version=approval.version.number,
            waiting_for=tuple(approval.missing_roles),
            **notified,
        ),
    )
    return True
