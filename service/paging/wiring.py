"""Connects paging to incident events: page on open, stop on acknowledge, restart on reopen."""

from __future__ import annotations

from typing import Any

from service.db import utcnow
from service.incidents.hooks import incident_opened, incident_transitioned
from service.paging import service as paging


@incident_opened.connect
def _on_open(_app: Any, *, session: Any, incident: Any) -> None:
    paging.start(session, incident=incident, now=utcnow())


@incident_transitioned.connect
def _on_transition(_app: Any, *, session: Any, incident: Any, action: str) -> None:
    if action in ("acknowledge", "resolve", "close"):
        paging.stop(session, incident=incident, reason=f"incident {incident.status}")
    elif action == "reopen":
        paging.restart(session, incident=incident, now=utcnow())
