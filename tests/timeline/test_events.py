"""Typed timeline events: one class per kind, the stored JSON unchanged, bad payloads refused."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from service.auth.roles import Role
from service.extensions import db
from service.postmortem.sentences import SENTENCES, describe
from service.timeline import events as ev
from service.timeline import service as timeline
from service.timeline.events import EVENT_TYPES, EventDataError, decode
from service.timeline.models import EventKind, TimelineEvent
from tests.paging.fixtures import contact
from tests.web.story import firestorm

WHO = ev.UserRef(user_id=3, user="Winston Wolf")
TO = ev.Recipient(user="Lena Legal", user_id=4)
SIGNAL = {
    "signal_id": 7,
    "window": ["2026-11-23T09:00:00.000000Z", "2026-11-23T09:01:00.000000Z"],
    "observed": 120.0,
    "expected": 10.5,
    "ratio": 11.43,
    "z": 8.25,
    "negative_share": 0.62,
    "negative_baseline": 0.2,
    "reach": 51000,
    "severity": "sev2",
    "evidence": [{"text": "never again", "reach": 50000, "sentiment": -0.8}],
}
DECISION = {
    "statement_id": 1,
    "version": 2,
    "sha256": "ab" * 32,
    "role": "legal",
    "comment": "",
    "checklist": ["facts"],
    "status": "pending",
    "waiting_for": ["comms"],
}
CHASE = {"statement_id": 1, "version": 2, "waiting_for": ["legal"], "notified": [TO], "skipped": []}
STEP = {"run_id": 5, "step": "assess", "position": 1}

#: one sample of every kind (the optional fields set where a writer sets them)
SAMPLES: list[ev.EventData] = [
    ev.IncidentDeclared(title="Recall rumour", severity="sev3", source="manual"),
    ev.IncidentOpened(title="Acme Kettles firestorm", severity="sev2", source="detector"),
    ev.SignalDetected(**SIGNAL),
    ev.SignalUpdated(**{**SIGNAL, "ratio": None}),
    ev.IncidentAcknowledged(from_="triggered", to="acknowledged", note="on it"),
    ev.IncidentResolved(from_="acknowledged", to="resolved"),
    ev.IncidentClosed(from_="resolved", to="closed"),
    ev.IncidentReopened(from_="resolved", to="triggered", note="second wave"),
    ev.SeverityChanged(from_="sev3", to="sev1", reason="press calls"),
    ev.DetailsChanged(title=ev.Change(from_="t", to="Product recall rumour")),
    ev.RoleAssigned(role="wolf", user_id=9, user="Bea Backup", replaces=WHO),
    ev.NoteAdded(text="Holding statement drafted"),
    ev.PageQueued(
        page_id=1, to="Winston Wolf", user_id=3, page_kind="page", channel="sms", level=1, round=1
    ),
    ev.PageSent(page_id=1, to="Winston Wolf", provider_id="SM1", segments=None, bundled_with=[]),
    ev.PageStatusChanged(page_id=1, from_="queued", to="delivered", error_code=None),
    ev.PageFailed(page_id=1, to="W", status="failed", error="bad", error_code=21211, channel="sms"),
    ev.PageSkipped(user="Nora", user_id=8, reason="no verified phone"),
    ev.PageDropped(page_id=3, to="Lena", page_kind="notify", reason="incident #1 was resolved"),
    ev.Escalated(level=2, round=1, paged=["Bea Backup"], next_level_at="2026-11-23T09:05Z"),
    ev.EscalationStopped(reason="acknowledged", level=1, cancelled_pages=[2, 3]),
    ev.EscalationExhausted(rounds=2, reason="page 4 failed"),
    ev.EscalationFellBack(policy="brand-a", fallback="built-in", rounds=2, reason="timer"),
    ev.SmsReplied(body="1A", command="acknowledge"),
    ev.PlaybookAttached(
        run_id=6,
        playbook_id="sev1",
        version=2,
        title="Sev 1",
        sha256="cd" * 32,
        reason="matched its triggers",
        steps=4,
        replaces=ev.PlaybookRef(run_id=5, playbook_id="default", version=1),
    ),
    ev.StepChanged(**STEP, from_="ready", to="done", action="done"),
    ev.StepReminded(**STEP, to="owner", due_at="2026-11-23T09:10:00+00:00", users=[WHO]),
    ev.StatementDrafted(
        statement_id=1, purpose="holding", channel="twitter", version=1, sha256="ab" * 32
    ),
    ev.StatementSubmitted(
        statement_id=1,
        version=1,
        sha256="ab" * 32,
        required=["legal"],
        due_at="2026-11-23T09:30:00.000000Z",
        notified=[TO],
        skipped=[],
    ),
    ev.StatementApproved(**DECISION),
    ev.StatementRejected(**{**DECISION, "status": "rejected", "comment": "too defensive"}),
    ev.StatementPublished(statement_id=1, version=1, sha256="ab" * 32, channel="twitter", url=None),
    ev.StatementReminded(**CHASE),
    ev.StatementEscalated(**CHASE),
]
SAMPLE = {s.kind: s for s in SAMPLES}


def test_every_kind_has_exactly_one_class_and_a_sentence():
    assert set(EVENT_TYPES) == set(EventKind)
    assert len(set(EVENT_TYPES.values())) == len(EventKind)
    assert all(cls.kind is kind for kind, cls in EVENT_TYPES.items())
    assert set(SENTENCES) == set(EVENT_TYPES.values())
    assert "statement.event" not in {k.value for k in EventKind}  # never written: gone


def test_samples_cover_every_kind():
    assert sorted(s.kind for s in SAMPLES) == sorted(EventKind)


@pytest.mark.parametrize("event", SAMPLES, ids=lambda e: e.kind.value)
def test_round_trip_through_the_stored_json(event):
    stored = json.loads(json.dumps(event.to_data()))
    assert stored == event.to_data()
    assert decode(event.kind.value, stored) == event
    assert describe(event.kind.value, stored) not in ("", event.kind.value)


def test_stored_shapes_keep_the_old_keys_in_the_old_order():
    def keys(event: ev.EventData) -> list[str]:
        return list(event.to_data())

    assert ev.IncidentAcknowledged(from_="a", to="b").to_data() == {"from": "a", "to": "b"}
    assert keys(ev.IncidentAcknowledged(from_="a", to="b", note="n")) == ["from", "to", "note"]
    assert keys(ev.SeverityChanged(from_="a", to="b")) == ["from", "to"]
    assert ev.DetailsChanged(
        title=ev.Change(from_="a", to="b"), description=ev.Change(from_="", to="d")
    ).to_data() == {"title": {"from": "a", "to": "b"}, "description": {"from": "", "to": "d"}}
    assert ev.RoleAssigned(role="wolf", user_id=1, user="W").to_data() == {
        "role": "wolf",
        "user_id": 1,
        "user": "W",
    }
    assert keys(SAMPLE[EventKind.PAGE_QUEUED]) == [
        "page_id",
        "to",
        "user_id",
        "kind",
        "channel",
        "level",
        "round",
    ]
    notice = ev.PageQueued(
        page_id=2, to="L", user_id=4, page_kind="notify", channel="sms", level=None, round=None
    )
    assert notice.to_data()["level"] is None and notice.to_data()["kind"] == "notify"
    sms = ev.PageSent(page_id=1, to="W", provider_id="SM1", segments=None, bundled_with=[2])
    assert sms.to_data() == {
        "page_id": 1,
        "to": "W",
        "provider_id": "SM1",
        "segments": None,  # an SMS always records its segments, even when unknown
        "bundled_with": [2],
    }
    call = ev.PageSent(page_id=1, to="W", channel="voice", provider_id="CA1")
    assert keys(call) == ["page_id", "to", "channel", "provider_id"]
    assert keys(ev.StepChanged(**STEP, from_="pending", to="ready")) == [
        "run_id",
        "step",
        "position",
        "from",
        "to",
    ]
    approved = ev.StepChanged(**STEP, from_="ready", to="done", statement_id=1, reason="r")
    assert keys(approved)[-2:] == ["statement_id", "reason"]
    note = ev.NoteAdded(text="t", step="assess", position=1, run_id=5)
    assert keys(note) == ["text", "step", "position", "run_id"]
    assert keys(SAMPLE[EventKind.STATEMENT_SUBMITTED])[-2:] == ["notified", "skipped"]
    assert SAMPLE[EventKind.STATEMENT_SUBMITTED].to_data()["notified"] == [
        {"user": "Lena Legal", "user_id": 4}
    ]
    assert SAMPLE[EventKind.STEP_REMINDER].to_data()["users"] == [
        {"user_id": 3, "user": "Winston Wolf"}
    ]


def test_an_unknown_kind_is_refused():
    with pytest.raises(EventDataError, match="unknown event kind 'statement.event'"):
        decode("statement.event", {})
    with pytest.raises(EventDataError, match="unknown event kind"):
        decode("incident.exploded", {"text": "x"})


def test_a_missing_unknown_or_ill_typed_field_is_refused():
    with pytest.raises(EventDataError, match="missing field 'text'"):
        decode("note.added", {})
    with pytest.raises(EventDataError, match="missing field 'from'"):
        decode("incident.resolved", {"to": "resolved"})
    with pytest.raises(EventDataError, match="missing field 'level'"):  # nullable, not optional
        decode(
            "page.queued",
            {k: v for k, v in SAMPLE[EventKind.PAGE_QUEUED].to_data().items() if k != "level"},
        )
    with pytest.raises(EventDataError, match="unknown field"):
        decode("note.added", {"text": "x", "colour": "red"})
    with pytest.raises(EventDataError, match="'user_id' must be int"):
        decode("incident.role_assigned", {"role": "wolf", "user_id": "7", "user": "W"})
    with pytest.raises(EventDataError, match=r"replaces.*missing field 'user'"):
        decode(
            "incident.role_assigned",
            {"role": "w", "user_id": 7, "user": "W", "replaces": {"user_id": 1}},
        )
    with pytest.raises(EventDataError, match=r"'paged'\[1\] must be str"):
        decode("escalation.level", {**SAMPLE[EventKind.ESCALATED].to_data(), "paged": ["a", 2]})
    with pytest.raises(EventDataError, match="must be int"):
        ev.EscalationStopped(reason="r", level=True, cancelled_pages=[])  # a bool is not a level
    with pytest.raises(EventDataError, match="nothing changed"):
        ev.DetailsChanged()
    with pytest.raises(TypeError):
        ev.NoteAdded()  # type: ignore[call-arg]
    assert describe("note.added", {}) == "note.added"  # readers fall back to the kind


def test_append_takes_typed_events_only(app):
    with app.app_context():
        actor = timeline.Actor.system("test")
        for bad in ({"text": "x"}, ev.UserRef(user_id=1, user="u"), None):
            with pytest.raises(TypeError, match="typed"):
                timeline.append(db.session, incident_id=1, actor=actor, event=bad)
        with pytest.raises(TypeError, match="no kind"):
            ev.Transitioned(from_="a", to="b")  # the base of four kinds is none of them
        with pytest.raises(TypeError):
            timeline.append(  # the old signature
                db.session, incident_id=1, kind=EventKind.NOTE, actor=actor, data={"text": "x"}
            )


def test_a_real_flow_stores_the_old_dicts(app, client, people, admin, clock, run_jobs, monkeypatch):
    story = firestorm(app, client, people, admin, clock, run_jobs, monkeypatch)
    n, wolf = story.number, story.wolf
    bea = contact(app, "Bea Backup", {Role.WOLF}, "+14155550103")
    h = wolf["headers"]
    resp = client.put(f"/api/v1/incidents/{n}/roles/wolf", json={"user_id": bea["id"]}, headers=h)
    assert resp.status_code == 200, resp.get_json()
    resp = client.post(f"/api/v1/incidents/{n}/reopen", json={"note": "second wave"}, headers=h)
    assert resp.status_code == 200, resp.get_json()
    with app.app_context():
        rows = list(
            db.session.scalars(
                select(TimelineEvent)
                .where(TimelineEvent.incident_id == n)
                .order_by(TimelineEvent.seq)
            )
        )
        assert timeline.verify(db.session, incident_id=n).intact
    for row in rows:  # every stored payload decodes and re-encodes to itself, key order included
        assert list(decode(row.kind, row.data).to_data().items()) == list(row.data.items()), (
            row.kind
        )
    by_kind: dict[str, list[dict]] = {}
    for row in rows:
        by_kind.setdefault(row.kind, []).append(row.data)

    signal = by_kind["signal.detected"][0]
    assert list(signal) == [
        "signal_id", "window", "observed", "expected", "ratio", "z", "negative_share",
        "negative_baseline", "reach", "severity", "evidence",
    ]  # fmt: skip
    assert len(signal["window"]) == 2 and all(isinstance(t, str) for t in signal["window"])
    assert isinstance(signal["evidence"], list) and signal["evidence"]

    assigned = [d for d in by_kind["incident.role_assigned"] if d["role"] == "wolf"]
    assert assigned[0] == {"role": "wolf", "user_id": wolf["id"], "user": "Winston Wolf"}
    assert assigned[-1] == {
        "role": "wolf",
        "user_id": bea["id"],
        "user": "Bea Backup",
        "replaces": {"user_id": wolf["id"], "user": "Winston Wolf"},
    }
    assert list(assigned[-1]["replaces"]) == ["user_id", "user"]

    assert by_kind["incident.reopened"] == [
        {"from": "resolved", "to": "triggered", "note": "second wave"}
    ]
    assert by_kind["incident.acknowledged"][0] == {"from": "triggered", "to": "acknowledged"}

    queued = by_kind["page.queued"][0]
    assert list(queued) == ["page_id", "to", "user_id", "kind", "channel", "level", "round"]
    assert {k: v for k, v in queued.items() if k != "page_id"} == {
        "to": "Winston Wolf",
        "user_id": wolf["id"],
        "kind": "page",
        "channel": "sms",
        "level": 1,
        "round": 1,
    }
    sent = by_kind["page.sent"][0]
    assert list(sent) == ["page_id", "to", "provider_id", "segments", "bundled_with"]
    assert sent["page_id"] == queued["page_id"] and sent["to"] == "Winston Wolf"
    assert isinstance(sent["provider_id"], str) and sent["bundled_with"] == []
