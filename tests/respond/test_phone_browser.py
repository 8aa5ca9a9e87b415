"""The phone pages in real headless Chromium at a 390 px wide viewport (Playwright).

The Wolf takes the link from the SMS the Twilio stand-in received and acknowledges on the
phone page; legal takes the link from the approval request and approves that exact version.
Nothing overflows the screen, tap targets are finger-sized, and no console error (CSP) shows.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from werkzeug.serving import make_server

from service.auth.roles import Role
from tests.paging.fixtures import LEGAL, WOLF, contact, policy
from tests.respond.helpers import link_in
from tests.statements.statement_fixtures import HOLDING, declare, draft, events, submit
from tests.web.test_browser import ARTIFACTS, browser  # noqa: F401

pytestmark = pytest.mark.slow
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def live(tw_app) -> Iterator[str]:
    """The app (paging through the stand-in) served on a free loopback port."""
    server = make_server("127.0.0.1", 0, tw_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(5)


def _phone(browser):  # noqa: F811
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    return context, page, problems


def _fits(page) -> None:
    """Nothing wider than the phone; every button at least 40 px tall."""
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], width
    heights = page.eval_on_selector_all("button", "bs => bs.map(b => b.offsetHeight)")
    assert heights and min(heights) >= 40, heights


def test_the_wolf_acknowledges_and_legal_approves_from_their_sms_links(
    browser,  # noqa: F811
    live,
    tw_app,
    tw_jobs,
    standin,
):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    wolf = contact(tw_app, "Winston Wolf", {Role.WOLF}, WOLF)
    contact(tw_app, "Lena Legal", {Role.LEGAL}, LEGAL)
    comms = contact(tw_app, "Cora Comms", {Role.COMMS}, "+14155550108")
    policy(tw_app, [{"targets": [{"user_id": wolf["id"]}], "delay_seconds": 300}])
    client = tw_app.test_client()
    number = declare(client, wolf)
    tw_jobs()

    context, page, problems = _phone(browser)
    page.goto(live + link_in(standin, WOLF))
    assert f"#{number} Exploding kettle video" in page.inner_text("h1")
    assert page.inner_text("#status") == "triggered"
    _fits(page)
    page.screenshot(path=str(ARTIFACTS / "phone-incident.png"), full_page=True)
    page.click("button.ack")
    page.wait_for_load_state("domcontentloaded")
    assert "Done: acknowledged" in page.inner_text("main")
    assert page.inner_text("#status") == "acknowledged"
    incident = client.get(f"/api/v1/incidents/{number}", headers=wolf["headers"]).get_json()
    assert incident["status"] == "acknowledged"
    assert problems == []
    context.close()

    sid = draft(client, comms, number)["id"]
    assert submit(client, comms, number, sid).status_code == 200
    tw_jobs()
    context, page, problems = _phone(browser)
    page.goto(live + link_in(standin, LEGAL))
    assert f"Statement {sid}, version 1" in page.inner_text("h1")
    assert HOLDING in page.inner_text("#text")
    _fits(page)
    for box in page.query_selector_all("input[name=checklist]"):
        box.check()
    page.fill("#comment", "Fine as written")
    page.screenshot(path=str(ARTIFACTS / "phone-approval.png"), full_page=True)
    page.click("button[value=approve]")
    page.wait_for_load_state("domcontentloaded")
    assert "version 1 approved" in page.inner_text("main")
    assert page.inner_text("#approval-status") == "approved"
    [approved] = events(client, wolf, number, "statement.approved")
    assert approved["actor"].startswith("Lena Legal") and approved["data"]["comment"] == (
        "Fine as written"
    )
    assert problems == []
    context.close()
