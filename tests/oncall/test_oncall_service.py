"""On-call arithmetic: hand-offs, overrides, inactive members, purposes, schedules."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy.orm import Session

from service.auth import service as auth
from service.auth.models import User
from service.auth.roles import Role
from service.errors import Conflict, Invalid, NotFound
from service.extensions import db
from service.oncall import service as oncall
from service.oncall.models import Rotation

H = datetime(2030, 1, 7, 9, 0, tzinfo=UTC)  # a Monday, 09:00 UTC
DAY = timedelta(days=1)
HOUR = timedelta(hours=1)
WEEK = timedelta(days=7)


@pytest.fixture
def session(app: Any) -> Iterator[Session]:
    """The app context's session; each test commits nothing it needs to keep."""
    with app.app_context():
        yield db.session
        db.session.rollback()


def person(session: Session, name: str, *roles: Role, active: bool = True) -> User:
    user = auth.create_user(session, name=name, roles=set(roles) or {Role.WOLF})
    user.active = active
    session.flush()
    return user


def rotation(
    session: Session,
    members: list[User],
    *,
    key: str = "wolves",
    purpose: str = "wolf",
    shift: timedelta = WEEK,
    handoff_at: datetime = H,
) -> Rotation:
    return oncall.create(
        session,
        key=key,
        name=key.title(),
        purpose=purpose,
        handoff_at=handoff_at,
        shift_seconds=int(shift.total_seconds()),
        member_ids=[m.id for m in members],
    )


def override(session: Session, rot: Rotation, user: User, start: datetime, end: datetime) -> Any:
    return oncall.add_override(session, rotation=rot, user_id=user.id, starts_at=start, ends_at=end)


@pytest.fixture
def abc(session: Session) -> tuple[User, User, User]:
    return tuple(person(session, n) for n in ("Alice", "Bob", "Carol"))  # type: ignore[return-value]


@pytest.mark.smoke
def test_handoffs_across_several_shifts(session, abc):
    a, b, c = abc
    rot = rotation(session, [a, b, c])
    expected = [
        (H, a),
        (H + WEEK - timedelta(microseconds=1), a),
        (H + WEEK, b),
        (H + 2 * WEEK + 3 * DAY, c),
        (H + 3 * WEEK, a),  # wraps around
        (H + 50 * DAY, b),  # shift 7 (days 49-55): 7 mod 3 = 1
        (H + 300 * WEEK + HOUR, a),  # shift 300: 300 mod 3 = 0
    ]
    for at, who in expected:
        assert oncall.on_call(session, rotation=rot, at=at) is who, at
    assert oncall.next_handoff(rot, H + 8 * DAY) == H + 2 * WEEK
    assert oncall.next_handoff(rot, H + WEEK) == H + 2 * WEEK
    assert oncall.next_handoff(rot, H + 50 * DAY) == H + 8 * WEEK


def test_before_handoff_the_first_member_is_on_call(session, abc):
    a, b, _c = abc
    rot = rotation(session, [a, b])
    assert oncall.on_call(session, rotation=rot, at=H - 400 * DAY) is a
    assert oncall.on_call(session, rotation=rot, at=H - timedelta(microseconds=1)) is a
    # member 0 holds on through its first shift
    assert oncall.next_handoff(rot, H - 3 * DAY) == H + WEEK
    shift = oncall.current_shift(session, rotation=rot, at=H - DAY)
    assert shift.user is a and shift.starts_at is None and shift.ends_at == H + WEEK


@pytest.mark.smoke
def test_an_override_wins_and_ends(session, abc):
    a, b, c = abc
    rot = rotation(session, [a, b])
    override(session, rot, c, H + DAY, H + 2 * DAY)
    assert oncall.on_call(session, rotation=rot, at=H + DAY - timedelta(microseconds=1)) is a
    assert oncall.on_call(session, rotation=rot, at=H + DAY) is c  # start inclusive
    assert oncall.on_call(session, rotation=rot, at=H + DAY + 12 * HOUR) is c
    assert oncall.on_call(session, rotation=rot, at=H + 2 * DAY) is a  # end exclusive
    # next_handoff is the rotation's, whatever the overrides say
    assert oncall.next_handoff(rot, H + DAY) == H + WEEK


def test_overlapping_overrides_the_latest_created_wins(session, abc):
    a, b, c = abc
    d = person(session, "Dave")
    rot = rotation(session, [a])
    override(session, rot, b, H + DAY, H + 3 * DAY)
    override(session, rot, c, H + 2 * DAY, H + 4 * DAY)
    assert oncall.on_call(session, rotation=rot, at=H + DAY + HOUR) is b
    assert oncall.on_call(session, rotation=rot, at=H + 2 * DAY + HOUR) is c
    assert oncall.on_call(session, rotation=rot, at=H + 3 * DAY + HOUR) is c
    assert oncall.on_call(session, rotation=rot, at=H + 4 * DAY + HOUR) is a
    override(session, rot, d, H, H + 5 * DAY)  # created last: covers everything
    for days in (0, 1, 2, 3, 4):
        assert oncall.on_call(session, rotation=rot, at=H + days * DAY + HOUR) is d


def test_inactive_members_are_skipped(session, abc):
    a, b, c = abc
    rot = rotation(session, [a, b, c])
    b.active = False
    assert oncall.on_call(session, rotation=rot, at=H + WEEK) is c  # b's shift: next in order
    c.active = False
    assert oncall.on_call(session, rotation=rot, at=H + WEEK) is a  # wraps to the start
    assert oncall.on_call(session, rotation=rot, at=H + 2 * WEEK) is a
    a.active = False
    assert oncall.on_call(session, rotation=rot, at=H + WEEK) is None
    assert oncall.schedule(session, rotation=rot, start=H, end=H + 3 * WEEK) == []


def test_an_inactive_override_falls_back_to_the_rotation(session, abc):
    a, b, c = abc
    rot = rotation(session, [a])
    override(session, rot, b, H, H + 2 * DAY)
    override(session, rot, c, H + DAY, H + 2 * DAY)
    c.active = False
    assert oncall.on_call(session, rotation=rot, at=H + DAY + HOUR) is b
    b.active = False
    assert oncall.on_call(session, rotation=rot, at=H + DAY + HOUR) is a


def test_an_empty_rotation_has_nobody(session):
    rot = rotation(session, [])
    assert oncall.on_call(session, rotation=rot, at=H + DAY) is None
    assert oncall.schedule(session, rotation=rot, start=H, end=H + WEEK) == []
    assert oncall.current_shift(session, rotation=rot, at=H) is None
    assert oncall.current_for_purpose(session, purpose="wolf", at=H) == []


def test_an_override_staffs_an_empty_rotation(session, abc):
    a, _b, _c = abc
    rot = rotation(session, [])
    override(session, rot, a, H, H + DAY)
    assert oncall.on_call(session, rotation=rot, at=H + HOUR) is a
    assert oncall.on_call(session, rotation=rot, at=H + DAY) is None


@pytest.mark.smoke
def test_the_legal_group_via_purpose(session, abc):
    a, _b, _c = abc
    lena = person(session, "Lena", Role.LEGAL)
    luis = person(session, "Luis", Role.LEGAL)
    rotation(session, [a], key="wolves")
    rotation(session, [lena, luis], key="legal-us", purpose="legal", shift=DAY)
    rotation(session, [luis], key="legal-eu", purpose="legal")
    # by rotation key: legal-eu (luis), then legal-us (lena, then luis the next day)
    assert oncall.current_for_purpose(session, purpose="legal", at=H) == [luis, lena]
    assert oncall.current_for_purpose(session, purpose="legal", at=H + DAY) == [luis]  # once
    assert oncall.current_for_purpose(session, purpose="wolf", at=H) == [a]
    assert oncall.current_for_purpose(session, purpose="other", at=H) == []
    with pytest.raises(ValueError):
        oncall.current_for_purpose(session, purpose="janitor", at=H)


def test_utc_arithmetic_ignores_daylight_saving(session, abc):
    a, b, _c = abc
    est, edt = timezone(timedelta(hours=-5)), timezone(timedelta(hours=-4))
    # New York, 2030-03-09 12:00 EST; clocks spring forward on 2030-03-10
    rot = rotation(session, [a, b], shift=DAY, handoff_at=datetime(2030, 3, 9, 12, tzinfo=est))
    assert rot.handoff_at == datetime(2030, 3, 9, 17, tzinfo=UTC)
    noon_edt = datetime(2030, 3, 10, 12, tzinfo=edt)  # only 23 hours after the hand-off
    assert oncall.on_call(session, rotation=rot, at=noon_edt) is a
    assert oncall.next_handoff(rot, noon_edt) == datetime(2030, 3, 10, 17, tzinfo=UTC)
    assert oncall.on_call(session, rotation=rot, at=datetime(2030, 3, 10, 13, tzinfo=edt)) is b
    with pytest.raises(ValueError, match="tz-aware"):
        oncall.on_call(session, rotation=rot, at=datetime(2030, 3, 10, 12))


@pytest.mark.smoke
def test_schedule_lists_shifts_with_an_override_splitting_one(session, abc):
    a, b, c = abc
    rot = rotation(session, [a, b], shift=DAY)
    override(session, rot, c, H + 6 * HOUR, H + 12 * HOUR)
    got = oncall.schedule(session, rotation=rot, start=H - 2 * HOUR, end=H + 2 * DAY + HOUR)
    assert [(s.user, s.starts_at, s.ends_at, s.override) for s in got] == [
        (a, H - 2 * HOUR, H + 6 * HOUR, False),  # before the hand-off, then a's first shift
        (c, H + 6 * HOUR, H + 12 * HOUR, True),
        (a, H + 12 * HOUR, H + DAY, False),
        (b, H + DAY, H + 2 * DAY, False),
        (a, H + 2 * DAY, H + 2 * DAY + HOUR, False),  # clipped to the window
    ]
    now = oncall.current_shift(session, rotation=rot, at=H + 13 * HOUR)
    assert (now.user, now.starts_at, now.ends_at, now.override) == (
        a,
        H + 12 * HOUR,
        H + DAY,
        False,
    )
    now = oncall.current_shift(session, rotation=rot, at=H + 7 * HOUR)
    assert (now.user, now.starts_at, now.ends_at, now.override) == (
        c,
        H + 6 * HOUR,
        H + 12 * HOUR,
        True,
    )


def test_schedule_of_one_member_is_one_stretch(session, abc):
    a, b, _c = abc
    rot = rotation(session, [a], shift=HOUR)
    override(session, rot, b, H + 2 * HOUR, H + 3 * HOUR)
    got = oncall.schedule(session, rotation=rot, start=H, end=H + DAY)
    assert [(s.user, s.starts_at, s.ends_at) for s in got] == [
        (a, H, H + 2 * HOUR),
        (b, H + 2 * HOUR, H + 3 * HOUR),
        (a, H + 3 * HOUR, H + DAY),
    ]
    assert oncall.schedule(session, rotation=rot, start=H, end=H) == []


def test_members_must_fit_the_purpose(session, abc):
    a, _b, _c = abc
    lena = person(session, "Lena", Role.LEGAL)
    admin = person(session, "Ada", Role.ADMIN)
    gone = person(session, "Gone", Role.WOLF, active=False)
    rot = rotation(session, [a, admin])  # admins may stand in as the Wolf
    cases = [  # the database's state (404, 409) or the request's shape (422)
        ([a.id, lena.id], "member_ids.1", Conflict, "needs one of the roles: admin, wolf"),
        ([gone.id], "member_ids.0", Conflict, "inactive"),
        ([a.id, 999_999], "member_ids.1", NotFound, "does not exist"),
        ([a.id, admin.id, a.id], "member_ids.2", Invalid, "listed twice"),
    ]
    for ids, field, error, message in cases:
        with pytest.raises(error, match=message) as err:
            oncall.set_members(session, rotation=rot, member_ids=ids)
        assert err.value.field == field
    assert rot.member_ids == [a.id, admin.id]
    legal = rotation(session, [lena], key="legal", purpose="legal")
    with pytest.raises(Conflict, match="roles: legal"):
        oncall.set_members(session, rotation=legal, member_ids=[lena.id, admin.id])
    anyone = rotation(session, [lena, a, admin], key="comms", purpose="other")
    assert anyone.members == [lena, a, admin]
    oncall.set_members(session, rotation=anyone, member_ids=[admin.id, lena.id])
    assert anyone.members == [admin, lena]
    with pytest.raises(Conflict):
        rotation(session, [], key="comms")


def test_override_validation(session, abc):
    a, _b, _c = abc
    lena = person(session, "Lena", Role.LEGAL)
    rot = rotation(session, [a])
    future = datetime.now(UTC) + DAY
    cases = [
        (a.id, future, future, "ends_at", Invalid, "after starts_at"),
        (a.id, future, future - HOUR, "ends_at", Invalid, "after starts_at"),
        (a.id, future, future + 31 * DAY + timedelta(seconds=1), "ends_at", Invalid, "31 days"),
        (a.id, future - 3 * DAY, future - 2 * DAY, "ends_at", Conflict, "over already"),
        (999_999, future, future + DAY, "user_id", NotFound, "does not exist"),
        (lena.id, future, future + DAY, "user_id", Conflict, "roles"),
    ]
    for user_id, start, end, field, error, message in cases:
        with pytest.raises(error, match=message) as err:
            oncall.add_override(
                session, rotation=rot, user_id=user_id, starts_at=start, ends_at=end
            )
        assert err.value.field == field
    ok = oncall.add_override(
        session, rotation=rot, user_id=a.id, starts_at=future, ends_at=future + 31 * DAY
    )
    assert oncall.overrides_between(session, rotation=rot, start=future) == [ok]
    assert oncall.overrides_between(session, rotation=rot, start=H, end=future) == []
