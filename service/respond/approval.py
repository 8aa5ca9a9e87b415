"""Legal's approval page: the version a link names, its diff, checklist and rule; the decision
goes through `statements.approval.decide` (bound to the version's hash, four eyes)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from service.auth.roles import Role
from service.db import utcnow
from service.errors import Forbidden, Invalid
from service.extensions import db
from service.incidents.models import Incident
from service.paging.models import PageLink
from service.statements import approval as approvals
from service.statements import service as statements
from service.statements.models import Approval, Decision

#: who may decide (as in the API); the version's rule says which roles are required
APPROVERS = {Role.LEGAL, Role.COMMS, Role.WOLF, Role.ADMIN}


def _approval(link: PageLink) -> Approval:
    return db.session.get_one(Approval, link.approval_id)


def view(link: PageLink) -> dict[str, Any]:
    """What the approval page shows: the text, the diff to the previous version, the rule."""
    approval = _approval(link)
    version = approval.version
    statement = version.statement
    diff = (
        statements.diff(statement, from_=version.number - 1, to=version.number)
        if version.number > 1
        else ""
    )
    mine = next((d for d in approval.decisions if d.user_id == link.user_id), None)
    return {
        "approval": approval,
        "statement": statement,
        "version": version,
        "diff_lines": diff.splitlines(),
        "decisions": approval.decisions,
        "missing": approval.missing_roles,
        "author": version.author.name if version.author else "—",
        "own_version": version.author_id == link.user_id,
        "may_decide": bool(link.user.role_set & APPROVERS)
        and approval.status == "pending"
        and mine is None,
    }


def decide(link: PageLink, form: Mapping[str, Any]) -> str:
    """Approve or reject the exact version named by the link (its hash must match)."""
    if not link.user.role_set & APPROVERS:
        raise Forbidden("your role cannot decide on statements")
    approval = _approval(link)
    version = approval.version
    statement = version.statement
    try:
        decision = Decision(form.get("decision", ""))
    except ValueError:
        raise Invalid("decision must be approve or reject", field="decision") from None
    getlist = getattr(form, "getlist", None)
    checklist = list(getlist("checklist")) if getlist else []
    approvals.decide(
        db.session,
        incident=db.session.get_one(Incident, link.incident_id),
        statement=statement,
        version=version,
        decision=decision,
        sha256=str(form.get("sha256", ""))[:64],
        comment=str(form.get("comment", "")).strip()[:2000],
        checklist=[str(c)[:64] for c in checklist],
        user=link.user,
        now=utcnow(),
    )
    if decision is Decision.APPROVE:
        return f"version {version.number} approved"
    return f"version {version.number} rejected"
