"""Connects playbooks to other domains: attach on open, finish steps on statement approval."""

from __future__ import annotations

import logging
from typing import Any

from service.db import utcnow
from service.incidents.hooks import incident_opened
from service.playbooks import attach, runs

log = logging.getLogger(__name__)


@incident_opened.connect
def _on_open(_app: Any, *, session: Any, incident: Any) -> None:
    """Attach the chosen playbook; a failure here never stops the incident from opening."""
    try:
        with session.begin_nested():
            attach.attach_on_open(session, incident=incident, now=utcnow())
    except Exception:  # noqa: BLE001 - opening the incident matters more than its playbook
        log.exception("could not attach a playbook to incident #%s", incident.id)


def _on_statement_approved(
    _app: Any, *, session: Any, incident_id: int, statement_id: int, **_kw: Any
) -> None:
    runs.complete_by_statement(session, incident_id=incident_id, statement_id=statement_id)


try:  # the statements domain may not exist yet
    from service.statements.hooks import statement_approved
except ImportError:  # pragma: no cover - until service/statements lands
    statement_approved = None
if statement_approved is not None:
    statement_approved.connect(_on_statement_approved)
