"""Rules the code enforces are in the OpenAPI document: the shared fields and the apispec
attribute function that renders what apispec leaves out."""

from __future__ import annotations

import marshmallow as ma
import pytest

from service.fields import NOT_BLANK, TEXT, Distinct, Flag, MultipleOf, Number, Whole


class Sample(ma.Schema):
    count = Whole()
    ratio = Number()
    on = Flag()
    step = Whole(validate=MultipleOf(60))
    ids = ma.fields.List(Whole(), validate=Distinct())
    text = ma.fields.String(validate=ma.validate.Regexp(NOT_BLANK))


@pytest.mark.parametrize(
    ("data", "loaded"),
    [
        ({"count": 3.0}, {"count": 3}),
        ({"ratio": 2}, {"ratio": 2.0}),
        ({"on": False}, {"on": False}),
        ({"step": 120}, {"step": 120}),
        ({"ids": [1, 2]}, {"ids": [1, 2]}),
        ({"text": " a "}, {"text": " a "}),
    ],
)
def test_json_values_are_taken(data, loaded):
    assert Sample().load(data) == loaded


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"count": "3"}, "count"),
        ({"count": 3.5}, "count"),
        ({"count": True}, "count"),
        ({"ratio": "0.5"}, "ratio"),
        ({"ratio": float("nan")}, "ratio"),
        ({"on": 1}, "on"),
        ({"on": "true"}, "on"),
        ({"step": 90}, "step"),
        ({"ids": [1, 1.0]}, "ids"),
        ({"text": " \t\u3000\x1c"}, "text"),  # all of it white space, as str.strip() sees it
        ({"text": "a\x00"}, "text"),
    ],
)
def test_other_values_are_refused(data, field):
    with pytest.raises(ma.ValidationError) as err:
        Sample().load(data)
    assert field in err.value.messages


def test_the_document_says_what_the_code_checks(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    schemas = spec["components"]["schemas"]
    # not blank, and no NUL (as the guard says)
    assert schemas["Note"]["properties"]["text"]["pattern"] == NOT_BLANK
    statement = schemas["StatementCreate"]["properties"]["text"]
    assert statement["pattern"] == NOT_BLANK and statement["minLength"] == 1
    budget = schemas["MonitorCreate"]["properties"]["false_pages_per_30_days"]
    assert budget["exclusiveMinimum"] == 0 and "minimum" not in budget
    url = schemas["Mention"]["properties"]["url"]
    assert url["format"] == "uri" and url["pattern"].startswith("^(http|https)://")
    reason = schemas["StepReason"]
    assert reason["required"] == ["reason"]
    assert reason["properties"]["reason"]["pattern"] == NOT_BLANK
    params = spec["paths"]["/api/v1/incidents"]["get"]["parameters"]
    monitor = next(p for p in params if p["name"] == "monitor")
    assert monitor["schema"]["pattern"] == TEXT
