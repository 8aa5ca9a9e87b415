"""Reply codes: each open incident of a person has its own (1A, 2A, ...), checked again at
send time, under the person's row lock."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from service.auth.models import User
from service.incidents.models import OPEN_STATUSES, Incident
from service.paging import service as paging
from service.paging.models import Page


def make_unique(session: Session, user: User, batch: list[Page]) -> None:
    """Give each incident in the batch a reply code no other open incident of this person holds
    (two incidents opened at the same moment may have picked the same one)."""
    ids = {p.id for p in batch}
    held: dict[int, int] = {}
    for incident_id, code in session.execute(
        select(Page.incident_id, Page.reply_code)
        .join(Incident, Incident.id == Page.incident_id)
        .where(
            Page.user_id == user.id,
            Page.reply_code.is_not(None),
            Page.id.not_in(ids),
            Incident.status.in_(OPEN_STATUSES),
        )
        .order_by(Page.id)
    ):
        if code is not None and incident_id is not None:
            held.setdefault(code, incident_id)
    for page in sorted(batch, key=lambda p: p.id):
        if page.kind != "page" or page.incident_id is None or page.reply_code is None:
            continue
        owner = held.get(page.reply_code)
        if owner is None or owner == page.incident_id:
            held[page.reply_code] = page.incident_id
            continue
        code = next(c for c in range(1, len(held) + 2) if c not in held)
        held[code] = page.incident_id
        session.execute(
            update(Page)
            .where(Page.user_id == user.id, Page.incident_id == page.incident_id)
            .values(reply_code=code)
        )
        session.refresh(page)
        incident = session.get_one(Incident, page.incident_id)
        page.body = paging.compose(session, incident=incident, kind="page", code=code)
