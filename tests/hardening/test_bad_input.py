"""The bad-input catalogue of issue 15: every answer is a 4xx problem naming the field, never a
500, and a refused request changes nothing."""

from __future__ import annotations

import io
import json

import pytest

from service.api import PROBLEM_MIMETYPE
from tests.conftest import PUBLIC_URL
from tests.paging.fixtures import status_webhook
from tests.support.twilio_standin import signed_webhook_headers
from tests.web.conftest import sign_in

BIG = 2_147_483_648
NESTED_ARRAY = "[" * 1000 + "]" * 1000
NESTED_OBJECT = '{"a":' * 1000 + "1" + "}" * 1000


def problem(resp, status: int, field: str | None = None) -> dict:
    """The answer is a problem with `status`, naming `field` if given."""
    assert resp.status_code == status, resp.get_data(as_text=True)[:500]
    assert resp.mimetype == PROBLEM_MIMETYPE
    body = resp.get_json()
    assert body["status"] == status
    if field is not None:
        assert field in [e["field"] for e in body["errors"]], body
    return body


def declare(client, admin) -> int:
    resp = client.post(
        "/api/v1/incidents", json={"title": "Kettle", "severity": "sev2"}, headers=admin["headers"]
    )
    assert resp.status_code == 201
    return resp.get_json()["number"]


@pytest.mark.smoke
@pytest.mark.parametrize(
    ("path", "field"),
    [
        (f"/api/v1/users/{BIG}", "user_id"),
        (f"/api/v1/incidents/{BIG}", "number"),
        (f"/api/v1/incidents/{BIG}/timeline", "number"),
        (f"/api/v1/incidents/1/statements/{BIG}", "statement_id"),
        (f"/api/v1/incidents/{10**30}/pages", "number"),
    ],
)
def test_ids_above_int32_are_404_naming_the_field(client, admin, path, field) -> None:
    problem(client.get(path, headers=admin["headers"]), 404, field)


def test_unicode_digits_are_not_ids(client, admin) -> None:
    declare(client, admin)
    assert client.get("/api/v1/incidents/1", headers=admin["headers"]).status_code == 200
    problem(client.get("/api/v1/incidents/\u0661", headers=admin["headers"]), 404)


@pytest.mark.parametrize(
    "query", [f"page={BIG}", "page=99999999999999999999999", "page=%C2%B2", "page_size=%D9%A4"]
)
def test_page_numbers_are_bounded_ascii(client, admin, query) -> None:
    field = query.split("=")[0]
    problem(client.get(f"/api/v1/incidents?{query}", headers=admin["headers"]), 422, field)


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/api/v1/oncall?at=9999-12-31T23:59:59Z", "at"),
        ("/api/v1/incidents?opened_after=0001-01-01T00:00:00%2B01:00", "opened_after"),
        ("/api/v1/incidents?opened_before=9999-12-31T23:59:59-01:00", "opened_before"),
        (
            "/api/v1/rotations/x/schedule?from=0001-01-01T00:00:00%2B01:00"
            "&until=9999-12-31T23:59:59Z",
            "from",
        ),
    ],
)
def test_extreme_dates_in_queries_are_422(client, admin, path, field) -> None:
    problem(client.get(path, headers=admin["headers"]), 422, field)


def test_extreme_dates_in_bodies_are_422_and_change_nothing(client, admin, unchanged) -> None:
    unchanged.mark()
    resp = client.post(
        "/api/v1/rotations",
        json={
            "key": "wolves",
            "name": "Wolves",
            "purpose": "wolf",
            "handoff_at": "0001-01-01T00:00:00+01:00",
            "shift_seconds": 604800,
        },
        headers=admin["headers"],
    )
    problem(resp, 422, "handoff_at")
    unchanged.check()


@pytest.mark.smoke
@pytest.mark.parametrize("body", [NESTED_ARRAY, NESTED_OBJECT])
@pytest.mark.parametrize(
    "path", ["/api/v1/incidents", "/api/v1/users", "/api/v1/monitors", "/api/v1/rotations"]
)
def test_deeply_nested_json_is_400(client, admin, unchanged, path, body) -> None:
    unchanged.mark()
    resp = client.post(path, data=body, content_type="application/json", headers=admin["headers"])
    assert "nested" in problem(resp, 400, "body")["detail"]
    unchanged.check()


@pytest.mark.smoke
@pytest.mark.parametrize("bad", ["a\u0000b", "a\ud800b"])
def test_nul_and_lone_surrogates_in_bodies_are_422(client, admin, unchanged, bad) -> None:
    unchanged.mark()
    raw = json.dumps({"title": bad, "severity": "sev2"})  # lone surrogates escaped as \ud800
    resp = client.post(
        "/api/v1/incidents", data=raw, content_type="application/json", headers=admin["headers"]
    )
    problem(resp, 422, "title")
    raw = json.dumps({"name": "Ok", "roles": ["wolf"], "email": bad})
    resp = client.post(
        "/api/v1/users", data=raw, content_type="application/json", headers=admin["headers"]
    )
    problem(resp, 422, "email")
    unchanged.check()


@pytest.mark.parametrize(
    ("path", "status", "field"),
    [
        ("/api/v1/incidents?monitor=a%00b", 422, "monitor"),
        ("/api/v1/monitors/a%00b", 404, "path"),
        ("/api/v1/oncall?at=%00", 422, "at"),
    ],
)
def test_nul_in_query_and_path_is_refused(client, admin, path, status, field) -> None:
    problem(client.get(path, headers=admin["headers"]), status, field)


def test_json_body_without_content_type_is_415_not_ignored(client, admin, unchanged) -> None:
    number = declare(client, admin)
    unchanged.mark()
    resp = client.post(
        f"/api/v1/incidents/{number}/resolve",
        data=json.dumps({"note": "fixed the kettle"}),
        headers=admin["headers"],
    )
    problem(resp, 415, "Content-Type")
    unchanged.check()


def test_chunked_body_above_the_limit_is_413(app, client, admin, unchanged) -> None:
    unchanged.mark()
    body = b'{"title": "' + b"x" * (app.config["MAX_CONTENT_LENGTH"] + 10) + b'"}'
    resp = client.post(
        "/api/v1/incidents",
        input_stream=io.BytesIO(body),
        headers={
            **admin["headers"],
            "Transfer-Encoding": "chunked",
            "Content-Type": "application/json",
        },
        environ_overrides={"wsgi.input_terminated": True},
    )
    problem(resp, 413)
    unchanged.check()


def test_huge_ids_and_pages_on_the_pages_are_html_4xx(client, admin) -> None:
    sign_in(client, admin["token"])
    resp = client.get(f"/ui/incidents/{BIG}")
    assert resp.status_code == 404 and resp.mimetype == "text/html"
    assert resp.headers["Content-Security-Policy"].startswith("default-src 'none'")
    resp = client.get("/ui/incidents?page=%C2%B2")
    assert resp.status_code == 400 and resp.mimetype == "text/html"
    resp = client.get("/ui/incidents?q=%00")
    assert resp.status_code == 422 and b"NUL" in resp.data


def test_every_ui_answer_carries_the_security_headers(client) -> None:
    for path in ("/ui/nowhere", "/ui/sign-in", "/ui/incidents"):
        resp = client.get(path)
        assert resp.headers["X-Content-Type-Options"] == "nosniff", path
        assert resp.headers["X-Frame-Options"] == "DENY", path
        assert "frame-ancestors 'none'" in resp.headers["Content-Security-Policy"], path


@pytest.mark.parametrize("next_", ["/ui/incidents\r\nSet-Cookie: x=1", "/ui/incidents\n"])
def test_sign_in_with_crlf_in_next_lands_on_the_list(client, admin, next_) -> None:
    resp = sign_in(client, admin["token"], next_)
    assert resp.status_code == 303
    assert resp.headers["Location"] == "/ui/incidents"
    assert "x=1" not in resp.headers.get("Set-Cookie", "")


@pytest.fixture
def signed_app(app):
    """The app with Twilio webhooks enabled (a token to check signatures against)."""
    from service import create_app
    from tests.conftest import settings_for_tests

    return create_app(settings_for_tests(TWILIO_AUTH_TOKEN="hook-token"))


@pytest.mark.parametrize("code", ["99999999999", "\u00b2", "-1"])
def test_status_callback_with_an_out_of_range_error_code_is_422(signed_app, code) -> None:
    resp = status_webhook(
        signed_app.test_client(), "SM" + "1" * 32, "failed", token="hook-token", error_code=code
    )
    problem(resp, 422, "ErrorCode")


def test_voice_with_a_huge_page_says_unknown(signed_app) -> None:
    params = {"CallSid": "CA" + "2" * 32, "Digits": "1"}
    url = f"{PUBLIC_URL}/webhooks/twilio/voice?page={10**20}"
    resp = signed_app.test_client().post(
        f"/webhooks/twilio/voice?page={10**20}",
        data=params,
        headers=signed_webhook_headers("hook-token", url, params),
    )
    assert resp.status_code == 200
    assert b"unknown" in resp.data


def test_years_before_1000_serialise_as_valid_date_times() -> None:
    from datetime import UTC, datetime

    from service.fields import Timestamp

    out = Timestamp()._serialize(datetime(5, 1, 1, tzinfo=UTC), "t", None)
    assert out == "0005-01-01T00:00:00.000000Z"
