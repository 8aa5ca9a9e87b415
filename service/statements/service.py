"""Statements: drafting immutable versions, the diff between two, and publication."""

from __future__ import annotations

import difflib

from sqlalchemy import select
from sqlalchemy.orm import Session

from service import bus
from service.auth.models import User
from service.auth.roles import Role
from service.db import utcnow
from service.errors import Conflict, Forbidden, Invalid, NotFound
from service.incidents.models import Incident, IncidentRole
from service.paging import links
from service.statements.hooks import StatementPublished
from service.statements.models import (
    MAX_TEXT,
    Approval,
    ApprovalStatus,
    Publication,
    Purpose,
    Statement,
    StatementVersion,
    content_hash,
)
from service.timeline import events
from service.timeline import service as timeline
from service.timeline.service import Actor


def approved_exists(session: Session, *, incident_id: int) -> bool:
    """True if any statement version of the incident is fully approved."""
    found = session.scalar(
        select(Approval.id)
        .where(Approval.incident_id == incident_id, Approval.status == ApprovalStatus.APPROVED)
        .limit(1)
    )
    return found is not None


def statement_link(incident_id: int, statement_id: int) -> str:
    """The link printed in messages to approvers: the link placeholder, filled per recipient
    when the SMS is sent; a link minted for an approval opens legal's approval page."""
    return links.placeholder_url()


def _clean(text: str) -> str:
    if not text.strip():
        raise Invalid("the statement text is empty", field="text")
    if len(text) > MAX_TEXT:
        raise Invalid(f"the statement text is longer than {MAX_TEXT} characters", field="text")
    return text


def create(
    session: Session,
    *,
    incident: Incident,
    purpose: Purpose,
    channel: str,
    text: str,
    user: User,
) -> Statement:
    """Start a statement with its first version; the caller commits."""
    text = _clean(text)
    statement = Statement(
        incident_id=incident.id,
        purpose=purpose.value,
        channel=channel,
        created_by_id=user.id,
        created_at=utcnow(),
    )
    session.add(statement)
    session.flush()
    add_version(session, statement=statement, text=text, user=user)
    return statement


def add_version(
    session: Session, *, statement: Statement, text: str, user: User
) -> StatementVersion:
    """Record a new immutable version (an edit); earlier versions and decisions stay as they are."""
    text = _clean(text)
    number = max((v.number for v in statement.versions), default=0) + 1
    version = StatementVersion(
        statement=statement,
        number=number,
        text=text,
        sha256=content_hash(text),
        author_id=user.id,
        created_at=utcnow(),
    )
    session.add(version)
    session.flush()
    timeline.append(
        session,
        incident_id=statement.incident_id,
        actor=Actor.of(user),
        event=events.StatementDrafted(
            statement_id=statement.id,
            purpose=statement.purpose,
            channel=statement.channel,
            version=number,
            sha256=version.sha256,
        ),
    )
    return version


def get(session: Session, *, incident_id: int, statement_id: int, lock: bool = False) -> Statement:
    """A statement of an incident, optionally row-locked; NotFound otherwise."""
    query = select(Statement).where(
        Statement.id == statement_id, Statement.incident_id == incident_id
    )
    if lock:
        query = query.with_for_update(of=Statement).execution_options(populate_existing=True)
    statement = session.scalar(query)
    if statement is None:
        raise NotFound(f"statement {statement_id} of incident #{incident_id} does not exist")
    return statement


def for_incident(session: Session, *, incident_id: int) -> list[Statement]:
    """An incident's statements, oldest first."""
    query = select(Statement).where(Statement.incident_id == incident_id).order_by(Statement.id)
    return list(session.scalars(query))


def version(statement: Statement, number: int, *, field: str | None = None) -> StatementVersion:
    """One version by number; NotFound otherwise."""
    found = statement.version(number)
    if found is None:
        raise NotFound(f"statement {statement.id} has no version {number}", field=field)
    return found


def diff(statement: Statement, *, from_: int, to: int) -> str:
    """The unified diff between two versions' texts."""
    a = version(statement, from_, field="from")
    b = version(statement, to, field="to")
    lines = difflib.unified_diff(
        a.text.splitlines(keepends=True),
        b.text.splitlines(keepends=True),
        fromfile=f"v{a.number} {a.sha256[:12]}",
        tofile=f"v{b.number} {b.sha256[:12]}",
    )
    return "".join(line if line.endswith("\n") else line + "\n" for line in lines)


def may_publish(user: User, incident: Incident) -> bool:
    """comms, or the incident's Wolf (anyone with the wolf role if none is assigned)."""
    if Role.COMMS in user.role_set:
        return True
    wolf = incident.assignee(IncidentRole.WOLF)
    if wolf is not None:
        return wolf.id == user.id
    return Role.WOLF in user.role_set


def publish(
    session: Session,
    *,
    incident: Incident,
    statement: Statement,
    version: StatementVersion,
    sha256: str,
    user: User,
    channel: str | None = None,
    url: str | None = None,
) -> Publication:
    """Record that a fully approved version went out, exactly as approved (hash checked)."""
    if not may_publish(user, incident):
        raise Forbidden(f"only comms or the Wolf of incident #{incident.id} may publish")
    approval = version.approval
    label = f"version {version.number} of statement {statement.id}"
    if approval is None:
        raise Conflict(f"{label} was never submitted for approval; it cannot be published")
    if approval.status == ApprovalStatus.REJECTED:
        raise Conflict(f"{label} was rejected; it cannot be published")
    if approval.status != ApprovalStatus.APPROVED:
        missing = ", ".join(approval.missing_roles)
        raise Conflict(f"{label} is not approved yet (waiting for {missing}); not published")
    if sha256 != version.sha256 or sha256 != approval.sha256:
        raise Conflict(
            f"the text sent (sha256 {sha256[:12]}…) is not the approved text of {label} "
            f"(sha256 {approval.sha256[:12]}…); nothing was published",
            field="hash",
            approved_hash=approval.sha256,
        )
    pub = Publication(
        statement_id=statement.id,
        version_id=version.id,
        sha256=version.sha256,
        channel=channel or statement.channel,
        url=url,
        published_by_id=user.id,
        published_at=utcnow(),
    )
    session.add(pub)
    session.flush()
    timeline.append(
        session,
        incident_id=incident.id,
        actor=Actor.of(user),
        event=events.StatementPublished(
            statement_id=statement.id,
            version=version.number,
            sha256=version.sha256,
            channel=pub.channel,
            url=url,
        ),
    )
    session.expire(statement, ["publications"])
    bus.publish(StatementPublished(session, incident.id, statement.id))
    return pub
