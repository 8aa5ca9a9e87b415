"""Escalation: page a level, wait, page the next; stop on acknowledgement. DB is the truth."""

from __future__ import annotations

import logging
import time
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from service import config
from service.auth.models import User
from service.auth.roles import Role
from service.db import utcnow
from service.detection.models import Signal
from service.errors import NotFound
from service.incidents import service as incidents
from service.incidents.models import OPEN_STATUSES, Incident, IncidentRole, Status
from service.jobs import after_commit
from service.paging import links, messages, targets
from service.paging.models import Escalation, EscalationPolicy, EscalationStatus, Page, PageStatus
from service.paging.schedule import Deliver, Escalate, PlaceCall
from service.timeline import events
from service.timeline import service as timeline
from service.timeline.service import Actor

log = logging.getLogger(__name__)

ENGINE = Actor.system("escalation")
#: used when no policy is configured: the Wolf rotation(s), then every wolf, then admins
FALLBACK_POLICY: dict[str, Any] = {
    "key": "built-in",
    "levels": [
        {"targets": [{"purpose": "wolf"}], "delay_seconds": 300, "channel": "sms"},
        {"targets": [{"role": "wolf"}], "delay_seconds": 300, "channel": "sms+voice"},
        {"targets": [{"role": "admin"}], "delay_seconds": 600, "channel": "sms+voice"},
    ],
    "notify": [{"purpose": "legal"}],
    "repeat": 1,
}
#: in an escalation's snapshot after the fallback: the key of the policy that paged nobody
FELL_BACK_FROM = "fell_back_from"


def incident_link(incident_id: int) -> str:
    """The link printed in messages: a placeholder, filled with a per-recipient token at send
    time (`links.fill`), so the token is never stored in the clear."""
    return links.placeholder_url()


def check_policy_key(session: Session, key: str | None) -> None:
    """An escalation policy named by a monitor must exist (None means the default): 404
    naming the field otherwise."""
    if key is None:
        return
    if session.scalar(select(EscalationPolicy.id).where(EscalationPolicy.key == key)) is None:
        raise NotFound(
            f"unknown escalation policy {key!r}: create it first", field="escalation_policy"
        )


def check_targets(
    session: Session, *, levels: list[dict[str, Any]], notify: list[dict[str, Any]]
) -> None:
    """Every rotation and user a policy names exists and can be paged (404 / 409 naming the
    field, e.g. `levels.0.targets.0.rotation`, `notify.0.user_id`)."""
    for index, level in enumerate(levels):
        targets.check(session, level["targets"], field=f"levels.{index}.targets")
    targets.check(session, notify, field="notify")


def policies_using_rotation(session: Session, *, key: str) -> list[str]:
    """The keys of the escalation policies whose levels or notify list name a rotation."""
    return [
        policy.key
        for policy in session.scalars(select(EscalationPolicy).order_by(EscalationPolicy.key))
        if targets.uses_rotation(list(policy.notify or []), key)
        or any(targets.uses_rotation(level["targets"], key) for level in policy.levels)
    ]


def policy_for(session: Session, incident: Incident) -> dict[str, Any]:
    """The policy snapshot for an incident: its monitor's, else the default, else built-in."""
    key = incident.monitor.escalation_policy if incident.monitor else None
    query = select(EscalationPolicy)
    row = None
    if key:
        row = session.scalar(query.where(EscalationPolicy.key == key))
    if row is None:
        row = session.scalar(query.where(EscalationPolicy.is_default.is_(True)))
    if row is None:
        return dict(FALLBACK_POLICY)
    return {
        "key": row.key,
        "levels": row.levels,
        "notify": row.notify,
        "repeat": row.repeat,
        "notify_resolved": row.notify_resolved,
    }


def _latest_signal(session: Session, incident_id: int) -> dict[str, Any] | None:
    signal = session.scalar(
        select(Signal).where(Signal.incident_id == incident_id).order_by(Signal.id.desc())
    )
    if signal is None:
        return None
    # the raw figures, rounded once when printed, as the incident's title does
    return {
        "observed": signal.observed,
        "expected": signal.expected,
        "negative_share": signal.negative_share,
        "sentiment_unknown": bool((signal.details or {}).get("sentiment_unknown")),
        "unread_languages": (signal.details or {}).get("unread_languages"),
    }


def reply_code(session: Session, *, user: User, incident_id: int) -> int:
    """The smallest code not held by another open incident paged to this person."""
    rows = session.execute(
        select(Page.incident_id, Page.reply_code)
        .join(Incident, Incident.id == Page.incident_id)
        .where(
            Page.user_id == user.id,
            Page.reply_code.is_not(None),
            Incident.status.in_(OPEN_STATUSES),
        )
    ).all()
    for incident, code in rows:
        if incident == incident_id and code is not None:
            return code
    held = {code for _incident, code in rows}
    code = 1
    while code in held:
        code += 1
    return code


def new_page(
    session: Session,
    *,
    incident: Incident,
    user: User,
    kind: str,
    channel: str = "sms",
    esc: Escalation | None = None,
    body: str | None = None,
    approval_id: int | None = None,
    step_run_ids: list[int] | None = None,
    now: datetime,
) -> Page:
    """Record a page before anything is sent, and queue its delivery after commit."""
    code = reply_code(session, user=user, incident_id=incident.id)
    if body is None:
        body = compose(session, incident=incident, kind=kind, code=code)
    page = Page(
        incident_id=incident.id,
        user_id=user.id,
        kind=kind,
        channel=channel,
        to_number=user.phone,
        body=body,
        reply_code=code,
        approval_id=approval_id,
        step_run_ids=step_run_ids or None,
        level=esc.level if esc else None,
        round=esc.round if esc else None,
        epoch=esc.epoch if esc else None,
        status=PageStatus.PENDING.value,
        created_at=now,
        expires_at=now + timedelta(seconds=config.current().page_validity_seconds),
    )
    session.add(page)
    session.flush()
    timeline.append(
        session,
        incident_id=incident.id,
        actor=ENGINE,
        event=events.PageQueued(
            page_id=page.id,
            to=user.name,
            user_id=user.id,
            page_kind=kind,
            channel=channel,
            level=None if page.level is None else page.level + 1,  # 1-based, as people count
            round=None if page.round is None else page.round + 1,
        ),
    )
    after_commit(session, PlaceCall(page.id) if channel == "voice" else Deliver(user.id))
    return page


def compose(session: Session, *, incident: Incident, kind: str, code: int) -> str:
    """The text of a page or an open notice (with the link placeholder)."""
    monitor_name = incident.monitor.name if incident.monitor else None
    if kind == "notify":
        return messages.notice_text(
            incident=incident, monitor_name=monitor_name, link=incident_link(incident.id)
        )
    return messages.page_text(
        incident=incident,
        monitor_name=monitor_name,
        signal=_latest_signal(session, incident.id),
        code=code,
        link=incident_link(incident.id),
    )


def skip_reason(user: User) -> str | None:
    """Why a person cannot be paged now (None if they can)."""
    if user.pageable:
        return None
    if user.sms_opted_out_at:
        return "opted out of SMS"
    return "no verified phone" if user.active else "inactive"


def _page_level(session: Session, *, esc: Escalation, incident: Incident, now: datetime) -> None:
    level = esc.policy["levels"][esc.level]
    users = targets.resolve(session, level["targets"], at=now)
    paged, skipped = [], []
    for user in users:
        reason = skip_reason(user)
        if reason is not None:
            skipped.append(events.PageSkipped(user=user.name, user_id=user.id, reason=reason))
            continue
        channel = "voice" if level.get("channel") == "voice" else "sms"
        paged.append(
            new_page(
                session,
                incident=incident,
                user=user,
                kind="page",
                channel=channel,
                esc=esc,
                now=now,
            )
        )
    for item in skipped:
        timeline.append(session, incident_id=incident.id, actor=ENGINE, event=item)
    delay = int(level.get("delay_seconds", 300)) if paged else 0
    esc.next_at = now + timedelta(seconds=delay)
    timeline.append(
        session,
        incident_id=incident.id,
        actor=ENGINE,
        event=events.Escalated(
            level=esc.level + 1,
            round=esc.round + 1,
            paged=tuple(p.user.name for p in paged),
            next_level_at=timeline.format_time(esc.next_at),
            policy=esc.policy_key if esc.level == 0 and esc.round == 0 else None,
        ),
    )
    if esc.level == 0 and esc.round == 0 and incident.assignee(IncidentRole.WOLF) is None:
        wolf = next((p.user for p in paged if Role.WOLF in p.user.role_set), None)
        if wolf is not None:
            incidents.assign(
                session, incident=incident, role=IncidentRole.WOLF, user=wolf, actor=ENGINE
            )
    schedule(session, esc)


def schedule(session: Session, esc: Escalation, *, rearm: bool = False) -> None:
    """Schedule the escalation's next step with RQ (the sweep covers it if Redis loses it)."""
    delay = max((esc.next_at - utcnow()).total_seconds(), 0) if esc.next_at else 0
    job_id = f"esc-{esc.incident_id}-{esc.epoch}-{esc.round}-{esc.level}"
    if rearm:
        job_id += f"-r{time.time_ns()}"
    after_commit(
        session,
        Escalate(esc.incident_id, esc.epoch, esc.round, esc.level),
        job_id=job_id,
        delay_seconds=delay,
    )


def start(session: Session, *, incident: Incident, now: datetime) -> Escalation:
    """On open: page level 1 and notify the parallel targets (legal)."""
    policy = policy_for(session, incident)
    esc = Escalation(incident_id=incident.id, policy_key=policy["key"], policy=policy)
    session.add(esc)
    session.flush()
    _page_level(session, esc=esc, incident=incident, now=now)
    for user in targets.resolve(session, policy.get("notify", []), at=now):
        if user.pageable:
            new_page(session, incident=incident, user=user, kind="notify", now=now)
            if Role.LEGAL in user.role_set and incident.assignee(IncidentRole.LEGAL) is None:
                incidents.assign(
                    session, incident=incident, role=IncidentRole.LEGAL, user=user, actor=ENGINE
                )
    return esc


def stop(session: Session, *, incident: Incident, reason: str) -> None:
    """Stop escalating (acknowledged, resolved); unsent pages of the incident are cancelled."""
    esc = session.scalar(
        select(Escalation)
        .where(Escalation.incident_id == incident.id)
        .with_for_update(of=Escalation)
    )
    if esc is None or esc.status != EscalationStatus.ACTIVE.value:
        return
    esc.status, esc.next_at = EscalationStatus.STOPPED.value, None
    cancelled = session.scalars(
        select(Page).where(
            Page.incident_id == incident.id,
            Page.kind == "page",
            Page.status == PageStatus.PENDING.value,
        )
    ).all()
    for page in cancelled:
        page.status = PageStatus.CANCELLED.value
    timeline.append(
        session,
        incident_id=incident.id,
        actor=ENGINE,
        event=events.EscalationStopped(
            reason=reason, level=esc.level + 1, cancelled_pages=tuple(p.id for p in cancelled)
        ),
    )


def restart(session: Session, *, incident: Incident, now: datetime) -> None:
    """On reopen: start again from level 1 (a new epoch, so old timers are void)."""
    esc = session.scalar(
        select(Escalation)
        .where(Escalation.incident_id == incident.id)
        .with_for_update(of=Escalation)
    )
    if esc is None:
        start(session, incident=incident, now=now)
        return
    esc.epoch, esc.round, esc.level = esc.epoch + 1, 0, 0
    esc.status = EscalationStatus.ACTIVE.value
    _page_level(session, esc=esc, incident=incident, now=now)


def _fall_back(
    session: Session,
    *,
    esc: Escalation,
    incident: Incident,
    now: datetime,
    rounds: int,
    reason: str,
) -> bool:
    """The safety net: an escalation whose every level and round paged nobody (nobody on
    shift, everyone inactive, opted out or without a verified phone) pages the built-in chain
    instead, once (the incident keeps it, reopened too); False if it already is that chain or
    someone was ever paged about the incident."""
    if FELL_BACK_FROM in esc.policy or esc.policy.get("levels") == FALLBACK_POLICY["levels"]:
        return False
    paged = session.scalar(
        select(Page.id).where(Page.incident_id == incident.id, Page.kind == "page").limit(1)
    )
    if paged is not None:
        return False
    timeline.append(
        session,
        incident_id=incident.id,
        actor=ENGINE,
        event=events.EscalationFellBack(
            policy=esc.policy_key, fallback=FALLBACK_POLICY["key"], rounds=rounds, reason=reason
        ),
    )
    esc.policy = {
        **FALLBACK_POLICY,
        "notify": [],  # the policy's own notify targets were told at open
        "notify_resolved": esc.policy.get("notify_resolved", True),
        FELL_BACK_FROM: esc.policy_key,
    }
    # a new epoch: the chain's timers get ids of their own, and stale ones are void
    esc.policy_key, esc.epoch, esc.round, esc.level = FALLBACK_POLICY["key"], esc.epoch + 1, 0, 0
    _page_level(session, esc=esc, incident=incident, now=now)
    return True


def advance(
    session: Session,
    *,
    incident_id: int,
    now: datetime,
    expect: tuple[int, int, int] | None,
    reason: str,
) -> bool:
    """Page the next level if the step `expect` (epoch, round, level) is still current and due.

    `expect=None` escalates now from wherever it is (a failed page, an ESC reply).
    """
    timeline.lock_incidents(session, [incident_id])  # incident first, as every API flow does
    esc = session.scalar(
        select(Escalation)
        .where(Escalation.incident_id == incident_id)
        .with_for_update(of=Escalation)
    )
    if esc is None or esc.status != EscalationStatus.ACTIVE.value:
        return False
    if expect is not None and expect != (esc.epoch, esc.round, esc.level):
        return False  # a stale timer: that step already happened
    if expect is not None and esc.next_at and esc.next_at > now:
        # woke too early (RQ schedules to the whole second, clock skew): the job waits for
        # small gaps itself (paging.jobs); a larger one re-arms under a new id, since this
        # job's own id is still taken until it finishes
        schedule(session, esc, rearm=True)
        return False
    incident = session.get(Incident, incident_id, with_for_update={"of": Incident})
    if incident is None or Status(incident.status) is not Status.TRIGGERED:
        esc.status, esc.next_at = EscalationStatus.STOPPED.value, None
        return False
    levels = esc.policy["levels"]
    level, rnd = esc.level + 1, esc.round
    if level >= len(levels):
        level, rnd = 0, rnd + 1
    if rnd > int(esc.policy.get("repeat", 0)):
        if _fall_back(session, esc=esc, incident=incident, now=now, rounds=rnd, reason=reason):
            return True
        esc.status, esc.next_at = EscalationStatus.EXHAUSTED.value, None
        timeline.append(
            session,
            incident_id=incident_id,
            actor=ENGINE,
            event=events.EscalationExhausted(rounds=rnd, reason=reason),
        )
        return True
    esc.level, esc.round = level, rnd
    _page_level(session, esc=esc, incident=incident, now=now)
    return True


def due(session: Session, *, now: datetime, grace: timedelta) -> list[Escalation]:
    """Active escalations whose next step is overdue by more than `grace` (for the sweep)."""
    return list(
        session.scalars(
            select(Escalation).where(
                Escalation.status == EscalationStatus.ACTIVE.value,
                Escalation.next_at <= now - grace,
            )
        )
    )
