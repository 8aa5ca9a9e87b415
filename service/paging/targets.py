"""Who a policy target means right now: a rotation's on-call person, a role group, a user."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.auth.models import User, UserRole
from service.oncall import service as oncall
from service.oncall.models import Rotation


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
