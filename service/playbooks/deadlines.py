"""Step deadlines: notify owners when a step is ready, remind them when it is overdue,
then tell the Wolf after a grace, as RQ jobs reconciled from the database.

Timeline of a step with a due time:
- it becomes ready: if `notify`, its owners get an SMS; a reminder job is scheduled at `due_at`;
- at `due_at`, still not done/skipped: the owners get a reminder SMS (STEP_REMINDER, to owner);
- at `due_at + grace`, still not finished: the incident's Wolf is told (STEP_REMINDER, to wolf).
The grace is half of the step's due duration, at most 10 minutes (GRACE_CAP).

Jobs carry (step run id, due time) and are idempotent: they lock the incident, reload the step
and act only if the run is current, the incident open, the step ready/in progress/blocked, its
due time unchanged and that reminder not yet recorded. `sweep` re-enqueues whatever the database
says is overdue and unreminded. RQ's scheduler runs on real time, so delays use the real clock.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.auth.models import User
from service.extensions import db
from service.incidents import service as incidents
from service.incidents.models import OPEN_STATUSES, Incident, IncidentRole
from service.jobs import JobRequest, after_commit, enqueue_now
from service.paging import messages, targets
from service.paging.models import Page, PageStatus
from service.paging.service import incident_link, new_page
from service.playbooks.content import definitions, due_of
from service.playbooks.models import ACTIVE, PlaybookRun, StepRun
from service.playbooks.schedule import NotifyReady, RemindOwner, TellWolf
from service.timeline import events
from service.timeline import service as timeline
from service.timeline.service import Actor

ENGINE = Actor.system("playbooks")
GRACE_CAP = timedelta(minutes=10)
#: a timer firing this much early (clock skew between hosts) still counts as on time
EARLY = timedelta(seconds=1)
#: steps ready when an incident opens are announced this much later (after the opening page)
NOTIFY_DELAY = timedelta(seconds=30)


def grace(run: PlaybookRun, step: StepRun) -> timedelta:
    """How long after the due time the Wolf is told: half the due duration, capped."""
    after, _anchor = due_of(definitions(run)[step.step_id])
    return min(after / 2, GRACE_CAP)


def _delay(at: datetime) -> float:
    return max((at - datetime.now(UTC)).total_seconds(), 0.0)


def _stamp(at: datetime) -> str:
    return at.astimezone(UTC).isoformat()


def _remind_at(session: Session, request: RemindOwner | TellWolf, at: datetime) -> None:
    """Schedule one reminder at `at`, under a unique id per step, due time and recipient."""
    who = "owner" if isinstance(request, RemindOwner) else "wolf"
    due = datetime.fromisoformat(request.due)
    job_id = f"pbstep-{request.step_run_id}-{int(due.timestamp() * 1000)}-{who}"
    after_commit(session, request, job_id=job_id, delay_seconds=_delay(at))


def owners(session: Session, *, incident: Incident, role: str, at: datetime) -> list[User]:
    """Who a step owned by `role` means: the incident's holder of that role, else its holders."""
    try:
        held = incident.assignee(IncidentRole(role))
    except ValueError:
        held = None
    if held is not None and held.active:
        return [held]
    return targets.resolve(session, [{"role": role}], at=at)


def _text(
    session: Session,
    incident: Incident,
    users: list[User],
    body: str,
    now: datetime,
    steps: list[StepRun],
) -> list[User]:
    """Queue an SMS about these steps to each pageable user (dropped unsent once none of the
    steps is active any more: a notice must not arrive after the step was done)."""
    sent = []
    ids = [s.id for s in steps]
    for user in users:
        if user.pageable:
            new_page(
                session,
                incident=incident,
                user=user,
                kind="notify",
                body=body,
                step_run_ids=ids,
                now=now,
            )
            sent.append(user)
    return sent


def _title(run: PlaybookRun, step: StepRun) -> str:

    return str(definitions(run)[step.step_id].get("title", step.step_id))[:80]


def on_ready(
    session: Session,
    *,
    incident: Incident,
    run: PlaybookRun,
    steps: list[StepRun],
    now: datetime,
    defer: bool = False,
) -> None:
    """Steps became ready: schedule their reminders and notify their owners (`notify` steps).

    With `defer` (the steps ready when an incident opens) the SMS goes NOTIFY_DELAY later, so
    the opening page arrives first and steps finished meanwhile are not announced.
    """
    for step in steps:
        if step.due_at is not None:
            _remind_at(session, RemindOwner(step.id, _stamp(step.due_at)), step.due_at)
    if not steps:
        return
    if defer:
        ids = [s.id for s in steps]
        after_commit(
            session,
            NotifyReady(run.id, tuple(ids)),
            job_id=f"pbnotify-{run.id}-{ids[0]}",
            delay_seconds=NOTIFY_DELAY.total_seconds(),
        )
    else:
        notify(session, incident=incident, run=run, steps=steps, now=now)


def notify_later(session: Session, *, run_id: int, step_run_ids: list[int], now: datetime) -> int:
    """The deferred notification: text the owners of those steps that are still ready."""
    run = session.get(PlaybookRun, run_id)
    if run is None:
        return 0
    incident = incidents.get(session, number=run.incident_id, lock=True)
    session.refresh(run)
    if run.replaced_at is not None or incident.status not in OPEN_STATUSES:
        return 0
    steps = [s for s in run.steps if s.id in step_run_ids and s.state == "ready"]
    return notify(session, incident=incident, run=run, steps=steps, now=now)


def notify(
    session: Session, *, incident: Incident, run: PlaybookRun, steps: list[StepRun], now: datetime
) -> int:
    """One SMS per owner listing the `notify` steps among `steps`; returns the SMS queued.

    Someone with an unsent page for the incident is not texted again: the provider bundles
    pending pages, and that page already calls them in.
    """

    defs = definitions(run)
    waiting = set(
        session.scalars(
            select(Page.user_id).where(
                Page.incident_id == incident.id, Page.status == PageStatus.PENDING.value
            )
        )
    )
    mine: dict[int, tuple[User, list[StepRun]]] = {}
    for step in steps:
        if defs[step.step_id].get("notify"):
            for user in owners(session, incident=incident, role=step.owner, at=now):
                mine.setdefault(user.id, (user, []))[1].append(step)
    count = 0
    for user, todo in mine.values():
        if user.id in waiting:
            continue
        listed = "; ".join(
            f"{s.position} {_title(run, s)}" + (f" (due {s.due_at:%H:%M} UTC)" if s.due_at else "")
            for s in todo[:4]
        )
        body = messages.with_link(
            f"#{incident.id} step{'s' if len(todo) > 1 else ''} for you: {listed}.",
            link=incident_link(incident.id),
            reply=f"Reply DONE {incident.id} {todo[0].position} when done.",
        )
        count += len(_text(session, incident, [user], body, now, todo[:4]))
    return count


def _load(session: Session, step_run_id: int, due: str, now: datetime):
    """(incident, run, step) locked and reloaded if the deadline still applies, else None."""
    step = session.get(StepRun, step_run_id)
    if step is None:
        return None
    incident = incidents.get(session, number=step.incident_id, lock=True)
    session.refresh(step)
    run = session.get(PlaybookRun, step.run_id)
    expected = datetime.fromisoformat(due)
    if (
        run is None
        or run.replaced_at is not None
        or incident.status not in OPEN_STATUSES
        or step.state not in ACTIVE
        or step.due_at is None
        or step.due_at != expected
        or now + EARLY < step.due_at
    ):
        return None
    return incident, run, step


def remind_owner(session: Session, *, step_run_id: int, due: str, now: datetime) -> bool:
    """The due time passed: remind the owners once, then schedule telling the Wolf."""
    loaded = _load(session, step_run_id, due, now)
    if loaded is None or loaded[2].reminded_due_at == loaded[2].due_at:
        return False
    incident, run, step = loaded
    body = messages.with_link(
        f"#{incident.id} overdue: step {step.position} {_title(run, step)} was due "
        f"{step.due_at:%H:%M} UTC.",
        link=incident_link(incident.id),
        reply=f"Reply DONE {incident.id} {step.position} when done.",
    )
    owner = owners(session, incident=incident, role=step.owner, at=now)
    sent = _text(session, incident, owner, body, now, [step])
    step.reminded_due_at = step.due_at
    _event(session, step, "owner", sent, now)
    _remind_at(session, TellWolf(step.id, _stamp(step.due_at)), step.due_at + grace(run, step))
    return True


def tell_wolf(session: Session, *, step_run_id: int, due: str, now: datetime) -> bool:
    """Still overdue after the grace: tell the incident's Wolf once."""
    loaded = _load(session, step_run_id, due, now)
    if loaded is None:
        return False
    incident, run, step = loaded
    if step.wolf_told_due_at == step.due_at or now + EARLY < step.due_at + grace(run, step):
        return False
    body = messages.with_link(
        f"#{incident.id}: step {step.position} {_title(run, step)} (owner {step.owner}) was "
        f"due {step.due_at:%H:%M} UTC and is still {step.state.replace('_', ' ')}.",
        link=incident_link(incident.id),
    )
    wolf = owners(session, incident=incident, role="wolf", at=now)
    sent = _text(session, incident, wolf, body, now, [step])
    step.wolf_told_due_at = step.due_at
    _event(session, step, "wolf", sent, now)
    return True


def _event(session: Session, step: StepRun, to: str, sent: list[User], now: datetime) -> None:
    timeline.append(
        session,
        incident_id=step.incident_id,
        actor=ENGINE,
        event=events.StepReminded(
            run_id=step.run_id,
            step=step.step_id,
            position=step.position,
            to=to,
            due_at=_stamp(step.due_at) if step.due_at else "",
            users=tuple(events.UserRef(user_id=u.id, user=u.name) for u in sent),
        ),
    )


def sweep(*, now: datetime) -> dict[str, int]:
    """Re-enqueue every overdue reminder (owner or Wolf) the database says was not sent."""
    done = {"step_reminders": 0, "wolf_reminders": 0}
    with db.transaction() as session:
        rows = session.scalars(
            select(StepRun)
            .join(PlaybookRun, PlaybookRun.id == StepRun.run_id)
            .join(Incident, Incident.id == StepRun.incident_id)
            .where(
                PlaybookRun.replaced_at.is_(None),
                Incident.status.in_(OPEN_STATUSES),
                StepRun.state.in_(ACTIVE),
                StepRun.due_at.is_not(None),
                StepRun.due_at <= now,
            )
        ).all()
        jobs: list[JobRequest] = []
        for step in rows:
            assert step.due_at is not None  # selected so
            if step.reminded_due_at != step.due_at:
                jobs.append(RemindOwner(step.id, _stamp(step.due_at)))
                done["step_reminders"] += 1
            elif step.wolf_told_due_at != step.due_at and now >= step.due_at + grace(
                step.run, step
            ):
                jobs.append(TellWolf(step.id, _stamp(step.due_at)))
                done["wolf_reminders"] += 1
    for job in jobs:
        enqueue_now(job)
    return done
