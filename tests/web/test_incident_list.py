"""The incidents list: filters, validation, paging."""

from __future__ import annotations

import pytest

from tests.web.conftest import sign_in


@pytest.fixture
def listed(client, wolf, reviewer):
    numbers = {}
    for title, severity in (
        ("Kettle video", "sev1"),
        ("Shipping delays", "sev3"),
        ("100% refunds_rumour", "sev2"),
    ):
        body = {"title": title, "severity": severity}
        numbers[title] = client.post(
            "/api/v1/incidents", json=body, headers=wolf["headers"]
        ).get_json()["number"]
    n = numbers["Shipping delays"]
    client.post(f"/api/v1/incidents/{n}/resolve", json={}, headers=wolf["headers"])
    sign_in(client, reviewer["token"])
    return numbers


def rows(resp) -> list[str]:
    html = resp.get_data(as_text=True)
    body = html[html.index('<table id="incidents">') :]
    return [t for t in ("Kettle video", "Shipping delays", "100% refunds_rumour") if t in body]


@pytest.mark.parametrize(
    "query, expected",
    [
        ("", ["Kettle video", "Shipping delays", "100% refunds_rumour"]),
        ("?status=resolved", ["Shipping delays"]),
        ("?severity=sev1", ["Kettle video"]),
        ("?q=kettle", ["Kettle video"]),
        ("?q=100%25", ["100% refunds_rumour"]),
        ("?q=_", ["100% refunds_rumour"]),
        (
            "?from=2000-01-01&to=2999-12-31",
            ["Kettle video", "Shipping delays", "100% refunds_rumour"],
        ),
        ("?to=2000-01-01", []),
    ],
)
def test_filters(client, listed, query, expected):
    resp = client.get(f"/ui/incidents{query}")
    assert resp.status_code == 200
    assert rows(resp) == expected


@pytest.mark.parametrize(
    "query, field",
    [
        ("?status=exploded", "status"),
        ("?severity=sev9", "severity"),
        ("?from=yesterday", "from"),
        ("?from=2026-02-01&to=2026-01-01", "to"),
        ("?monitor=nope", "monitor"),
        ("?page=0", "page"),
        ("?q=" + "x" * 201, "q"),
    ],
)
def test_bad_filters_are_a_400_naming_the_field(client, listed, query, field):
    resp = client.get(f"/ui/incidents{query}")
    assert resp.status_code == 400
    body = resp.get_data(as_text=True)
    assert f"<strong>{field}</strong>" in body
    assert 'aria-label="Filters"' in body  # the form stays, to correct the filter


def test_rows_link_to_the_incident_pages(client, listed):
    html = client.get("/ui/incidents").get_data(as_text=True)
    for number in listed.values():
        assert f'href="/ui/incidents/{number}"' in html
