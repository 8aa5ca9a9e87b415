"""On-call use cases: rotations, overrides, and who is on call at a given time."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.auth.models import User
from service.auth.roles import Role
from service.db import utcnow
from service.errors import Conflict, Invalid, NotFound
from service.oncall.models import Override, Purpose, Rotation, RotationMember

#: The longest override (a hand-over for a holiday, not a new rotation).
MAX_OVERRIDE = timedelta(days=31)
#: The shortest shift (an hour or more in real use; a minute lets tests run fast).
MIN_SHIFT_SECONDS = 60
#: The roles that may staff a rotation of each purpose (None: any role).
FITTING_ROLES: dict[str, frozenset[Role] | None] = {
    Purpose.WOLF: frozenset({Role.WOLF, Role.ADMIN}),
    Purpose.LEGAL: frozenset({Role.LEGAL}),
    Purpose.OTHER: None,
}


@dataclass
class Shift:
    """A stretch of time one person is on call, by the rotation or by an override."""

    user: User
    #: None only from current_shift: on call since before the rotation's hand-off time
    starts_at: datetime | None
    ends_at: datetime
    override: bool


def _check_shift(shift_seconds: int) -> int:
    if shift_seconds < MIN_SHIFT_SECONDS:
        raise Invalid(f"a shift lasts at least {MIN_SHIFT_SECONDS} s", field="shift_seconds")
    return shift_seconds


def _aware(at: datetime, name: str = "at") -> datetime:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"{name} must be tz-aware (Firebreak works in UTC)")
    return at


# --- rotations ------------------------------------------------------------------------------


def get(session: Session, *, key: str, for_update: bool = False) -> Rotation:
    """A rotation by key; NotFound otherwise."""
    query = select(Rotation).where(Rotation.key == key)
    rotation = session.scalar(query.with_for_update(of=Rotation) if for_update else query)
    if rotation is None:
        raise NotFound(f"rotation {key!r} does not exist")
    return rotation


def fits(user: User, purpose: str) -> bool:
    """Whether a user holds a role that may staff a rotation of this purpose."""
    wanted = FITTING_ROLES[Purpose(purpose)]
    return wanted is None or bool(user.role_set & wanted)


def _staff(session: Session, user_id: int, purpose: str, field: str) -> User:
    """The user a rotation may put on call: an unknown one is a 404, an inactive one or one
    without a fitting role a 409 (the database's state, not the request's shape)."""
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"user {user_id} does not exist", field=field)
    if not user.active:
        raise Conflict(f"user {user_id} is inactive", field=field)
    if not fits(user, purpose):
        roles = ", ".join(sorted(FITTING_ROLES[Purpose(purpose)] or ()))
        raise Conflict(
            f"user {user_id} cannot staff a {purpose} rotation (needs one of the roles: {roles})",
            field=field,
        )
    return user


def set_members(session: Session, *, rotation: Rotation, member_ids: Sequence[int]) -> Rotation:
    """Replace the ordered members; each must be an active user fitting the purpose."""
    seen: set[int] = set()
    for index, user_id in enumerate(member_ids):
        if user_id in seen:
            raise Invalid(f"user {user_id} is listed twice", field=f"member_ids.{index}")
        seen.add(user_id)
        _staff(session, user_id, rotation.purpose, f"member_ids.{index}")
    if rotation.member_ids == list(member_ids):
        return rotation
    rotation.memberships.clear()
    session.flush()  # free (rotation, position) before the new rows take them
    rotation.memberships.extend(RotationMember(user_id=user_id) for user_id in member_ids)
    rotation.updated_at = utcnow()
    session.flush()
    session.refresh(rotation)
    return rotation


def create(
    session: Session,
    *,
    key: str,
    name: str,
    purpose: str,
    handoff_at: datetime,
    shift_seconds: int,
    member_ids: Sequence[int] = (),
) -> Rotation:
    """Add a rotation; the key must be new."""
    if session.scalar(select(Rotation.id).where(Rotation.key == key)) is not None:
        raise Conflict(f"rotation {key!r} already exists", field="key")
    rotation = Rotation(
        key=key,
        name=name.strip(),
        purpose=Purpose(purpose).value,
        handoff_at=_aware(handoff_at, "handoff_at"),
        shift_seconds=_check_shift(shift_seconds),
    )
    session.add(rotation)
    session.flush()
    return set_members(session, rotation=rotation, member_ids=member_ids)


def update(session: Session, *, rotation: Rotation, **changes: Any) -> Rotation:
    """Change a rotation's name, hand-off time, shift length or members."""
    if "shift_seconds" in changes:
        _check_shift(changes["shift_seconds"])
    if "handoff_at" in changes:
        _aware(changes["handoff_at"], "handoff_at")
    member_ids = changes.pop("member_ids", None)
    if member_ids is not None:
        set_members(session, rotation=rotation, member_ids=member_ids)
    for name, value in changes.items():
        setattr(rotation, name, value.strip() if name == "name" else value)
    session.flush()
    return rotation


def delete(session: Session, *, rotation: Rotation) -> None:
    """Delete a rotation with its members and overrides."""
    session.delete(rotation)
    session.flush()


# --- overrides ------------------------------------------------------------------------------


def add_override(
    session: Session,
    *,
    rotation: Rotation,
    user_id: int,
    starts_at: datetime,
    ends_at: datetime,
    reason: str = "",
    created_by: User | None = None,
) -> Override:
    """Put a user on call for a time box (at most 31 days, not already over)."""
    _aware(starts_at, "starts_at")
    _aware(ends_at, "ends_at")
    if ends_at <= starts_at:
        raise Invalid("ends_at must be after starts_at", field="ends_at")
    if ends_at - starts_at > MAX_OVERRIDE:
        raise Invalid("an override lasts at most 31 days", field="ends_at")
    if ends_at <= utcnow():  # the clock's state, not the request's shape: a conflict
        raise Conflict("the override would be over already; it would never apply", field="ends_at")
    _staff(session, user_id, rotation.purpose, "user_id")
    override = Override(
        rotation_id=rotation.id,
        user_id=user_id,
        starts_at=starts_at,
        ends_at=ends_at,
        reason=reason.strip(),
        created_by_id=created_by.id if created_by else None,
    )
    session.add(override)
    session.flush()
    return override


def overrides_between(
    session: Session, *, rotation: Rotation, start: datetime, end: datetime | None = None
) -> list[Override]:
    """Overrides overlapping [start, end) (end None: no upper bound), by start time."""
    query = select(Override).where(Override.rotation_id == rotation.id, Override.ends_at > start)
    if end is not None:
        query = query.where(Override.starts_at < end)
    return list(session.scalars(query.order_by(Override.starts_at, Override.id)))


def get_override(session: Session, *, rotation: Rotation, override_id: int) -> Override:
    """An override of this rotation; NotFound otherwise."""
    override = session.get(Override, override_id)
    if override is None or override.rotation_id != rotation.id:
        raise NotFound(f"override {override_id} of rotation {rotation.key!r} does not exist")
    return override


def delete_override(session: Session, *, override: Override) -> None:
    """Remove an override."""
    session.delete(override)
    session.flush()


# --- who is on call -------------------------------------------------------------------------


def _slot(rotation: Rotation, at: datetime) -> tuple[int, datetime | None, datetime]:
    """The shift number containing `at`, its start (None before hand-off) and its end."""
    shift = timedelta(seconds=rotation.shift_seconds)
    if at < rotation.handoff_at:
        return 0, None, rotation.handoff_at + shift
    number = (at - rotation.handoff_at) // shift  # exact integer arithmetic on UTC instants
    start = rotation.handoff_at + number * shift
    return number, start, start + shift


def next_handoff(rotation: Rotation, at: datetime) -> datetime:
    """When the shift containing `at` ends (member 0 holds on until its first shift ends)."""
    return _slot(rotation, _aware(at))[2]


def _by_rotation(rotation: Rotation, at: datetime) -> User | None:
    members = rotation.members
    if not members:
        return None
    number = _slot(rotation, at)[0]
    for step in range(len(members)):
        user = members[(number + step) % len(members)]
        if user.active:
            return user
    return None


def _by_override(overrides: Iterable[Override], at: datetime) -> User | None:
    covering = [o for o in overrides if o.starts_at <= at < o.ends_at and o.user.active]
    if not covering:
        return None
    return max(covering, key=lambda o: (o.created_at, o.id)).user


def _who(rotation: Rotation, overrides: Iterable[Override], at: datetime) -> tuple[User, bool]:
    user = _by_override(overrides, at)
    if user is not None:
        return user, True
    return _by_rotation(rotation, at), False  # type: ignore[return-value]


def on_call(session: Session, *, rotation: Rotation, at: datetime) -> User | None:
    """Who is on call at `at`: the newest covering override, else the rotation's member."""
    _aware(at)
    query = select(Override).where(
        Override.rotation_id == rotation.id, Override.starts_at <= at, Override.ends_at > at
    )
    return _who(rotation, session.scalars(query), at)[0]


def current_for_purpose(session: Session, *, purpose: str, at: datetime) -> list[User]:
    """Who is on call at `at` in every rotation of a purpose (each person once, by key)."""
    rotations = session.scalars(
        select(Rotation).where(Rotation.purpose == Purpose(purpose).value).order_by(Rotation.key)
    )
    out: list[User] = []
    for rotation in rotations:
        user = on_call(session, rotation=rotation, at=at)
        if user is not None and user not in out:
            out.append(user)
    return out


def schedule(
    session: Session, *, rotation: Rotation, start: datetime, end: datetime
) -> list[Shift]:
    """Who is on call from `start` to `end`, as stretches (overrides split shifts)."""
    _aware(start, "start")
    _aware(end, "end")
    if end <= start:
        return []
    overrides = overrides_between(session, rotation=rotation, start=start, end=end)
    cuts = {start, end}
    cuts.update(t for o in overrides for t in (o.starts_at, o.ends_at) if start < t < end)
    boundary = _slot(rotation, start)[2]
    shift = timedelta(seconds=rotation.shift_seconds)
    while boundary < end:
        cuts.add(boundary)
        boundary += shift
    times = sorted(cuts)
    out: list[Shift] = []
    for begin, finish in zip(times, times[1:], strict=False):
        user, by_override = _who(rotation, overrides, begin)
        if user is None:
            continue
        last = out[-1] if out else None
        if last and last.ends_at == begin and (last.user, last.override) == (user, by_override):
            last.ends_at = finish
        else:
            out.append(Shift(user=user, starts_at=begin, ends_at=finish, override=by_override))
    return out


def current_shift(session: Session, *, rotation: Rotation, at: datetime) -> Shift | None:
    """The stretch containing `at` (its start is None if it began before the hand-off time)."""
    _aware(at)
    _number, start, end = _slot(rotation, at)
    window_start = start if start is not None else min(at, rotation.handoff_at) - MAX_OVERRIDE
    for stretch in schedule(session, rotation=rotation, start=window_start, end=end):
        if stretch.starts_at is not None and stretch.starts_at <= at < stretch.ends_at:
            if start is None and stretch.starts_at == window_start:
                stretch.starts_at = None
            return stretch
    return None
