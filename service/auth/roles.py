"""The roles a user can hold, and the groups endpoints allow."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    """A role held by a user; endpoints allow a set of them."""

    ADMIN = "admin"
    WOLF = "wolf"
    LEGAL = "legal"
    COMMS = "comms"
    RESPONDER = "responder"
    REVIEWER = "reviewer"
    INGEST = "ingest"  # a listening tool's service account: may only push mentions


#: Everyone who may read incidents and timelines (people, not service accounts).
READERS = tuple(r for r in Role if r is not Role.INGEST)
#: People who work an incident: declare, acknowledge, resolve, annotate.
RESPONDERS = (Role.ADMIN, Role.WOLF, Role.RESPONDER, Role.COMMS)
#: People who add notes: responders and legal (reviewers only read).
NOTE_TAKERS = (*RESPONDERS, Role.LEGAL)
#: People who lead: close incidents, assign incident roles.
LEADS = (Role.ADMIN, Role.WOLF)
