"""Statement steps finish themselves, on the demo's path: the negative-firestorm playbook, a
holding statement approved and published before its step is ready; legal finishes its own
step by SMS."""

from __future__ import annotations

from service.auth.roles import Role
from tests.paging.fixtures import LEGAL, WOLF, contact, policy, sms_webhook
from tests.statements.statement_fixtures import HOLDING, decide, declare, draft, publish, submit

COMMS = "+14155550108"


def _states(client, who, number) -> dict[str, str]:
    run = client.get(f"/api/v1/incidents/{number}/playbook", headers=who["headers"]).get_json()
    assert run["playbook_id"] == "negative-firestorm"
    return {s["id"]: s["state"] for s in run["steps"]}


def test_statement_steps_finish_on_approval_even_when_ready_later(tw_app, tw_jobs, standin):
    policy(tw_app, [{"targets": [{"role": "nobody"}], "delay_seconds": 3600}])
    wolf = contact(tw_app, "Winston Wolf", {Role.WOLF}, WOLF)
    legal = contact(tw_app, "Lena Legal", {Role.LEGAL}, LEGAL)
    comms = contact(tw_app, "Cora Comms", {Role.COMMS}, COMMS)
    client = tw_app.test_client()
    number = declare(client, wolf, wolf_id=wolf["id"])
    say = lambda text, phone: sms_webhook(  # noqa: E731
        client, text, phone, token=standin.auth_token
    ).get_data(as_text=True)
    assert "done" in say(f"DONE {number} take-command", WOLF)
    sid = draft(client, comms, number)["id"]
    assert submit(client, comms, number, sid).status_code == 200
    assert decide(client, legal, number, sid, 1, HOLDING, checklist=[]).status_code == 200
    assert publish(client, comms, number, sid, 1, HOLDING).status_code == 201
    assert _states(client, wolf, number)["holding-statement"] == "pending"  # not ready yet
    assert "done" in say(f"DONE {number} assess-scope", WOLF)
    states = _states(client, wolf, number)
    assert states["holding-statement"] == "done"  # finished as it became ready
    assert states["brief-frontline"] == "ready"  # and its dependents moved on
    answer = say(f"DONE {number} brief-legal", LEGAL)  # legal owns this step
    assert "brief-legal) done" in answer, answer
    assert _states(client, wolf, number)["brief-legal"] == "done"


def test_a_ready_statement_step_finishes_on_publication(tw_app, tw_jobs, standin, monkeypatch):
    from service.playbooks import runs

    policy(tw_app, [{"targets": [{"role": "nobody"}], "delay_seconds": 3600}])
    wolf = contact(tw_app, "Winston Wolf", {Role.WOLF}, WOLF)
    legal = contact(tw_app, "Lena Legal", {Role.LEGAL}, LEGAL)
    comms = contact(tw_app, "Cora Comms", {Role.COMMS}, COMMS)
    client = tw_app.test_client()
    number = declare(client, wolf, wolf_id=wolf["id"])
    for step in ("take-command", "assess-scope"):
        sms_webhook(client, f"DONE {number} {step}", WOLF, token=standin.auth_token)
    assert _states(client, wolf, number)["holding-statement"] == "ready"
    sid = draft(client, comms, number)["id"]
    submit(client, comms, number, sid)
    calls = []
    real = runs.complete_by_statement
    monkeypatch.setattr(
        runs, "complete_by_statement", lambda s, **kw: calls.append(kw["verb"]) or 0
    )
    assert decide(client, legal, number, sid, 1, HOLDING, checklist=[]).status_code == 200
    assert _states(client, wolf, number)["holding-statement"] == "ready"  # approval skipped
    monkeypatch.setattr(runs, "complete_by_statement", real)
    assert publish(client, comms, number, sid, 1, HOLDING).status_code == 201
    assert calls == ["approved"]
    assert _states(client, wolf, number)["holding-statement"] == "done"
