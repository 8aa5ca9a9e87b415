"""Shared marshmallow fields: bounded ids and times, JSON-typed numbers and flags, so bad input
is a 422, never a 500, and what the OpenAPI document says is what the fields accept."""

from __future__ import annotations

import re
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


#: the characters Python's `str.strip()` removes (`str.isspace`), spelled for any regex dialect
SPACE = (
    "\\t-\\r\\u001c-\\u0020\\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000"
)
#: any text a string may hold: no NUL (the request guard refuses it, keys included, except in
#: a body whose view repairs it)
TEXT = "^[^\\u0000]*$"
#: text with something besides white space (and no NUL, which no string may hold)
NOT_BLANK = f"^[^\\u0000]*[^{SPACE}\\u0000][^\\u0000]*$"
#: text with something besides white space and NUL, where NUL is removed (`Repaired`)
SOME_TEXT = f"^[\\s\\S]*[^{SPACE}\\u0000]"
#: what no stored string may hold: NUL (PostgreSQL refuses it), half of a UTF-16 surrogate pair
UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def repair_text(value: str) -> tuple[str, str | None]:
    """The text with NUL removed and lone surrogates replaced by U+FFFD, and what was done."""
    if not UNSTORABLE.search(value):
        return value, None
    nul = value.count("\x00")
    text, lone = _LONE_SURROGATE.subn("\ufffd", value.replace("\x00", ""))
    done = [f"removed {nul} NUL character(s)"] if nul else []
    done += [f"replaced {lone} lone surrogate(s) with U+FFFD"] if lone else []
    return text, "; ".join(done)


class Repaired(ma.fields.String):
    """A string whose NUL characters are removed and lone surrogates replaced (`repair_text`),
    not refused: documented without the no-NUL pattern other strings carry."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> str:
        return repair_text(super()._deserialize(value, attr, data, **kwargs))[0]


class MultipleOf(ma.validate.Validator):
    """A number that is a whole multiple of `multiple` (documented as `multipleOf`)."""

    def __init__(self, multiple: int) -> None:
        self.multiple = multiple

    def __call__(self, value: Any) -> Any:
        if value % self.multiple:
            raise ma.ValidationError(f"must be a multiple of {self.multiple}")
        return value


class Distinct(ma.validate.Validator):
    """A list whose items differ (documented as `uniqueItems`); the error names the repeat."""

    def __call__(self, value: Any) -> Any:
        seen: list[Any] = []
        for index, item in enumerate(value):
            if item in seen:
                raise ma.ValidationError({index: [f"{item!r} is listed twice"]})
            seen.append(item)
        return value


class Whole(ma.fields.Integer):
    """A JSON integer: `3` or `3.0` (JSON Schema's integer), never `"3"`, `3.5` or `true`."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(strict=True, **kwargs)

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> int:
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        return super()._deserialize(value, attr, data, **kwargs)


class Id(Whole):
    """A database id or sequence number: a JSON integer from `minimum` to 2,147,483,647."""

    def __init__(self, *, minimum: int = 1, **kwargs: Any) -> None:
        kwargs.setdefault("validate", ma.validate.Range(min=minimum, max=MAX_ID))
        super().__init__(**kwargs)


class QueryId(Id):
    """An id in a query string (text): ASCII digits, from `minimum` to 2,147,483,647."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> int:
        if isinstance(value, str):  # a query string: ASCII digits only (no '²' or '٤٢')
            if not (value.isascii() and value.isdigit() and len(value) <= 12):
                raise self.make_error("invalid")
            value = int(value)
        return super()._deserialize(value, attr, data, **kwargs)


class Number(ma.fields.Float):
    """A finite JSON number (strings such as "0.5" are refused)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(allow_nan=False, **kwargs)

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.make_error("invalid")
        return super()._deserialize(value, attr, data, **kwargs)


class Flag(ma.fields.Boolean):
    """A JSON boolean: `true` or `false` (not 1, "yes" or "true")."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> bool:
        if not isinstance(value, bool):
            raise self.make_error("invalid")
        return value


def parse_id(raw: str | None) -> int | None:
    """An id from text (ASCII digits, at most 2,147,483,647), else None."""
    if raw is None or not (raw.isascii() and raw.isdigit() and len(raw) <= 12):
        return None
    value = int(raw)
    return value if 1 <= value <= MAX_ID else None


class Link(ma.fields.Url):
    """An absolute http(s) or ftp(s) URL with a host name (documented as a `uri` of that
    scheme, not apispec's non-standard `url` format)."""

    def __init__(self, *, schemes: set[str] | None = None, **kwargs: Any) -> None:
        schemes = schemes or {"http", "https", "ftp", "ftps"}
        metadata = kwargs.setdefault("metadata", {})
        metadata.setdefault("format", "uri")
        metadata.setdefault("pattern", f"^({'|'.join(sorted(schemes))})://[^/?#@:]+\\.")
        super().__init__(schemes=schemes, **kwargs)


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
