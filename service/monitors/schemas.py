"""Monitor request and response schemas."""

from __future__ import annotations

import dataclasses
from typing import Any

import marshmallow as ma
from marshmallow import validate

from service.detection.engine import DetectorConfig
from service.fields import Timestamp

KEY = validate.Regexp(r"^[a-z0-9][a-z0-9-]{1,39}$", error="2-40 lowercase letters, digits, '-'")


def _detector_fields() -> dict[str, Any]:
    """DetectorConfig's fields and their (string) annotations."""
    return {f.name: f.type for f in dataclasses.fields(DetectorConfig)}


def validate_detector(value: dict) -> None:
    """Detector overrides must name DetectorConfig fields with values of the right kind."""
    known = _detector_fields()
    unknown = sorted(set(value) - set(known))
    if unknown:
        raise ma.ValidationError(f"unknown detector setting(s): {', '.join(unknown)}")
    kinds = {"bool": (bool,), "int": (int,), "float": (int, float), "str": (str,)}
    for name, v in value.items():
        kind = str(known[name])
        ok = isinstance(v, kinds.get(kind, (object,))) and (kind == "bool") == isinstance(v, bool)
        if not ok:
            raise ma.ValidationError(f"{name}: must be a {kind}")
    try:
        DetectorConfig(**value)
    except (TypeError, ValueError) as exc:
        raise ma.ValidationError(str(exc)) from None


def validate_lexicon(value: dict) -> None:
    """Lexicon adjustments: up to 500 single words with a valence from -4 to 4."""
    if len(value) > 500:
        raise ma.ValidationError("at most 500 words")
    for word, valence in value.items():
        if not (1 <= len(word) <= 40) or " " in word:
            raise ma.ValidationError(f"{word!r}: a single word of 1-40 characters")
        if isinstance(valence, bool) or not isinstance(valence, int | float):
            raise ma.ValidationError(f"{word!r}: valence must be a number")
        if not -4 <= valence <= 4:
            raise ma.ValidationError(f"{word!r}: valence must be from -4 to 4")


BUDGET = ma.fields.Float(
    validate=validate.Range(min=0, min_inclusive=False, max=1000),
    allow_nan=False,
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
    detector = ma.fields.Dict(load_default=dict, validate=validate_detector)
    lexicon = ma.fields.Dict(
        keys=ma.fields.String(),
        load_default=dict,
        validate=validate_lexicon,
        metadata={"example": {"sick": 2.0, "killer": 1.5}},
    )
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
    active = ma.fields.Boolean()
    detector = ma.fields.Dict(validate=validate_detector)
    lexicon = ma.fields.Dict(keys=ma.fields.String(), validate=validate_lexicon)
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
