"""Escalation policies, an incident's pages, and phone verification."""

from __future__ import annotations

from typing import Any

from flask import g
from sqlalchemy import select

from service import limits
from service.api import Blueprint, abort
from service.auth.models import User
from service.auth.roles import READERS, Role
from service.db import utcnow
from service.errors import Conflict, NotFound
from service.extensions import db
from service.incidents import service as incidents
from service.limits import limiter
from service.paging import links, schemas, verification
from service.paging import service as paging
from service.paging.models import EscalationPolicy, Page

blp = Blueprint("paging", __name__, url_prefix="/api/v1", description="Paging and escalation")


def _policy(session: Any, key: str) -> EscalationPolicy:
    policy = session.scalar(select(EscalationPolicy).where(EscalationPolicy.key == key))
    if policy is None:
        raise NotFound(f"escalation policy {key!r} does not exist")
    return policy


def _only_default(session: Any, policy: EscalationPolicy) -> None:
    if policy.is_default:
        for other in session.scalars(
            select(EscalationPolicy).where(
                EscalationPolicy.is_default.is_(True), EscalationPolicy.id != policy.id
            )
        ):
            other.is_default = False


@blp.route("/escalation-policies", methods=["POST"])
@blp.roles(Role.ADMIN, errors=(404, 409))
@blp.arguments(schemas.PolicyCreateSchema)
@blp.response(201, schemas.PolicySchema)
def create_policy(args: dict[str, Any]) -> Any:
    """Create an escalation policy (every rotation and user it names must exist)."""
    with db.transaction() as session:
        if session.scalar(select(EscalationPolicy.id).where(EscalationPolicy.key == args["key"])):
            raise Conflict(f"policy {args['key']!r} already exists", field="key")
        paging.check_targets(session, levels=args["levels"], notify=args["notify"])
        policy = EscalationPolicy(**args)
        session.add(policy)
        session.flush()
        _only_default(session, policy)
        return policy


@blp.route("/escalation-policies", methods=["GET"])
@blp.roles(*READERS)
@blp.response(200, schemas.PolicySchema(many=True))
def list_policies() -> Any:
    """List escalation policies."""
    return list(db.session.scalars(select(EscalationPolicy).order_by(EscalationPolicy.key)))


@blp.route("/escalation-policies/<key>", methods=["GET"])
@blp.roles(*READERS, errors=(404,))
@blp.response(200, schemas.PolicySchema)
def get_policy(key: str) -> Any:
    """Get an escalation policy."""
    return _policy(db.session, key)


@blp.route("/escalation-policies/<key>", methods=["PUT"])
@blp.roles(Role.ADMIN, errors=(404, 409))
@blp.arguments(schemas.PolicyReplaceSchema)
@blp.response(200, schemas.PolicySchema)
def replace_policy(args: dict[str, Any], key: str) -> Any:
    """Replace an escalation policy (open incidents keep the version they started with; every
    rotation and user it names must exist)."""
    if args.pop("key", key) != key:
        abort(
            409, "the key in the body is not the URL's: a policy's key cannot change", field="key"
        )
    with db.transaction() as session:
        policy = _policy(session, key)
        paging.check_targets(session, levels=args["levels"], notify=args["notify"])
        for name, value in args.items():
            setattr(policy, name, value)
        _only_default(session, policy)
        return policy


@blp.route("/incidents/<int:number>/pages", methods=["GET"])
@blp.roles(*READERS, errors=(404,))
@blp.response(200, schemas.PageSchema(many=True))
def incident_pages(number: int) -> Any:
    """The pages sent for an incident, in order."""
    incident = incidents.get(db.session, number=number)
    return list(
        db.session.scalars(select(Page).where(Page.incident_id == incident.id).order_by(Page.id))
    )


def _self_or_admin(user_id: int) -> User:
    me: User = g.current_user
    if me.id != user_id and Role.ADMIN not in me.role_set:
        abort(403, "only an admin can verify another user's phone", type="forbidden")
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound(f"user {user_id} does not exist")
    return user


def _state(user: User, expires: Any = None) -> dict[str, Any]:
    return {
        "phone": user.phone,
        "verified": user.phone_verified_at is not None,
        "verified_at": user.phone_verified_at,
        "code_expires_at": expires,
    }


@blp.route("/users/<int:user_id>/phone/verification", methods=["POST"])
@blp.roles(*READERS, errors=(404, 409, 429))
@limiter.limit(limits.CODES_PER_CLIENT)
@limiter.limit(limits.CODES_PER_USER, key_func=limits.path_user)
@blp.response(202, schemas.VerificationSchema)
def send_code(user_id: int) -> Any:
    """Send a verification code to the user's phone by SMS."""
    with db.transaction() as session:
        user = session.merge(_self_or_admin(user_id))
        expires = verification.start(session, user=user, now=utcnow())
        return _state(user, expires)


@blp.route("/users/<int:user_id>/phone/verify", methods=["POST"])
@blp.roles(*READERS, errors=(404, 409, 422, 429))
@limiter.limit(limits.VERIFY_PER_CLIENT)
@blp.arguments(schemas.VerifyPhoneSchema)
@blp.response(200, schemas.VerificationSchema)
def verify_code(args: dict[str, Any], user_id: int) -> Any:
    """Confirm the code received by SMS; the phone can then be paged."""
    with db.transaction() as session:
        user = session.merge(_self_or_admin(user_id))
        verification.confirm(session, user=user, code=args["code"], now=utcnow())
        return _state(user)


@blp.route("/users/<int:user_id>/links/revoke", methods=["POST"])
@blp.roles(*READERS, errors=(404,))
@blp.response(200, schemas.RevokedLinksSchema)
def revoke_links(user_id: int) -> Any:
    """Revoke every live SMS link of a person (a lost phone); the person or an admin."""
    me: User = g.current_user
    if me.id != user_id and Role.ADMIN not in me.role_set:
        abort(403, "only an admin can revoke another user's links", type="forbidden")
    with db.transaction() as session:
        if session.get(User, user_id) is None:
            raise NotFound(f"user {user_id} does not exist")
        count = links.revoke_for_user(
            session, user_id=user_id, now=utcnow(), reason=f"revoked by {me.name}"
        )
    return {"revoked": count}
