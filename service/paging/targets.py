"""Who a policy target means right now: a rotation's on-call person, a role group, a user."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.auth.models import User, UserRole
from service.auth.roles import READERS
from service.errors import Conflict, NotFound
from service.oncall import service as oncall
from service.oncall.models import Rotation


def check(session: Session, targets: list[dict[str, Any]], *, field: str) -> None:
    """Every rotation and user a list of targets names exists and can be paged: an unknown
    rotation key or user id is a 404, an inactive user or a service account a 409, each naming
    the target's field (`levels.0.targets.1.user_id`). Roles and purposes are checked by the
    schema; whether anyone holds them right now is left to the time of paging."""
    for index, target in enumerate(targets):
        where = f"{field}.{index}"
        if "rotation" in target:
            key = target["rotation"]
            # FOR SHARE: a rotation being deleted meanwhile waits for this policy, or is gone
            found = select(Rotation.id).where(Rotation.key == key).with_for_update(read=True)
            if session.scalar(found) is None:
                raise NotFound(
                    f"rotation {key!r} does not exist: create it first", field=f"{where}.rotation"
                )
        elif "user_id" in target:
            user_id = target["user_id"]
            user = session.get(User, user_id)
            if user is None:
                raise NotFound(f"user {user_id} does not exist", field=f"{where}.user_id")
            if not user.active:
                raise Conflict(f"user {user_id} is inactive", field=f"{where}.user_id")
            if not user.role_set & set(READERS):
                raise Conflict(
                    f"user {user_id} is a service account and cannot be paged",
                    field=f"{where}.user_id",
                )


def uses_rotation(policy_targets: list[dict[str, Any]], key: str) -> bool:
    """Whether any of these targets names the rotation `key`."""
    return any(target.get("rotation") == key for target in policy_targets)


def resolve(session: Session, targets: list[dict[str, Any]], *, at: datetime) -> list[User]:
    """The active users a list of targets points at (in order, without repeats)."""

    out: list[User] = []
    for target in targets:
        found: list[User] = []
        if "rotation" in target:
            rotation = session.scalar(select(Rotation).where(Rotation.key == target["rotation"]))
            user = oncall.on_call(session, rotation=rotation, at=at) if rotation else None
            found = [user] if user else []
        elif "purpose" in target:
            found = oncall.current_for_purpose(session, purpose=target["purpose"], at=at)
        elif "role" in target:
            found = list(
                session.scalars(
                    select(User)
                    .join(UserRole)
                    .where(UserRole.role == target["role"], User.active.is_(True))
                    .order_by(User.id)
                )
            )
        elif "user_id" in target:
            user = session.get(User, target["user_id"])
            found = [user] if user and user.active else []
        for user in found:
            if user not in out:
                out.append(user)
    return out
