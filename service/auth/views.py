"""User and API token endpoints."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import g
from sqlalchemy import func, select

from service import limits
from service.api import Blueprint, abort, page_of
from service.auth import schemas
from service.auth import service as auth
from service.auth.models import ApiToken, User, UserRole
from service.auth.roles import READERS, Role
from service.errors import Conflict, NotFound
from service.extensions import db
from service.limits import limiter

blp = Blueprint("users", __name__, url_prefix="/api/v1", description="Users and API tokens")


def _self_or_admin(user_id: int) -> User:
    me: User = g.current_user
    if me.id != user_id and Role.ADMIN not in me.role_set:
        abort(403, "only an admin can act on another user's account", type="forbidden")
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound(f"user {user_id} does not exist")
    return user


def _unique(session: Any, user: User | None, **values: Any) -> None:
    for field, value in values.items():
        if value is None:
            continue
        other = session.scalar(select(User).where(getattr(User, field) == value))
        if other is not None and other is not user:
            raise Conflict(f"{field} is already used by user {other.id}", field=field)


def _active_admins(session: Any) -> int:
    return session.scalar(
        select(func.count(User.id))
        .join(UserRole)
        .where(UserRole.role == Role.ADMIN.value, User.active.is_(True))
    )


@blp.route("/me", methods=["GET"])
@blp.roles(*READERS)
@blp.response(200, schemas.UserSchema)
def me() -> Any:
    """The user behind the token."""
    return g.current_user


@blp.route("/users", methods=["POST"])
@blp.roles(Role.ADMIN, errors=(409,))
@blp.arguments(schemas.UserCreateSchema)
@blp.response(201, schemas.UserSchema)
def create_user(args: dict[str, Any]) -> Any:
    """Create a user (a person who is paged or uses the API)."""
    with db.transaction() as session:
        email = args["email"].lower() if args["email"] else None
        _unique(session, None, email=email, phone=args["phone"])
        return auth.create_user(
            session, name=args["name"], roles=set(args["roles"]), email=email, phone=args["phone"]
        )


@blp.route("/users", methods=["GET"])
@blp.roles(Role.ADMIN, Role.WOLF)
@blp.response(200, schemas.UserSchema(many=True))
@blp.paginate()
def list_users(pagination_parameters: Any) -> Any:
    """List users."""
    return page_of(db.session, select(User).order_by(User.id), pagination_parameters)


@blp.route("/users/<int:user_id>", methods=["GET"])
@blp.roles(*READERS, errors=(404,))
@blp.response(200, schemas.UserSchema)
def get_user(user_id: int) -> Any:
    """Get a user (yourself, or anyone if admin)."""
    return _self_or_admin(user_id)


@blp.route("/users/<int:user_id>", methods=["PATCH"])
@blp.roles(Role.ADMIN, errors=(404, 409))
@blp.arguments(schemas.UserUpdateSchema)
@blp.response(200, schemas.UserSchema)
def update_user(args: dict[str, Any], user_id: int) -> Any:
    """Change a user's name, phone, roles or active flag."""
    with db.transaction() as session:
        user = session.get(User, user_id, with_for_update={"of": User})
        if user is None:
            raise NotFound(f"user {user_id} does not exist")
        _unique(session, user, phone=args.get("phone"))
        was_admin = Role.ADMIN in user.role_set and user.active
        if "name" in args:
            user.name = args["name"].strip()
        if "phone" in args and args["phone"] != user.phone:
            user.phone, user.phone_verified_at = args["phone"], None  # verify the new number
        if "roles" in args:
            user.set_roles(set(args["roles"]))
        if "active" in args:
            user.active = args["active"]
        session.flush()
        if was_admin and not (Role.ADMIN in user.role_set and user.active):
            if _active_admins(session) == 0:
                raise Conflict("this is the last active admin; make another admin first")
        return user


@blp.route("/users/<int:user_id>/tokens", methods=["POST"])
@blp.roles(*READERS, errors=(404, 429))
@limiter.limit(limits.TOKENS_PER_CLIENT)
@limiter.limit(limits.TOKENS_PER_USER, key_func=limits.path_user)
@blp.arguments(schemas.TokenCreateSchema)
@blp.response(201, schemas.IssuedTokenSchema)
def create_token(args: dict[str, Any], user_id: int) -> Any:
    """Issue an API token (its secret is shown only in this answer)."""
    user = _self_or_admin(user_id)
    with db.transaction() as session:
        days = args["expires_in_days"]
        token, secret = auth.issue_token(
            session,
            user=user,
            name=args["name"],
            expires_in=timedelta(days=days) if days else None,
        )
        token.token = secret  # type: ignore[attr-defined]  # shown once, never stored
        return token


@blp.route("/users/<int:user_id>/tokens", methods=["GET"])
@blp.roles(*READERS, errors=(404,))
@blp.response(200, schemas.TokenSchema(many=True))
@blp.paginate()
def list_tokens(user_id: int, pagination_parameters: Any) -> Any:
    """List a user's tokens (never their secrets)."""
    user = _self_or_admin(user_id)
    query = select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id)
    return page_of(db.session, query, pagination_parameters)


@blp.route("/tokens/<int:token_id>", methods=["DELETE"])
@blp.roles(*READERS, errors=(404,))
@blp.response(200, schemas.TokenSchema)
def revoke_token(token_id: int) -> Any:
    """Revoke a token (yours, or anyone's if admin)."""
    with db.transaction() as session:
        token = session.get(ApiToken, token_id)
        me: User = g.current_user
        if token is None or (token.user_id != me.id and Role.ADMIN not in me.role_set):
            raise NotFound(f"token {token_id} does not exist")
        return auth.revoke_token(session, token=token)
