"""RQ entry points of detection. Each takes ids, reloads state, and is idempotent."""

from __future__ import annotations

from service.detection import service


def drain(at_close: bool = False) -> dict[str, int]:
    """Evaluate the monitors due for an evaluation, in batches (see ``service.drain``)."""
    if at_close and not service.take_drain():
        return {"evaluated": 0}  # a drain is queued or running: it judges the closed minute
    return service.drain()
