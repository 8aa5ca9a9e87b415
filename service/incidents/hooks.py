"""Facts about an incident that other domains react to, published inside the transaction.

What reacts, and in which order, is listed in :mod:`service.registry`.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from service.incidents.models import Incident


@dataclass(frozen=True)
class IncidentEvent:
    """Something happened to an incident; the transaction is still open."""

    session: Session
    incident: Incident
    #: who did it, by name (None: the service itself)
    by: str | None = None


class IncidentOpened(IncidentEvent):
    """An incident opened (declared, or by the detector)."""


class IncidentAcknowledged(IncidentEvent):
    """Someone acknowledged the incident."""


class IncidentResolved(IncidentEvent):
    """The incident was resolved."""


class IncidentClosed(IncidentEvent):
    """The incident was closed (final)."""


class IncidentReopened(IncidentEvent):
    """A resolved incident was reopened."""
