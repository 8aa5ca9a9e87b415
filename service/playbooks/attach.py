"""Choosing a playbook for an incident and attaching its exact content (a frozen run)."""

from __future__ import annotations

import hashlib
import json
import logging
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.auth.models import User
from service.errors import Conflict, Forbidden, InvalidTransition, NotFound
from service.incidents.models import OPEN_STATUSES, Incident
from service.paging import messages, resolution
from service.paging import service as paging
from service.paging.models import Page
from service.playbooks.content import due_at
from service.playbooks.deadlines import owners
from service.playbooks.format import Playbook
from service.playbooks.models import PlaybookRun, StepRun, StepState
from service.playbooks.runs import ENGINE, advance, current_run, is_lead
from service.playbooks.safe_yaml import load_yaml
from service.playbooks.store import registry
from service.timeline import events
from service.timeline import service as timeline
from service.timeline.service import Actor

log = logging.getLogger(__name__)
S = StepState


def choose(incident: Incident) -> tuple[Playbook | None, str]:
    """The playbook for an incident and why: the monitor's named one, a trigger, the default."""

    reg = registry()
    monitor = incident.monitor
    if monitor is not None and monitor.playbook_id:
        try:
            return reg.get(monitor.playbook_id), f"named by monitor {monitor.key}"
        except KeyError:
            log.warning("monitor %s names unknown playbook %r", monitor.key, monitor.playbook_id)
    key = monitor.key if monitor is not None else None
    tags = list(monitor.tags or []) if monitor is not None else []
    chosen = reg.choose(severity=incident.severity, monitor_key=key, tags=tags)
    if chosen is None:
        return None, "no playbook loaded"
    lowered = frozenset(t.lower() for t in tags)
    matched = chosen.match_score(incident.severity, key, lowered) is not None
    return chosen, "matched its triggers" if matched else "the default playbook"


@lru_cache(maxsize=64)
def _parsed(text: str, name: str) -> str:
    """A playbook's content as JSON, parsed once per text (parsing took ~40 ms of every
    incident's opening)."""
    content, _lines = load_yaml(text, name)
    return json.dumps(content)


def _content(text: str, name: str) -> Any:
    """A fresh copy of a playbook's parsed content (the run owns and stores it)."""
    return json.loads(_parsed(text, name))


def warm_up(app: Any) -> int:
    """Load the playbooks and parse each once (a worker does it at start, so its first incident
    opens without ~0.2 s of loading); how many playbooks there are."""
    loaded = registry(app).playbooks
    for playbook in loaded:
        _parsed(playbook.source_text, playbook.source)
    return len(loaded)


def attach(
    session: Session,
    *,
    incident: Incident,
    playbook: Playbook,
    actor: Actor,
    now: datetime,
    reason: str,
) -> PlaybookRun:
    """Freeze `playbook` onto the incident (replacing the current run); the caller commits."""

    content = _content(playbook.source_text, playbook.source)
    old = current_run(session, incident_id=incident.id)
    if old is not None:
        old.replaced_at = now
        session.flush()
        resolution.drop_about_steps(
            session, incident_id=incident.id, active=set(), reason="the playbook was replaced"
        )
    run = PlaybookRun(
        incident_id=incident.id,
        playbook_id=playbook.id,
        version=playbook.version,
        title=playbook.title,
        source_name=playbook.source[-300:],
        source_sha256=hashlib.sha256(playbook.source_text.encode()).hexdigest(),
        source_text=playbook.source_text,
        content=content,
        reason=reason[:200],
        attached_at=now,
        attached_by_id=actor.user_id,
    )
    for position, step in enumerate(content["steps"], start=1):
        run.steps.append(
            StepRun(
                incident_id=incident.id,
                step_id=step["id"],
                position=position,
                owner=step["owner"],
                optional=bool(step.get("optional", False)),
                state=S.PENDING.value,
                due_at=due_at(step, incident=incident, ready_at=None),
                updated_at=now,
            )
        )
    session.add(run)
    session.flush()
    replaces = None
    if old is not None:
        replaces = events.PlaybookRef(
            run_id=old.id, playbook_id=old.playbook_id, version=old.version
        )
    event = events.PlaybookAttached(
        run_id=run.id,
        playbook_id=run.playbook_id,
        version=run.version,
        title=run.title,
        sha256=run.source_sha256,
        reason=run.reason,
        steps=len(run.steps),
        replaces=replaces,
    )
    timeline.append(session, incident_id=incident.id, actor=actor, event=event)
    advance(session, run=run, incident=incident, actor=actor, now=now, defer=actor is ENGINE)
    return run


def attach_on_open(session: Session, *, incident: Incident, now: datetime) -> PlaybookRun | None:
    """Attach the chosen playbook to a newly opened incident (inside its transaction) and page
    the roles it names."""
    playbook, why = choose(incident)
    if playbook is None:
        log.warning("incident #%s opened but no playbook is loaded", incident.id)
        return None
    run = attach(session, incident=incident, playbook=playbook, actor=ENGINE, now=now, reason=why)
    page_roles(session, incident=incident, run=run, now=now)
    return run


def page_roles(session: Session, *, incident: Incident, run: PlaybookRun, now: datetime) -> int:
    """The playbook's `page` roles, at incident open: each holder (the incident's holder of the
    role, else every active user with it) not yet paged or notified about the incident gets
    one notice with their link, queued and recorded as pages are (`page.queued`, or
    `page.skipped` with the reason); how many were queued."""
    reached = set(
        session.scalars(
            select(Page.user_id).where(
                Page.incident_id == incident.id, Page.kind.in_(("page", "notify"))
            )
        )
    )
    queued = 0
    for role in run.content.get("page", []):
        for user in owners(session, incident=incident, role=role, at=now):
            if user.id in reached:
                continue  # the Wolf and legal the policy paged, or a holder of two roles
            reached.add(user.id)
            reason = paging.skip_reason(user)
            if reason is not None:
                skipped = events.PageSkipped(
                    user=user.name, user_id=user.id, reason=f"{reason} (playbook pages {role})"
                )
                timeline.append(
                    session, incident_id=incident.id, actor=paging.ENGINE, event=skipped
                )
                continue
            body = messages.role_notice_text(
                incident=incident,
                monitor_name=incident.monitor.name if incident.monitor else None,
                role=role,
                playbook=run.title,
                link=paging.incident_link(incident.id),
            )
            paging.new_page(
                session, incident=incident, user=user, kind="notify", body=body, now=now
            )
            queued += 1
    return queued


def attach_on_demand(
    session: Session,
    *,
    incident: Incident,
    user: User,
    playbook_id: str | None,
    replace: bool,
    reason: str | None,
    now: datetime,
) -> PlaybookRun:
    """Attach (or, with replace, swap) a playbook by hand: an admin or the incident's Wolf."""

    if not is_lead(user, incident):
        raise Forbidden("only an admin or the incident's Wolf may attach a playbook")
    if incident.status not in OPEN_STATUSES:
        raise InvalidTransition(f"incident #{incident.id} is {incident.status}; attach nothing")
    if playbook_id is None:
        playbook, why = choose(incident)
        if playbook is None:
            raise Conflict("no playbook is loaded; check PLAYBOOKS_DIR")
    else:
        try:
            playbook, why = registry().get(playbook_id), "chosen by hand"
        except KeyError:
            raise NotFound(f"no valid playbook {playbook_id!r}", field="playbook_id") from None
    old = current_run(session, incident_id=incident.id)
    if old is not None and not replace:
        raise Conflict(
            f"incident #{incident.id} already runs {old.playbook_id} v{old.version}; "
            "send replace: true to replace it",
            playbook_id=old.playbook_id,
        )
    if (
        old is not None
        and old.playbook_id == playbook.id
        and old.source_text == playbook.source_text
    ):
        raise Conflict(f"{playbook.id} v{playbook.version} is already attached, unchanged")
    text = f"{why}: {reason}" if reason else why
    return attach(
        session, incident=incident, playbook=playbook, actor=Actor.of(user), now=now, reason=text
    )
