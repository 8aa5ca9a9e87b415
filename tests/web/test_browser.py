"""The incident page in real headless Chromium (Debian's, driven by Playwright).

A reviewer signs in through the form, opens the demo-like incident and reads it: the chart is
drawn, the timeline is there in order, times are shown in the browser's zone too, and the page
raises no console error (a CSP violation would). A full-page screenshot is kept as an artifact.
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from werkzeug.serving import make_server

CHROMIUM = os.environ.get("FIREBREAK_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(os.environ.get("FIREBREAK_TEST_ARTIFACTS", "var/test-artifacts"))
#: Chromium's own background traffic is refused by this network: switch it off
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not shutil.which(CHROMIUM):
        if os.environ.get("FIREBREAK_REQUIRE_BROWSER"):
            pytest.fail(f"Chromium is required for the browser tests but {CHROMIUM} is missing")
        pytest.skip(f"{CHROMIUM} is not installed (scripts/test.sh installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=shutil.which(CHROMIUM), args=ARGS)
        yield b
        b.close()


@pytest.fixture
def live(app) -> Iterator[str]:
    """The app served over HTTP on a free loopback port, in a thread."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(5)


def sign_in(page, base: str, token: str, path: str) -> None:
    page.goto(f"{base}{path}")
    assert "/ui/sign-in" in page.url
    page.fill("#token", token)
    page.click("button[type=submit]")
    page.wait_for_load_state("domcontentloaded")


def test_a_reviewer_reads_the_incident_page_in_chromium(browser, live, story):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(
        viewport={"width": 1280, "height": 900}, timezone_id="America/New_York"
    )
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))

    sign_in(page, live, story.reviewer["token"], f"/ui/incidents/{story.number}")
    assert page.url.endswith(f"/ui/incidents/{story.number}")
    assert f"#{story.number} Negative spike on Acme Kettles" in page.inner_text("h1")
    cookies = {c["name"]: c for c in context.cookies()}
    session = cookies["__Host-fb-session"]
    assert session["httpOnly"] and session["secure"] and session["sameSite"] == "Lax"
    assert page.evaluate("document.cookie") == ""  # HttpOnly: scripts can't read the session

    chart = page.locator("#chart svg.incident-chart")
    box = chart.bounding_box()
    assert box and box["width"] > 600 and box["height"] > 200
    assert chart.locator("rect").count() > 50
    assert chart.locator(".marker-signal").count() >= 1
    assert chart.locator(".marker-resolved").count() == 1
    assert "peak" in chart.locator("desc").text_content()
    strip = page.locator("#chart svg.response-strip")  # the response on its own time scale
    assert strip.locator(".strip-acknowledged").count() == 1
    assert strip.locator(".strip-resolved text").text_content().startswith("resolved +")

    rows = page.locator("#timeline tr.event")
    assert rows.count() == len(story.events)
    first = rows.nth(0).inner_text()
    assert story.events[0]["at"].replace("T", " ").replace("Z", " UTC") in first
    assert "(your time)" in first and ("EST" in first or "EDT" in first or "GMT-" in first)
    assert "Hash chain verified" in page.inner_text("#chain")
    metrics = page.inner_text("#metrics")
    assert "Time to acknowledge" in metrics and "Time to resolve" in metrics
    assert page.locator("#evidence tbody tr").count() >= 1
    assert "We are aware of the video" in page.inner_text("#statements")

    # a reviewer has nothing to act with: the only form posts are sign-out and the zone picker
    actions = page.eval_on_selector_all("form[method=post]", "fs => fs.map(f => f.action)")
    assert all(a.endswith("/ui/sign-out") for a in actions), actions

    page.screenshot(path=str(ARTIFACTS / "incident-page.png"), full_page=True)
    assert problems == [], problems

    # the list, filtered through the form, leads back to the page
    page.goto(f"{live}/ui/incidents")
    page.select_option("select[name=status]", "resolved")
    page.click("form.filters button[type=submit]")
    page.wait_for_load_state("domcontentloaded")
    assert "status=resolved" in page.url
    page.click(f"#incidents a[href='/ui/incidents/{story.number}'] >> nth=0")
    page.wait_for_load_state("domcontentloaded")
    assert page.url.endswith(f"/ui/incidents/{story.number}")
    page.screenshot(path=str(ARTIFACTS / "incident-list.png"))
    context.close()
    assert problems == [], problems


def test_the_page_reads_without_javascript(browser, live, story):
    context = browser.new_context(
        java_script_enabled=False, viewport={"width": 1280, "height": 900}
    )
    page = context.new_page()
    sign_in(page, live, story.reviewer["token"], f"/ui/incidents/{story.number}?tz=Europe/Berlin")
    assert page.locator("#chart svg.incident-chart").bounding_box()["width"] > 600
    assert page.locator("#timeline tr.event").count() == len(story.events)
    assert "CET" in page.inner_text("#timeline") or "CEST" in page.inner_text("#timeline")
    page.screenshot(path=str(ARTIFACTS / "incident-page-no-js.png"), full_page=True)
    context.close()


PHONE = {"width": 390, "height": 844}


def test_the_pages_fit_a_phone_with_a_long_unbroken_note(browser, live, story, client):
    """At 390 px nothing is wider than the screen: long words wrap, tables scroll in their own
    box, the chart scales to the width."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    word = "Unbroken" + "x" * 3_000
    h, n = story.wolf["headers"], story.number
    resp = client.post(f"/api/v1/incidents/{n}/notes", json={"text": word}, headers=h)
    assert resp.status_code == 201, resp.get_json()
    title = {"title": "Kettle" + "y" * 190, "severity": "sev3"}
    assert client.post("/api/v1/incidents", json=title, headers=h).status_code == 201
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)

    sign_in(page, live, story.reviewer["token"], f"/ui/incidents/{n}")
    assert word in page.inner_text("#timeline")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    note = page.locator("#timeline tr.event[data-kind='note.added'] td.text").last.bounding_box()
    assert note and note["x"] >= 0 and note["x"] + note["width"] <= PHONE["width"], note
    box = page.locator("#chart svg.incident-chart").bounding_box()
    assert box and 200 < box["width"] <= PHONE["width"], box
    page.screenshot(path=str(ARTIFACTS / "incident-page-phone.png"), full_page=True)

    page.goto(f"{live}/ui/incidents")
    assert page.locator("#incidents tbody tr").count() == 2
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.screenshot(path=str(ARTIFACTS / "incident-list-phone.png"), full_page=True)
    context.close()
    assert problems == [], problems
