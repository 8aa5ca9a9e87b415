"""The OpenAPI document: valid, complete, every error documented."""

from __future__ import annotations

import re

import pytest
from openapi_spec_validator import validate


@pytest.fixture
def spec(client):
    resp = client.get("/api/v1/openapi.json")
    assert resp.status_code == 200
    return resp.get_json()


@pytest.mark.smoke
def test_document_validates(spec):
    validate(spec)
    assert spec["openapi"].startswith("3.1")


def _documented(spec) -> set[tuple[str, str]]:
    return {
        (path, method.upper())
        for path, item in spec["paths"].items()
        for method in item
        if method in ("get", "post", "put", "patch", "delete")
    }


def test_every_api_route_is_documented(app, spec):
    routes = set()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/") or rule.endpoint.startswith("api-docs"):
            continue
        path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            routes.add((path, method))
    assert routes and routes == _documented(spec)


def test_every_operation_declares_auth_errors_and_a_summary(spec):
    for path, item in spec["paths"].items():
        for method, op in item.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            where = f"{method.upper()} {path}"
            assert op.get("summary"), where
            assert op.get("security") == [{"bearerAuth": []}], where
            codes = set(op["responses"])
            assert {"401", "403"} <= codes, where
            success = [c for c in codes if c.startswith("2")]
            assert len(success) == 1, where
            if "requestBody" in op:
                assert {"400", "413", "415", "422"} <= codes, where
            if "{" in path:
                assert "404" in codes, where
            for code, response in op["responses"].items():
                if "$ref" in response:
                    response = spec["components"]["responses"][response["$ref"].split("/")[-1]]
                if code.startswith(("4", "5")) or code == "default":
                    assert set(response.get("content", {})) == {"application/problem+json"}, (
                        where,
                        code,
                    )


def test_errors_are_documented_as_problems(spec):
    assert "ProblemSchema" in str(spec["components"]) or "Problem" in str(spec["components"])
    assert spec["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"


def test_every_operation_declares_its_roles(app, spec):
    """x-roles and the description name the roles the view's check allows."""
    views = {
        rule.endpoint: app.view_functions[rule.endpoint]
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/v1/") and not rule.endpoint.startswith("api-docs")
    }
    allowed = {
        sorted(r.value for r in fn._firebreak_roles).__repr__()
        for fn in views.values()
        if hasattr(fn, "_firebreak_roles")
    }
    assert allowed
    for path, item in spec["paths"].items():
        for method, op in item.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            roles = op.get("x-roles")
            assert roles and roles == sorted(roles), (method, path)
            assert f"Roles allowed: {', '.join(roles)}." in op["description"], (method, path)


def test_pagination_header_is_a_string_and_problems_allow_extensions(spec):
    header = spec["paths"]["/api/v1/users"]["get"]["responses"]["200"]["headers"]["X-Pagination"]
    assert header["schema"]["type"] == "string"
    problem = spec["components"]["schemas"]["Problem"]
    assert problem.get("additionalProperties") is True
    created = spec["paths"]["/api/v1/incidents"]["get"]["parameters"]
    opened_after = next(p for p in created if p["name"] == "opened_after")
    assert opened_after["schema"]["pattern"].startswith("^(19[7-9]")


def test_a_page_without_a_level_conforms(app, client, admin, spec):
    """A verification page has no level or round: the schema says they may be null."""
    page = spec["components"]["schemas"]["Page"]["properties"]
    assert "null" in page["level"]["type"] and "null" in page["round"]["type"]


def test_optional_bodies_are_optional_and_declared_rules_are_in_the_schema(client, admin, spec):
    ack = spec["paths"]["/api/v1/incidents/{number}/acknowledge"]["post"]["requestBody"]
    assert ack["required"] is False  # an action's note is optional ...
    created = client.post(
        "/api/v1/incidents", json={"title": "Kettle", "severity": "sev2"}, headers=admin["headers"]
    )
    number = created.get_json()["number"]
    resp = client.post(f"/api/v1/incidents/{number}/acknowledge", headers=admin["headers"])
    assert resp.status_code == 200  # ... and the API takes no body
    assert spec["components"]["schemas"]["IncidentUpdate"]["anyOf"] == [
        {"required": ["severity"]},
        {"required": ["title"]},
        {"required": ["description"]},
    ]
    empty = client.patch(f"/api/v1/incidents/{number}", json={}, headers=admin["headers"])
    assert empty.status_code == 422
    reason_only = {"reason": "respond"}  # a reason alone changes nothing: the document says so
    resp = client.patch(f"/api/v1/incidents/{number}", json=reason_only, headers=admin["headers"])
    assert resp.status_code == 422
