"""The incident page tells the story: metrics, chart, timeline, evidence, statements, chain."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from service.auth.roles import Role
from tests.timeline.test_timeline import _tamper
from tests.web.conftest import sign_in
from tests.web.story import Story

UTC_TIME = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6} UTC")


class Sections(HTMLParser):
    """Collects the text of each <section id=...> and the <tr class="event"> rows."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.text: dict[str, list[str]] = {}
        self.events: list[str] = []
        self.scripts: list[dict] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "section" and a.get("id"):
            self.stack.append(a["id"])
        if tag == "tr" and a.get("class") == "event":
            self.events.append(a["data-kind"])
        if tag == "script":
            self.scripts.append(a)

    def handle_endtag(self, tag):
        if tag == "section" and self.stack:
            self.stack.pop()

    def handle_data(self, data):
        for sid in self.stack:
            self.text.setdefault(sid, []).append(data)

    def section(self, sid: str) -> str:
        return " ".join(" ".join(self.text.get(sid, [])).split())


def page(client, story: Story, query: str = "") -> tuple[object, Sections]:
    sign_in(client, story.reviewer["token"])
    resp = client.get(f"/ui/incidents/{story.number}{query}")
    assert resp.status_code == 200, resp.data[:500]
    parsed = Sections()
    parsed.feed(resp.get_data(as_text=True))
    return resp, parsed


def test_the_page_tells_the_story_of_the_incident(client, story):
    resp, doc = page(client, story)
    html = resp.get_data(as_text=True)
    assert f"#{story.number} Negative spike on Acme Kettles" in html
    summary = doc.section("summary")
    assert "opened by the detector on monitor acme" in summary
    assert "Winston Wolf (#2) acknowledged after 40.0 s" in summary
    assert "resolved it after" in summary and "1 statement published" in summary
    assert "left unfinished" in summary
    assert len(UTC_TIME.findall(summary)) >= 4  # onset, opened, acknowledged, resolved

    metrics = doc.section("metrics")
    for label in (
        "Time to detect",
        "Time to page",
        "Time to acknowledge",
        "Time to first approved statement",
        "Time to resolve",
        "Playbook steps on time / late",
    ):
        assert label in metrics
    assert "—" not in metrics.split("Time to detect")[0]  # time to detect has a value

    # the chart: server-rendered SVG with bars, the shaded baseline and the event markers
    chart = html[html.index('<section id="chart"') : html.index('<section id="timeline"')]
    assert "<svg" in chart and 'role="img"' in chart
    assert len(re.findall(r'fill="#c0392b"', chart)) >= 5  # negative bars
    assert 'class="baseline"' in chart and 'class="share"' in chart
    for kind in ("onset", "signal", "page", "acknowledged", "statement", "resolved"):
        assert f"marker-{kind}" in chart, kind

    # the whole timeline in order, with exact UTC times, and the chain verified
    assert doc.events == [e["kind"] for e in story.events]
    timeline = doc.section("timeline")
    assert len(UTC_TIME.findall(timeline)) >= len(story.events)
    for e in story.events:
        assert e["at"].replace("T", " ").replace("Z", " UTC") in timeline
    assert f"Hash chain verified: all {len(story.events)} events intact" in timeline
    assert "Winston Wolf" in timeline and "detector" in timeline

    evidence = doc.section("evidence")
    assert "exploded" in evidence or "explode" in evidence or "hazard" in evidence
    paged = doc.section("pages")
    assert "Winston Wolf page (must answer) 1 " in paged  # escalation levels are 1-based
    assert "Lena Legal notice (FYI)" in paged
    statements = doc.section("statements")
    assert "We are aware of the video" in statements
    assert "Lena Legal (legal) approved" in statements and "Published v1" in statements


def test_notes_and_mentions_are_escaped_and_scripts_carry_the_csp_nonce(client, story):
    resp, doc = page(client, story)
    html = resp.get_data(as_text=True)
    assert "Video debunked &lt;b&gt;by&lt;/b&gt; its creator" in html
    assert "<b>by</b>" not in html
    csp = resp.headers["Content-Security-Policy"]
    nonce = re.search(r"script-src 'nonce-([^']+)'", csp)[1]
    assert "default-src 'none'" in csp and "frame-ancestors 'none'" in csp
    assert doc.scripts and all(s.get("nonce") == nonce for s in doc.scripts)
    assert resp.headers["X-Frame-Options"] == "DENY" and resp.headers["Cache-Control"] == "no-store"


def test_times_show_in_the_readers_zone_when_chosen(client, story):
    resp, doc = page(client, story, "?tz=Asia/Tokyo")
    assert "JST" in doc.section("timeline")
    assert "fb-tz=Asia/Tokyo" in resp.headers.get("Set-Cookie", "")
    again = client.get(f"/ui/incidents/{story.number}")  # remembered
    assert "JST" in again.get_data(as_text=True)
    resp, doc = page(client, story, "?tz=Not/AZone")  # the text, not random tokens in attributes
    assert resp.status_code == 200 and "JST" not in doc.section("timeline")


def test_a_broken_chain_is_shown_as_broken(app, client, story):
    _tamper(app, "UPDATE timeline_events SET data = '{\"forged\": true}' WHERE seq = 3")
    _, doc = page(client, story)
    assert "Hash chain BROKEN at event 3" in doc.section("timeline")


def test_a_page_shows_only_its_own_incident(client, story, people):
    other = client.post(
        "/api/v1/incidents",
        json={"title": "Unrelated outage of the webshop", "severity": "sev3"},
        headers=story.wolf["headers"],
    ).get_json()["number"]
    client.post(
        f"/api/v1/incidents/{other}/notes",
        json={"text": "secret detail of the other incident"},
        headers=story.wolf["headers"],
    )
    resp, _ = page(client, story)
    html = resp.get_data(as_text=True)
    assert "Unrelated outage" not in html and "secret detail" not in html
    resp = client.get(f"/ui/incidents/{other}")
    body = resp.get_data(as_text=True)
    assert "secret detail of the other incident" in body
    assert "We are aware of the video" not in body and "exploded" not in body
    assert "No mention data was kept" in body  # declared without a monitor: no chart data


def test_unknown_incident_is_a_404_page(client, reviewer):
    sign_in(client, reviewer["token"])
    resp = client.get("/ui/incidents/999")
    assert resp.status_code == 404 and b"Incident #999 does not exist" in resp.data


def test_exports_download_from_the_page_and_from_the_api(client, story, people):
    sign_in(client, story.reviewer["token"])
    for fmt, mimetype, needle in (
        ("md", "text/markdown", "## Headline metrics"),
        ("json", "application/json", '"format": "firebreak.postmortem/1"'),
        ("html", "text/html", "Hash chain verified"),
        ("svg", "image/svg+xml", "<svg"),
    ):
        resp = client.get(f"/ui/incidents/{story.number}/export.{fmt}")
        assert resp.status_code == 200 and resp.mimetype == mimetype, fmt
        assert needle in resp.get_data(as_text=True).replace('":"', '": "'), fmt
        assert "attachment" in resp.headers["Content-Disposition"]
    assert client.get(f"/ui/incidents/{story.number}/export.exe").status_code == 404

    h = story.reviewer["headers"]
    resp = client.get(f"/api/v1/incidents/{story.number}/export?format=html", headers=h)
    assert resp.status_code == 200 and resp.mimetype == "text/html"
    standalone = resp.get_data(as_text=True)
    assert "<svg" in standalone and "Sign out" not in standalone and "nonce=" not in standalone
    resp = client.get(f"/api/v1/incidents/{story.number}/export?format=svg", headers=h)
    assert resp.status_code == 200 and resp.get_data(as_text=True).startswith("<?xml")
    resp = client.get(f"/api/v1/incidents/{story.number}/export?format=pdf", headers=h)
    assert resp.status_code == 422 and resp.mimetype == "application/problem+json"
    ingest = people.make(Role.INGEST)
    resp = client.get(
        f"/api/v1/incidents/{story.number}/export?format=html", headers=ingest["headers"]
    )
    assert resp.status_code == 403
