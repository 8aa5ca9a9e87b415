"""Connects evidence retention to incident events: copy from Redis on open and on resolve."""

from __future__ import annotations

import logging
from typing import Any

from service.db import utcnow
from service.incidents.hooks import incident_opened, incident_transitioned
from service.postmortem import retention

log = logging.getLogger(__name__)


def _retain(session: Any, incident: Any, reason: str) -> None:
    """Copy the evidence in a savepoint; a failure never stops the incident opening/resolving."""
    try:
        with session.begin_nested():
            retention.retain(session, incident=incident, reason=reason, now=utcnow())
    except Exception:  # noqa: BLE001 - the incident matters more than its copied evidence
        log.exception("could not retain the evidence of incident #%s (%s)", incident.id, reason)


@incident_opened.connect
def _on_open(_app: Any, *, session: Any, incident: Any) -> None:
    _retain(session, incident, "opened")


@incident_transitioned.connect
def _on_transition(_app: Any, *, session: Any, incident: Any, action: str) -> None:
    if action == "resolve":
        _retain(session, incident, "resolved")
