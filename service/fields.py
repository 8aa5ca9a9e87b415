"""Shared marshmallow fields: bounded ids and times, so bad input is a 422, never a 500."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import marshmallow as ma

#: the largest id a database INTEGER column holds (PostgreSQL int4)
MAX_ID = 2_147_483_647
#: times outside this window are refused (a database, and `astimezone`, cannot hold them all)
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(2200, 1, 1, tzinfo=UTC)
#: the same bound for OpenAPI clients: a date-time whose year is 1970..2199
YEAR_PATTERN = "^(19[7-9][0-9]|2[01][0-9][0-9])-"


class Id(ma.fields.Integer):
    """A database id or sequence number: a JSON integer from `minimum` to 2,147,483,647."""

    def __init__(self, *, minimum: int = 1, **kwargs: Any) -> None:
        kwargs.setdefault("validate", ma.validate.Range(min=minimum, max=MAX_ID))
        super().__init__(strict=True, **kwargs)

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> int:
        if isinstance(value, str):  # a query string: ASCII digits only (no '²' or '٤٢')
            if not (value.isascii() and value.isdigit() and len(value) <= 12):
                raise self.make_error("invalid")
            value = int(value)
        return super()._deserialize(value, attr, data, **kwargs)


def parse_id(raw: str | None) -> int | None:
    """An id from text (ASCII digits, at most 2,147,483,647), else None."""
    if raw is None or not (raw.isascii() and raw.isdigit() and len(raw) <= 12):
        return None
    value = int(raw)
    return value if 1 <= value <= MAX_ID else None


class Timestamp(ma.fields.AwareDateTime):
    """A tz-aware time in the years 1970 to 2199 (as written): parsed from ISO 8601 with an
    offset, shown as UTC with microseconds."""

    default_error_messages = {"out_of_range": "the year must be from 1970 to 2199"}

    def __init__(self, **kwargs: Any) -> None:
        metadata = kwargs.setdefault("metadata", {})
        metadata.setdefault("example", "2026-11-23T09:15:02.123456Z")
        metadata.setdefault("pattern", YEAR_PATTERN)
        super().__init__(format="iso", **kwargs)

    def _serialize(self, value: datetime | None, attr: Any, obj: Any, **kwargs: Any) -> Any:
        if value is None:
            return None
        return value.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> datetime:
        parsed = super()._deserialize(value, attr, data, **kwargs)
        if not EARLIEST.year <= parsed.year < LATEST.year:  # as written: UTC cannot overflow
            raise self.make_error("out_of_range")
        return parsed.astimezone(UTC)
