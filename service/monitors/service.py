"""Monitor use cases."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from service.errors import Conflict, NotFound
from service.monitors.models import Monitor


def get(session: Session, *, key: str) -> Monitor:
    """A monitor by key; NotFound otherwise."""
    monitor = session.scalar(select(Monitor).where(Monitor.key == key))
    if monitor is None:
        raise NotFound(f"monitor {key!r} does not exist")
    return monitor


def _with_budget(detector: dict[str, Any] | None, budget: float | None) -> dict[str, Any]:
    """Detector overrides with the false-page budget folded in (the budget is one of them)."""
    out = dict(detector or {})
    if budget is not None:
        out["false_pages_per_30_days"] = budget
    return out


def merged_detector(
    *, current: dict[str, Any] | None, patch: dict[str, Any] | None, budget: float | None
) -> dict[str, Any]:
    """The overrides after a JSON merge patch (RFC 7396): a setting sent replaces its override,
    null drops it (back to the default), the rest are kept; a null patch drops them all."""
    out = {} if patch is None else dict(current or {})
    for name, value in (patch or {}).items():
        if value is None:
            out.pop(name, None)
        else:
            out[name] = value
    return _with_budget(out, budget)


def create(session: Session, **fields: Any) -> Monitor:
    """Add a monitor; the key must be new."""
    budget = fields.pop("false_pages_per_30_days", None)
    fields["detector"] = _with_budget(fields.get("detector"), budget)
    if session.scalar(select(Monitor.id).where(Monitor.key == fields["key"])) is not None:
        raise Conflict(f"monitor {fields['key']!r} already exists", field="key")
    monitor = Monitor(**fields)
    session.add(monitor)
    session.flush()
    return monitor


def update(
    session: Session,
    *,
    monitor: Monitor,
    check: Callable[[dict[str, Any]], None] | None = None,
    **changes: Any,
) -> Monitor:
    """Change a monitor's settings; detector settings are merged into its overrides, which
    `check` may refuse (raising; nothing is changed then)."""
    budget = changes.pop("false_pages_per_30_days", None)
    if budget is not None or "detector" in changes:
        changes["detector"] = merged_detector(
            current=monitor.detector, patch=changes.get("detector", {}), budget=budget
        )
        if check is not None:
            check(changes["detector"])
    for name, value in changes.items():
        setattr(monitor, name, value)
    session.flush()
    return monitor


def delete(session: Session, *, monitor: Monitor) -> None:
    """Delete a monitor that never had an incident (otherwise deactivate it).

    Its incidents and signals refer to it (foreign keys, on PostgreSQL and SQLite alike), so
    the database refuses the delete; nothing is changed then.
    """
    try:
        with session.begin_nested():
            session.delete(monitor)
            session.flush()
    except IntegrityError:
        raise Conflict(
            f"monitor {monitor.key!r} has incidents; set active=false to stop watching it"
        ) from None
