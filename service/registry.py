"""The joints between domains, in one place: who reacts to what, in which order, and which
entry point runs each job request.

``create_app`` binds both tables to the app. The order of the reactions is visible on the
timeline: an incident's first page comes before its playbook's first step.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from service.bus import Reaction
from service.db import utcnow
from service.detection import jobs as detection_jobs
from service.detection.schedule import Drain
from service.incidents.hooks import (
    IncidentAcknowledged,
    IncidentClosed,
    IncidentEvent,
    IncidentOpened,
    IncidentReopened,
    IncidentResolved,
)
from service.jobs import JobRequest, Route
from service.paging import jobs as paging_jobs
from service.paging import links, resolution
from service.paging import service as paging
from service.paging.schedule import Deliver, Escalate, PlaceCall
from service.playbooks import attach, runs
from service.playbooks import jobs as playbook_jobs
from service.playbooks.schedule import NotifyReady, RemindOwner, TellWolf
from service.postmortem import retention
from service.queues import QueueName
from service.statements import jobs as statement_jobs
from service.statements.hooks import StatementApproved, StatementPublished
from service.statements.schedule import EscalateApproval, RemindApprovers

log = logging.getLogger(__name__)


def _guarded(what: str, step: Callable[[IncidentEvent], Any]) -> Reaction:
    """Run a secondary reaction in a savepoint: its failure never stops the incident's change."""

    def react(event: IncidentEvent) -> None:
        try:
            with event.session.begin_nested():
                step(event)
        except Exception:  # noqa: BLE001 - the incident matters more than this reaction
            log.exception("could not %s for incident #%s", what, event.incident.id)

    return react


def page_level_one(event: IncidentEvent) -> None:
    """Page the policy's first level and notify its parallel targets (legal)."""
    paging.start(event.session, incident=event.incident, now=utcnow())


def stop_paging(event: IncidentEvent) -> None:
    """Stop escalating and cancel the incident's unsent pages."""
    paging.stop(event.session, incident=event.incident, reason=f"incident {event.incident.status}")


def drop_unsent(event: IncidentEvent) -> None:
    """Nothing more goes out about a resolved incident: its unsent messages are dropped."""
    resolution.drop_pending(
        event.session,
        incident_id=event.incident.id,
        reason=f"incident #{event.incident.id} was {event.incident.status}",
    )


def tell_resolved(event: IncidentEvent) -> None:
    """Everyone paged gets one short resolution SMS (unless the policy says not to)."""
    resolution.tell_resolved(event.session, incident=event.incident, by=event.by, now=utcnow())


def revoke_links(event: IncidentEvent) -> None:
    """The incident closed: every link to it stops working."""
    links.revoke_for_incident(
        event.session, incident_id=event.incident.id, now=utcnow(), reason="incident closed"
    )


def restart_paging(event: IncidentEvent) -> None:
    """Page level 1 again, under a new epoch."""
    paging.restart(event.session, incident=event.incident, now=utcnow())


def attach_playbook(event: IncidentEvent) -> None:
    """Attach the playbook chosen by its triggers and make its first steps ready."""
    attach.attach_on_open(event.session, incident=event.incident, now=utcnow())


def retain_evidence(reason: str) -> Callable[[IncidentEvent], None]:
    """Copy the monitor's buckets and the most damaging mentions into the database."""

    def retain(event: IncidentEvent) -> None:
        retention.retain(event.session, incident=event.incident, reason=reason, now=utcnow())

    return retain


def finish_statement_steps(event: StatementApproved | StatementPublished) -> None:
    """Finish the playbook steps that waited for an approved (or published) statement."""
    verb = "published" if isinstance(event, StatementPublished) else "approved"
    runs.complete_by_statement(
        event.session, incident_id=event.incident_id, statement_id=event.statement_id, verb=verb
    )


#: what happens, in order, when ...
REACTIONS: Mapping[type, Sequence[Reaction]] = {
    IncidentOpened: (
        page_level_one,
        _guarded("attach a playbook", attach_playbook),
        _guarded("retain the evidence", retain_evidence("opened")),
    ),
    IncidentAcknowledged: (stop_paging,),
    IncidentResolved: (
        stop_paging,
        drop_unsent,
        _guarded("tell everyone paged", tell_resolved),
        _guarded("retain the evidence", retain_evidence("resolved")),
    ),
    IncidentClosed: (stop_paging, drop_unsent, revoke_links),
    IncidentReopened: (restart_paging,),
    StatementApproved: (finish_statement_steps,),
    StatementPublished: (finish_statement_steps,),
}

#: where each job request runs: its queue and its entry point
JOB_ROUTES: Mapping[type[JobRequest], Route] = {
    Drain: Route(QueueName.DETECT, detection_jobs.drain),
    Deliver: Route(QueueName.SMS, paging_jobs.deliver),
    PlaceCall: Route(QueueName.SMS, paging_jobs.call_page),
    Escalate: Route(QueueName.ESCALATIONS, paging_jobs.escalate),
    # not ESCALATIONS: that queue's scheduled registry counts escalation timers (metrics)
    RemindOwner: Route(QueueName.INCIDENTS, playbook_jobs.remind_owner),
    TellWolf: Route(QueueName.INCIDENTS, playbook_jobs.tell_wolf),
    NotifyReady: Route(QueueName.INCIDENTS, playbook_jobs.notify_ready),
    RemindApprovers: Route(QueueName.ESCALATIONS, statement_jobs.remind),
    EscalateApproval: Route(QueueName.ESCALATIONS, statement_jobs.escalate),
}
