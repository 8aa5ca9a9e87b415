"""Monitor request and response schemas."""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import marshmallow as ma
from marshmallow import validate
from marshmallow.validate import Range

from service.detection.engine import DetectorConfig
from service.detection.settings import RANGES, SEASONALITY
from service.fields import Flag, MultipleOf, Number, Timestamp, Whole

KEY = validate.Regexp(r"^[a-z0-9][a-z0-9-]{1,39}$", error="2-40 lowercase letters, digits, '-'")


#: settings a monitor cannot change: the bucket store counts every monitor in one bucket length
FIXED = frozenset({"bucket_seconds"})
BUCKET = DetectorConfig.bucket_seconds
#: windows counted in buckets: whole buckets, at most 240 of them for the longest window
_IN_BUCKETS = {
    "rearm_seconds": [Range(min=0), MultipleOf(BUCKET)],
    "max_window_seconds": [Range(min=0, max=240 * BUCKET), MultipleOf(BUCKET)],
}
_KINDS: dict[str, type[ma.fields.Field]] = {
    "bool": Flag,
    "int": Whole,
    "float": Number,
    "str": ma.fields.String,
}


def _setting(name: str, kind: str, default: Any) -> ma.fields.Field:
    """The field of one DetectorConfig setting, with the range its check enforces."""
    validators: list[Any] = list(_IN_BUCKETS.get(name, ()))
    if name in RANGES:
        low, low_open, high, high_open = RANGES[name]
        validators.append(
            Range(
                min=low,
                max=None if math.isinf(high) else high,
                min_inclusive=not low_open,
                max_inclusive=not high_open,
            )
        )
    if name == "seasonality":
        validators.append(validate.OneOf(SEASONALITY))
    description = f"default {default!r}; docs/detection.md"
    return _KINDS[kind](validate=validators, metadata={"description": description})


class _DetectorChecks(ma.Schema):
    """What the fields cannot say alone: the settings together make a working detector."""

    @ma.validates_schema
    def _works(self, data: dict[str, Any], **_kwargs: Any) -> None:
        try:
            DetectorConfig(**data)
        except (TypeError, ValueError) as exc:
            raise ma.ValidationError(str(exc)) from None


#: the detector settings a monitor may override (types and ranges: DetectorConfig's checks)
DetectorSettingsSchema = type(
    "DetectorSettingsSchema",
    (_DetectorChecks,),
    {
        f.name: _setting(f.name, str(f.type), f.default)
        for f in dataclasses.fields(DetectorConfig)
        if f.name not in FIXED
    },
)

#: a lexicon word: one word (no space) of 1 to 40 characters
WORD = validate.Regexp(r"^[^ \u0000]{1,40}$", error="a single word of 1-40 characters")


def lexicon_field(**kwargs: Any) -> ma.fields.Dict:
    """Lexicon adjustments: up to 500 single words, each with a valence from -4 to 4."""
    return ma.fields.Dict(
        keys=ma.fields.String(validate=WORD),
        values=Number(validate=Range(min=-4, max=4)),
        validate=validate.Length(max=500),
        metadata={
            "example": {"sick": 2.0, "killer": 1.5},
            "description": "up to 500 words (no spaces) and their valence, -4 to 4",
        },
        **kwargs,
    )


def detector_field(**kwargs: Any) -> ma.fields.Nested:
    """A monitor's detector overrides."""
    return ma.fields.Nested(
        DetectorSettingsSchema,
        metadata={"description": "detector settings this monitor overrides (others: defaults)"},
        **kwargs,
    )


BUDGET = Number(
    validate=Range(min=0, min_inclusive=False, max=1000),
    metadata={
        "description": "The sensitivity: how many false pages per 30 days this monitor may "
        "cause at most (calibrated from its own history; docs/detection.md). Lower pages less "
        "often and may miss smaller firestorms; higher catches smaller ones.",
        "example": 2.0,
    },
)


class MonitorCreateSchema(ma.Schema):
    """A new monitor."""

    false_pages_per_30_days = BUDGET

    key = ma.fields.String(required=True, validate=KEY)
    name = ma.fields.String(required=True, validate=validate.Length(min=1, max=120))
    description = ma.fields.String(load_default="", validate=validate.Length(max=5000))
    detector = detector_field(load_default=dict)
    lexicon = lexicon_field(load_default=dict)
    playbook_id = ma.fields.String(load_default=None, validate=validate.Length(max=64))
    escalation_policy = ma.fields.String(load_default=None, validate=validate.Length(max=40))
    tags = ma.fields.List(
        ma.fields.String(validate=validate.Length(min=1, max=40)),
        load_default=list,
        validate=validate.Length(max=20),
    )


class MonitorUpdateSchema(ma.Schema):
    """Changes to a monitor."""

    false_pages_per_30_days = BUDGET

    name = ma.fields.String(validate=validate.Length(min=1, max=120))
    description = ma.fields.String(validate=validate.Length(max=5000))
    active = Flag()
    detector = detector_field()
    lexicon = lexicon_field()
    playbook_id = ma.fields.String(allow_none=True, validate=validate.Length(max=64))
    escalation_policy = ma.fields.String(allow_none=True, validate=validate.Length(max=40))
    tags = ma.fields.List(
        ma.fields.String(validate=validate.Length(min=1, max=40)), validate=validate.Length(max=20)
    )


class MonitorSchema(ma.Schema):
    """A monitor."""

    key = ma.fields.String()
    name = ma.fields.String()
    description = ma.fields.String()
    active = ma.fields.Boolean()
    false_pages_per_30_days = ma.fields.Method(
        "budget", metadata={"type": "number", "description": "The false-page budget in force."}
    )
    detector = ma.fields.Dict()
    lexicon = ma.fields.Dict()
    playbook_id = ma.fields.String(allow_none=True)
    escalation_policy = ma.fields.String(allow_none=True)
    tags = ma.fields.List(ma.fields.String())
    created_at = Timestamp()
    updated_at = Timestamp()

    def budget(self, monitor: Any) -> float:
        """The monitor's budget, else the detector's default."""
        detector = getattr(monitor, "detector", None) or {}
        return float(
            detector.get("false_pages_per_30_days", DetectorConfig.false_pages_per_30_days)
        )
