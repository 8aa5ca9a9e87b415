"""Statement endpoints: thin wrappers over the statement and approval services."""

from __future__ import annotations

from typing import Any

from flask import g

from service.api import Blueprint
from service.auth.roles import READERS, Role
from service.db import utcnow
from service.extensions import db
from service.incidents import service as incidents
from service.statements import approval as approvals
from service.statements import schemas
from service.statements import service as statements
from service.statements.models import Decision

blp = Blueprint(
    "statements",
    __name__,
    url_prefix="/api/v1/incidents/<int:number>/statements",
    description="Public statements: drafting, approval, publication",
)

#: who drafts and edits statements and submits them for approval
DRAFTERS = (Role.COMMS, Role.WOLF, Role.LEGAL, Role.ADMIN)
#: who may decide; the version's snapshotted rule says which of these roles is required
APPROVERS = (Role.LEGAL, Role.COMMS, Role.WOLF, Role.ADMIN)
#: who may mark a version published (comms, or the incident's Wolf: checked by the service)
PUBLISHERS = (Role.COMMS, Role.WOLF)
VERSION = "/<int:statement_id>/versions/<int:version>"


@blp.route("", methods=["POST"])
@blp.roles(*DRAFTERS, errors=(404,))
@blp.arguments(schemas.StatementCreateSchema)
@blp.response(201, schemas.StatementSchema)
def create(args: dict[str, Any], number: int) -> Any:
    """Draft a statement (its first version)."""
    with db.transaction() as session:
        incident = incidents.get(session, number=number, lock=True)
        return statements.create(
            session,
            incident=incident,
            purpose=args["purpose"],
            channel=args["channel"],
            text=args["text"],
            user=g.current_user,
        )


@blp.route("", methods=["GET"])
@blp.roles(*READERS, errors=(404,))
@blp.response(200, schemas.StatementSchema(many=True))
def list_statements(number: int) -> Any:
    """An incident's statements, with versions, approvals and publications."""
    incidents.get(db.session, number=number)
    return statements.for_incident(db.session, incident_id=number)


@blp.route("/<int:statement_id>", methods=["GET"])
@blp.roles(*READERS, errors=(404,))
@blp.response(200, schemas.StatementSchema)
def get_statement(number: int, statement_id: int) -> Any:
    """One statement."""
    return statements.get(db.session, incident_id=number, statement_id=statement_id)


@blp.route("/<int:statement_id>/versions", methods=["POST"])
@blp.roles(*DRAFTERS, errors=(404,))
@blp.arguments(schemas.VersionCreateSchema)
@blp.response(201, schemas.VersionSchema)
def add_version(args: dict[str, Any], number: int, statement_id: int) -> Any:
    """Edit a statement: record a new version (it needs approval again)."""
    with db.transaction() as session:
        statement = statements.get(
            session, incident_id=number, statement_id=statement_id, lock=True
        )
        return statements.add_version(
            session, statement=statement, text=args["text"], user=g.current_user
        )


@blp.route("/<int:statement_id>/diff", methods=["GET"])
@blp.roles(*READERS, errors=(404,))
@blp.arguments(schemas.DiffQuerySchema, location="query")
@blp.response(200, schemas.DiffSchema)
def diff(args: dict[str, Any], number: int, statement_id: int) -> Any:
    """The unified diff between two versions."""
    statement = statements.get(db.session, incident_id=number, statement_id=statement_id)
    text = statements.diff(statement, from_=args["from_"], to=args["to"])
    return {"from_": args["from_"], "to": args["to"], "diff": text}


def _load(session: Any, number: int, statement_id: int, version: int) -> tuple:
    incident = incidents.get(session, number=number)
    statement = statements.get(session, incident_id=number, statement_id=statement_id, lock=True)
    return incident, statement, statements.version(statement, version)


@blp.route(f"{VERSION}/submit", methods=["POST"])
@blp.roles(*DRAFTERS, errors=(404, 409))
@blp.response(200, schemas.VersionSchema)
def submit(number: int, statement_id: int, version: int) -> Any:
    """Submit a version for approval: the required approvers are paged."""
    with db.transaction() as session:
        incident, statement, ver = _load(session, number, statement_id, version)
        approvals.submit(
            session,
            incident=incident,
            statement=statement,
            version=ver,
            user=g.current_user,
            now=utcnow(),
        )
        return ver


def _decision_view(decision: Decision, arg_schema: type, summary: str) -> None:
    def view(args: dict[str, Any], number: int, statement_id: int, version: int) -> Any:
        with db.transaction() as session:
            incident = incidents.get(session, number=number)
            statement = statements.get(session, incident_id=number, statement_id=statement_id)
            ver = statements.version(statement, version)
            approvals.decide(
                session,
                incident=incident,
                statement=statement,
                version=ver,
                decision=decision,
                sha256=args["hash"],
                comment=args["comment"],
                checklist=args["checklist"],
                user=g.current_user,
                now=utcnow(),
            )
            session.refresh(ver)
            return ver

    view.__name__ = decision.value
    view.__doc__ = summary
    view = blp.response(200, schemas.VersionSchema)(view)
    view = blp.arguments(arg_schema)(view)
    view = blp.roles(*APPROVERS, errors=(404, 409))(view)
    blp.route(f"{VERSION}/{decision.value}", methods=["POST"], endpoint=decision.value)(view)


_decision_view(
    Decision.APPROVE,
    schemas.DecisionArgsSchema,
    "Approve the exact text (by hash) for a required role, ticking the checklist.",
)
_decision_view(
    Decision.REJECT, schemas.RejectArgsSchema, "Reject the exact text (by hash) with a comment."
)


@blp.route(f"{VERSION}/publish", methods=["POST"])
@blp.roles(*PUBLISHERS, errors=(404, 409))
@blp.arguments(schemas.PublishArgsSchema)
@blp.response(201, schemas.PublicationSchema)
def publish(args: dict[str, Any], number: int, statement_id: int, version: int) -> Any:
    """Mark a fully approved version published, exactly as approved (hash checked)."""
    with db.transaction() as session:
        incident, statement, ver = _load(session, number, statement_id, version)
        return statements.publish(
            session,
            incident=incident,
            statement=statement,
            version=ver,
            sha256=args["hash"],
            user=g.current_user,
            channel=args["channel"],
            url=args["url"],
        )
