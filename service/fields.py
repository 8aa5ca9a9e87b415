"""Shared marshmallow fields."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import marshmallow as ma


class Timestamp(ma.fields.AwareDateTime):
    """A tz-aware time: parsed from ISO 8601 with an offset, shown as UTC with microseconds."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("metadata", {}).setdefault("example", "2026-11-23T09:15:02.123456Z")
        super().__init__(format="iso", **kwargs)

    def _serialize(self, value: datetime | None, attr: Any, obj: Any, **kwargs: Any) -> Any:
        if value is None:
            return None
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> datetime:
        return super()._deserialize(value, attr, data, **kwargs).astimezone(UTC)
