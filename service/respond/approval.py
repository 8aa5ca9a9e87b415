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
from service.statements.models import MAX_COMMENT, Approval, Decision

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


def comment_of(form: Mapping[str, Any]) -> str:
    """The comment as typed (line breaks as the API stores them), without surrounding space."""
    return str(form.get("comment", "")).replace("\r\n", "\n").strip()


def _checked_comment(comment: str) -> str:
    """The API's bound: no comment longer than MAX_COMMENT (never cut: refused). That a
    rejection says why is the decision's own rule (`statements.approval.decide`)."""
    if len(comment) > MAX_COMMENT:
        raise Invalid(
            f"the comment is {len(comment):,} characters long; at most {MAX_COMMENT:,} fit",
            field="comment",
        )
    return comment


def decide(link: PageLink, form: Mapping[str, Any]) -> str:
    """Approve or reject the exact version named by the link (its hash must match); the
    outcome's code for the page (`approved` or `rejected`)."""
    if not link.user.role_set & APPROVERS:
        raise Forbidden("your role cannot decide on statements")
    approval = _approval(link)
    version = approval.version
    statement = version.statement
    try:
        decision = Decision(form.get("decision", ""))
    except ValueError:
        raise Invalid("decision must be approve or reject", field="decision") from None
    comment = _checked_comment(comment_of(form))
    getlist = getattr(form, "getlist", None)
    checklist = list(getlist("checklist")) if getlist else []
    approvals.decide(
        db.session,
        incident=db.session.get_one(Incident, link.incident_id),
        statement=statement,
        version=version,
        decision=decision,
        sha256=str(form.get("sha256", ""))[:64],
        comment=comment,
        checklist=[str(c)[:64] for c in checklist],
        user=link.user,
        now=utcnow(),
        via="link",
    )
    return "approved" if decision is Decision.APPROVE else "rejected"


def outcome(link: PageLink, code: str) -> str | None:
    """The page's own words for a decision just made (`?done=approved`), None for any other
    code: the query names an outcome, it never supplies text."""
    if code not in ("approved", "rejected"):
        return None
    return f"version {_approval(link).version.number} {code}"
