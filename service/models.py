"""Imports every domain's models so metadata (and Alembic) sees all tables."""

from __future__ import annotations

import service.auth.models  # noqa: F401
import service.detection.models  # noqa: F401
import service.incidents.models  # noqa: F401
import service.monitors.models  # noqa: F401
import service.oncall.models  # noqa: F401
import service.paging.models  # noqa: F401
import service.playbooks.models  # noqa: F401
import service.postmortem.models  # noqa: F401
import service.statements.models  # noqa: F401
import service.timeline.models  # noqa: F401
import service.web.models  # noqa: F401


def import_all() -> None:
    """Import all model modules."""
