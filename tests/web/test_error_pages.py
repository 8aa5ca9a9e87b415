"""Pages refused before their own hooks ran (request guards, unknown addresses) are still
pages: HTML, styled under the same Content-Security-Policy nonce as every other page."""

from __future__ import annotations

import re

import pytest

from tests.web.conftest import sign_in


def _nonces(resp) -> tuple[str, list[str]]:
    """The header's style nonce and the nonces of the page's style tags."""
    header = re.search(r"style-src 'nonce-([^']*)'", resp.headers["Content-Security-Policy"])[1]
    return header, re.findall(r'<style nonce="([^"]*)"', resp.get_data(as_text=True))


@pytest.mark.parametrize(
    ("path", "status", "says"),
    [
        ("/ui/incidents?q=a%00b", 422, "q"),  # a request guard: NUL in a parameter
        ("/ui/sign-in?next=%00", 422, "next"),
        ("/ui/incidents/99999999999", 404, "number"),  # an id beyond the database's range
        ("/ui/no-such-page", 404, "There is no page at /ui/no-such-page"),
        ("/ui/incidents/abc", 404, "There is no page at /ui/incidents/abc"),
        ("/r/abc%00def", 404, "link"),
    ],
)
def test_early_refusals_are_styled_pages_under_the_csp(client, reviewer, path, status, says):
    sign_in(client, reviewer["token"])
    resp = client.get(path)
    assert resp.status_code == status
    assert resp.mimetype == "text/html"
    header, tags = _nonces(resp)
    assert len(header) >= 16  # a real nonce, not an empty 'nonce-' that blocks every style
    assert tags == [header]
    assert says in resp.get_data(as_text=True)


def test_each_page_gets_its_own_nonce(client, reviewer):
    sign_in(client, reviewer["token"])
    first, _ = _nonces(client.get("/ui/no-such-page"))
    second, _ = _nonces(client.get("/ui/no-such-page"))
    assert first != second


def test_an_unknown_page_is_a_plain_404_page_for_strangers_too(client):
    resp = client.get("/ui/secret-place")
    assert resp.status_code == 404
    assert resp.mimetype == "text/html"
    assert "Sign out" not in resp.get_data(as_text=True)
