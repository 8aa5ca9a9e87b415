"""Ingest: validate a batch item by item (repairing text the database cannot store), score
sentiment, count each mention once."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from service.detection.buckets import BucketStore, Scored
from service.detection.language import language_of
from service.detection.sentiment import READ_CHARS, Reading, polarity, read
from service.fields import EARLIEST, LATEST, UNSTORABLE, repair_text

MAX_BATCH = 1000
MAX_TEXT = 1000
MAX_REACH = 10_000_000_000
SOURCE = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,31}$")
#: free-text fields repaired rather than refused: NUL removed, lone surrogates replaced (a
#: broken emoji); each repair is listed in the batch's `warnings`
REPAIRED = ("source_id", "text", "author")


@dataclass(frozen=True)
class Limits:
    """How old or how far ahead a mention may be."""

    horizon: timedelta = timedelta(days=8)
    future_skew: timedelta = timedelta(minutes=5)


@dataclass
class Report:
    """The outcome of one batch, item by item."""

    statuses: list[str] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)
    #: text repaired in items not rejected: index, field and what was done
    warnings: list[dict[str, Any]] = field(default_factory=list)
    #: whether this batch set the drain flag (so must queue a drain of the due monitors)
    evaluation_due: bool = False
    #: whether this batch was the first to ask for its minute's close (so must schedule it)
    close_due: bool = False
    #: when the oldest mention this batch added was posted (None if it added none)
    oldest_accepted: datetime | None = None

    def count(self, status: str) -> int:
        """How many items ended with this status."""
        return self.statuses.count(status)


def _is_int(v: Any) -> bool:
    """A JSON integer: 3 or 3.0 (JSON Schema's integer), not true."""
    return (isinstance(v, int) and not isinstance(v, bool)) or (
        isinstance(v, float) and v.is_integer()
    )


#: why a well-formed mention is refused by the clock, not by its shape
UNTIMELY = ("older than the detector's horizon", "in the future")


def untimely(reason: str) -> bool:
    """Whether a refusal is about when the mention was posted (outside the detector's window)."""
    return reason.startswith(UNTIMELY)


def _is_number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def parse_time(raw: Any) -> datetime | str:
    """A tz-aware UTC datetime from ISO 8601, or the reason it is not one."""
    if not isinstance(raw, str) or len(raw) > 40:
        return "must be an ISO 8601 date-time string"
    try:
        value = datetime.fromisoformat(raw)
    except ValueError:
        return "not a valid ISO 8601 date-time"
    if value.tzinfo is None:
        return "must include a UTC offset (e.g. Z or +00:00)"
    if not EARLIEST.year <= value.year < LATEST.year:  # as written, as the API documents
        return f"the year must be from {EARLIEST.year} to {LATEST.year - 1}"
    try:  # 0001-01-01T00:00:00+01:00 is before the first representable UTC instant
        return value.astimezone(UTC)
    except (OverflowError, ValueError):
        return "out of range"


def _source(value: Any) -> str | None:
    if isinstance(value, str) and SOURCE.fullmatch(value):
        return None
    return "required: lowercase letters, digits, '.', '_' or '-', 1-32"


def _source_id(value: Any) -> str | None:
    ok = isinstance(value, str) and 1 <= len(value) <= 128
    return None if ok else "required: a string of 1-128 characters"


def _text(value: Any) -> str | None:
    if not isinstance(value, str) or not value.strip():
        return "required: a non-empty string"
    return f"longer than {MAX_TEXT} characters" if len(value) > MAX_TEXT else None


def _author(value: Any) -> str | None:
    ok = value is None or (isinstance(value, str) and len(value) <= 100)
    return None if ok else "must be a string of at most 100 characters"


def _reach(value: Any) -> str | None:
    ok = _is_int(value) and 0 <= value <= MAX_REACH
    return None if ok else f"must be an integer from 0 to {MAX_REACH}"


def _url(value: Any) -> str | None:
    ok = value is None or (
        isinstance(value, str) and len(value) <= 2048 and value.startswith(("http://", "https://"))
    )
    if not ok:
        return "must be an http(s) URL of at most 2048 characters"
    if value is not None and UNSTORABLE.search(value):  # not repaired: it would be another link
        return "must not contain NUL characters or lone surrogates"
    return None


def _sentiment(value: Any) -> str | None:
    ok = value is None or (_is_number(value) and -1 <= value <= 1)
    return None if ok else "must be a number from -1 to 1"


#: the checks of a mention's fields, in the order their errors are listed
CHECKS: dict[str, Callable[[Any], str | None]] = {
    "source": _source,
    "source_id": _source_id,
    "text": _text,
    "author": _author,
    "author_reach": _reach,
    "url": _url,
    "sentiment": _sentiment,
}


def _created_at(raw: dict, *, now: datetime, limits: Limits) -> datetime | str:
    """The post time in UTC, or why it is refused (missing, malformed, outside the window)."""
    created = parse_time(raw["created_at"]) if "created_at" in raw else "required"
    if isinstance(created, str):
        return created
    if created < now - limits.horizon:
        return f"older than the detector's horizon ({limits.horizon.total_seconds() / 3600:g} h)"
    if created > now + limits.future_skew:
        return "in the future (beyond the allowed clock skew)"
    return created


def validate_item(
    raw: Any, *, now: datetime, limits: Limits, repairs: list[tuple[str, str]] | None = None
) -> tuple[dict | None, list]:
    """Check one mention; returns the clean fields or a list of (field, reason), and adds the
    (field, what was done) of each repaired text to `repairs`."""
    if not isinstance(raw, dict):
        return None, [("", "each mention must be a JSON object")]
    errors: list[tuple[str, str]] = []  # other fields (a tool's own) are ignored
    values: dict[str, Any] = {name: raw.get(name) for name in CHECKS}
    for name in REPAIRED:
        if isinstance(values[name], str):
            values[name], done = repair_text(values[name])
            if done and repairs is not None:
                repairs.append((name, done))
    if values["author_reach"] is None:
        values["author_reach"] = 0
    errors += [(name, why) for name, check in CHECKS.items() if (why := check(values[name]))]
    created = _created_at(raw, now=now, limits=limits)
    if isinstance(created, str):
        errors.append(("created_at", created))
    if errors:
        return None, errors
    sentiment = values["sentiment"]
    return {
        "source": values["source"],
        "source_id": values["source_id"],
        "text": values["text"],
        "author": values["author"],
        "reach": int(values["author_reach"]),
        "url": values["url"],
        "created_at": created,
        "sentiment": None if sentiment is None else float(sentiment),
    }, []


def ingest(
    *,
    monitor_id: int,
    items: Sequence[Any],
    now: datetime,
    reader: Callable[..., Reading] = read,
    store: BucketStore,
    lexicon: Mapping[str, float] | None = None,
    limits: Limits = Limits(),
    ask: Sequence[str] = (),
) -> Report:
    """Validate, score and count a batch; valid items are counted even if others are bad.

    Each distinct text is read (language, then sentiment if a scorer reads that language) once
    per batch; with `ask` (``due.ask_arguments``), the same Redis call that counts the batch
    asks for an evaluation if anything was new (see Report.evaluation_due).
    """
    report = Report(statuses=["rejected"] * len(items))
    valid: list[dict] = []
    positions: list[int] = []
    seen_in_batch: set[tuple[str, str]] = set()
    for index, raw in enumerate(items):
        repairs: list[tuple[str, str]] = []
        clean, errors = validate_item(raw, now=now, limits=limits, repairs=repairs)
        if clean is None:
            report.errors.extend({"index": index, "field": f, "reason": r} for f, r in errors)
            continue
        report.warnings.extend({"index": index, "field": f, "action": a} for f, a in repairs)
        ident = (clean["source"], clean["source_id"])
        if ident in seen_in_batch:
            report.statuses[index] = "duplicate"
            continue
        seen_in_batch.add(ident)
        valid.append(clean)
        positions.append(index)
    readings: dict[str, Reading] = {}
    scored: list[Scored] = []
    for clean in valid:
        text, value = clean["text"], clean["sentiment"]
        if value is not None:  # the source's own sentiment: only the language is needed
            language = language_of(text[:READ_CHARS])
        else:
            reading = readings.get(text)
            if reading is None:
                reading = readings[text] = reader(text, lexicon=lexicon)
            language, value = reading.language, reading.sentiment
        clean["sentiment"] = 0.0 if value is None else value
        scored.append(
            Scored(
                **clean,
                polarity=0 if value is None else polarity(value),
                readable=value is not None,
                language=language,
            )
        )
    flags, report.evaluation_due, report.close_due = store.record_and_ask(
        monitor_id, scored, ask=ask
    )
    for index, new in zip(positions, flags, strict=True):
        report.statuses[index] = "accepted" if new else "duplicate"
    added = [item.created_at for item, new in zip(scored, flags, strict=True) if new]
    report.oldest_accepted = min(added, default=None)
    return report
