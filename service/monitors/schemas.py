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
from service.errors import Invalid
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


def _setting(name: str, kind: str, default: Any, *, nullable: bool = False) -> ma.fields.Field:
    """The field of one DetectorConfig setting, with the range its check enforces (a PATCH's
    field also takes null: back to the default)."""
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
    if nullable:
        description = f"{description}; null: back to the default"
    return _KINDS[kind](
        validate=validators, allow_none=nullable, metadata={"description": description}
    )


class _DetectorChecks(ma.Schema):
    """What the fields cannot say alone: the settings together make a working detector."""

    @ma.validates_schema
    def _works(self, data: dict[str, Any], **_kwargs: Any) -> None:
        try:  # a PATCH's nulls go back to the defaults, which work
            DetectorConfig(**{k: v for k, v in data.items() if v is not None})
        except (TypeError, ValueError) as exc:
            raise ma.ValidationError(str(exc)) from None


def _settings_schema(name: str, *, nullable: bool) -> type[ma.Schema]:
    """A schema of the detector settings a monitor may override (all optional)."""
    return type(
        name,
        (_DetectorChecks,),
        {
            f.name: _setting(f.name, str(f.type), f.default, nullable=nullable)
            for f in dataclasses.fields(DetectorConfig)
            if f.name not in FIXED
        },
    )


#: the detector settings a monitor may override (types and ranges: DetectorConfig's checks)
DetectorSettingsSchema = _settings_schema("DetectorSettingsSchema", nullable=False)
#: a PATCH of them (JSON merge patch, RFC 7396): the settings sent change, null resets one
DetectorSettingsPatch = _settings_schema("DetectorSettingsPatch", nullable=True)


def check_detector(overrides: dict[str, Any]) -> None:
    """Overrides that make a working detector together; else Invalid naming `detector`."""
    known = {f.name for f in dataclasses.fields(DetectorConfig)}
    try:
        DetectorConfig(**{k: v for k, v in overrides.items() if k in known})
    except (TypeError, ValueError) as exc:
        raise Invalid(str(exc), field="detector") from None


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


def detector_patch_field() -> ma.fields.Nested:
    """Changes to a monitor's detector overrides, merged into them (RFC 7396)."""
    return ma.fields.Nested(
        DetectorSettingsPatch,
        allow_none=True,
        metadata={
            "description": "merged into the monitor's detector overrides (JSON merge patch, "
            "RFC 7396): a setting sent replaces its override, a setting set to null goes back "
            "to its default, settings not sent are kept; null resets every setting"
        },
    )


BUDGET = Number(
    validate=Range(min=0, min_inclusive=False, max=1000),
    metadata={
        "description": "The sensitivity: how many false pages per 30 days this monitor may "
        "cause at most (calibrated from its own history; docs/detection.md). Lower pages less "
        "often and may miss smaller firestorms; higher catches smaller ones. Also a detector "
        "setting: given in `detector` too, it must be the same value (422 otherwise).",
        "example": 2.0,
    },
)


class _OneBudget(ma.Schema):
    """The budget may be given at the top and in `detector`, but not as two values."""

    @ma.validates_schema
    def _one_budget(self, data: dict[str, Any], **_kwargs: Any) -> None:
        top, detector = data.get("false_pages_per_30_days"), data.get("detector")
        name = "false_pages_per_30_days"
        if top is None or not isinstance(detector, dict) or name not in detector:
            return
        if detector[name] != top:
            inner = "null" if detector[name] is None else f"{detector[name]:g}"
            message = f"{top:g} here but {inner} in detector: give one value"
            raise ma.ValidationError({name: [message], "detector": {name: [message]}})


class MonitorCreateSchema(_OneBudget):
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


class MonitorUpdateSchema(_OneBudget):
    """Changes to a monitor."""

    false_pages_per_30_days = BUDGET

    name = ma.fields.String(validate=validate.Length(min=1, max=120))
    description = ma.fields.String(validate=validate.Length(max=5000))
    active = Flag()
    detector = detector_patch_field()
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
