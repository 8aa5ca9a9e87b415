"""RQ entry points of detection. Each takes ids, reloads state, and is idempotent."""

from __future__ import annotations

from service.detection import service


def drain() -> dict[str, int]:
    """Evaluate the monitors due for an evaluation, in batches (see ``service.drain``)."""
    return service.drain()
