"""Helpers of the phone-page tests: links from the stand-in's SMS, forms as a phone posts them."""

from __future__ import annotations

import re
from typing import Any

LINK = re.compile(r"https://firebreak\.test(/r/[A-Za-z0-9_-]{22})")
CSRF = re.compile(r'name="csrf" value="([0-9a-f]{64})"')


def link_in(standin: Any, phone: str, index: int = -1) -> str:
    """The path of the link in the SMS sent to `phone` (the last one by default)."""
    bodies = [m.params["Body"] for m in standin.messages if m.params["To"] == phone]
    match = LINK.search(bodies[index])
    assert match, bodies[index]
    return match.group(1)


def form_token(client: Any, path: str) -> str:
    """Open the page as a phone would and read its form token."""
    page = client.get(path)
    assert page.status_code == 200, page.get_data(as_text=True)
    match = CSRF.search(page.get_data(as_text=True))
    assert match
    return match.group(1)


def post(client: Any, path: str, **form: Any) -> Any:
    """Post a form of the page, with its token unless one is given."""
    if "csrf" not in form:
        form["csrf"] = form_token(client, path)
    return client.post(path + form.pop("to", "/act"), data=form)
