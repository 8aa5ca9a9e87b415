"""An incident driven through the API, exported as JSON (chain verified) and Markdown."""

from __future__ import annotations

import json
import re

from service.auth.roles import Role
from tests.statements.statement_fixtures import (
    HOLDING,
    decide,
    declare,
    draft,
    publish,
    submit,
    use_policy,
)

SECTIONS = [
    "## Summary",
    "## Headline metrics",
    "## Timeline",
    "## Evidence",
    "## Statements",
    "## Playbook steps",
    "## Root cause",
    "## What went well",
    "## What went wrong",
    "## Lessons learned / action items",
]
ROW_TIME = re.compile(r"^\| \d+ \| \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z \| ", re.M)


def drive(client, people, monkeypatch) -> tuple[int, dict]:
    use_policy(monkeypatch, approvals=["legal"])
    wolf = people.make(Role.WOLF, name="Winston Wolf")
    legal = people.make(Role.LEGAL, name="Lena Legal")
    reviewer = people.make(Role.REVIEWER, name="Rita Reviewer")
    number = declare(client, wolf, wolf_id=wolf["id"])
    h = wolf["headers"]
    assert (
        client.post(f"/api/v1/incidents/{number}/acknowledge", json={}, headers=h).status_code
        == 200
    )
    sid = draft(client, wolf, number)["id"]
    assert submit(client, wolf, number, sid).status_code == 200
    assert decide(client, legal, number, sid, 1, HOLDING).status_code == 200
    assert publish(client, wolf, number, sid, 1, HOLDING).status_code in (200, 201)
    note = {"text": "Kettle | video traced\nto a competitor"}
    assert client.post(f"/api/v1/incidents/{number}/notes", json=note, headers=h).status_code == 201
    assert client.post(f"/api/v1/incidents/{number}/resolve", json={}, headers=h).status_code == 200
    return number, reviewer


def test_json_export_is_complete_and_its_chain_verifies(pm_client, people, monkeypatch):
    number, reviewer = drive(pm_client, people, monkeypatch)
    resp = pm_client.get(f"/api/v1/incidents/{number}/export", headers=reviewer["headers"])
    assert resp.status_code == 200 and resp.mimetype == "application/json"
    body = resp.get_json()
    assert body["incident"]["number"] == number and body["incident"]["status"] == "resolved"
    assert body["chain"]["intact"] is True
    assert body["chain"]["events"] == len(body["timeline"])
    assert body["chain"]["head_hash"] == body["timeline"][-1]["hash"]
    m = body["metrics"]
    assert m["time_to_acknowledge"] > 0 and m["time_to_resolve"] >= m["time_to_acknowledge"]
    assert m["time_to_first_approved_statement"] >= m["time_to_acknowledge"]
    assert m["time_to_detect"] is None  # declared by hand: no signal, no onset
    (statement,) = body["statements"]
    assert statement["versions"][0]["approval"]["decisions"][0]["user"] == "Lena Legal"
    assert statement["publications"][0]["published_by"] == "Winston Wolf"


def test_markdown_export_reads_as_a_postmortem_draft(pm_client, people, monkeypatch):
    number, reviewer = drive(pm_client, people, monkeypatch)
    url = f"/api/v1/incidents/{number}/export?format=markdown"
    resp = pm_client.get(url, headers=reviewer["headers"])
    assert resp.status_code == 200 and resp.mimetype == "text/markdown"
    text = resp.get_data(as_text=True)
    assert text.startswith(f"# Post-mortem: #{number} Exploding kettle video")
    positions = [text.index(s) for s in SECTIONS]
    assert positions == sorted(positions)
    assert "Time to acknowledge" in text and "Hash chain verified" in text
    assert "Incident acknowledged" in text and "Statement 1 v1 published on twitter" in text
    assert "Note: Kettle \\| video traced to a competitor" in text  # escaped, one line
    assert f"> {HOLDING}" in text and "Lena Legal (legal" in text
    assert len(ROW_TIME.findall(text)) >= 6


def test_export_refuses_unknown_incident_format_and_missing_token(pm_client, people):
    reviewer = people.make(Role.REVIEWER)
    h = reviewer["headers"]
    resp = pm_client.get("/api/v1/incidents/99/export", headers=h)
    assert resp.status_code == 404 and resp.mimetype == "application/problem+json"
    assert pm_client.get("/api/v1/incidents/99/export?format=pdf", headers=h).status_code == 422
    assert pm_client.get("/api/v1/incidents/99/export").status_code == 401
    ingest = people.make(Role.INGEST)
    assert pm_client.get("/api/v1/reports/incidents", headers=ingest["headers"]).status_code == 403


def test_report_counts_mtta_and_mttr(pm_client, people, monkeypatch):
    number, reviewer = drive(pm_client, people, monkeypatch)
    h = reviewer["headers"]
    body = pm_client.get("/api/v1/reports/incidents", headers=h).get_json()
    assert body["count"] == 1 and body["by_status"] == {"resolved": 1}
    assert body["mtta_seconds"] > 0 and body["mttr_seconds"] >= body["mtta_seconds"]
    assert body["by_severity"]["sev1"]["count"] == 1
    assert body["by_monitor"]["(declared)"]["count"] == 1
    future = pm_client.get("/api/v1/reports/incidents?from=2199-01-01T00:00:00Z", headers=h)
    assert future.get_json()["count"] == 0
    empty = "/api/v1/reports/incidents?from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z"
    assert pm_client.get(empty, headers=h).get_json()["count"] == 0  # an empty period


def test_cli_exports_markdown_and_json(pm_app, pm_client, people, monkeypatch, tmp_path):
    number, _ = drive(pm_client, people, monkeypatch)
    runner = pm_app.test_cli_runner()
    result = runner.invoke(args=["export", str(number)])
    assert result.exit_code == 0, result.output
    assert "## Lessons learned / action items" in result.output
    out = tmp_path / "export.json"
    result = runner.invoke(args=["export", str(number), "--format", "json", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert json.loads(out.read_text())["chain"]["intact"] is True
    missing = runner.invoke(args=["export", "999"])
    assert missing.exit_code != 0 and "does not exist" in missing.output
