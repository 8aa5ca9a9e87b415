"""Overdue steps remind their owner on time (real worker), then the Wolf; the sweep repairs."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from service import create_app
from service.auth.roles import Role
from service.db import set_clock
from service.extensions import db
from service.paging import links
from service.paging.messages import MAX_SEGMENTS
from service.paging.models import Page, PageLink
from service.paging.segments import count_segments
from service.playbooks import deadlines
from service.playbooks.jobs import notify_ready
from service.playbooks.models import PlaybookRun
from tests.paging.fixtures import contact, twilio_settings, wait_for
from tests.playbooks.test_runs import declare, drill_dir, states, step_action

WOLF_PHONE, REX_PHONE = "+14155550301", "+14155550302"


def _team(tw):
    lead = contact(tw, "Wes Wolf", {Role.WOLF}, WOLF_PHONE)
    rex = contact(tw, "Rex Resp", {Role.RESPONDER}, REX_PHONE)
    return lead, rex


def test_overdue_reminder_fires_on_time_with_a_real_worker(
    app, standin, worker_process, tmp_path: Path, clock
):
    tw = create_app(twilio_settings(standin, PLAYBOOKS_DIR=str(drill_dir(tmp_path, "1m"))))
    lead, rex = _team(tw)
    worker_process()
    clock.now = datetime.now(UTC) - timedelta(seconds=52)  # opened 52 s ago: due in 8 s
    number = declare(tw.test_client(), lead)
    set_clock(None)
    due = clock.now + timedelta(minutes=1)

    def reminders():
        return [
            m
            for m in standin.messages
            if m.params["To"] == REX_PHONE and "overdue" in m.params["Body"]
        ]

    got = wait_for(reminders, 15)[0]
    received = datetime.fromtimestamp(got.received_at, UTC)
    assert timedelta(0) <= received - due <= timedelta(seconds=4), received - due
    assert f"DONE {number} 1" in got.params["Body"]
    client = tw.test_client()
    events = client.get(f"/api/v1/incidents/{number}/timeline", headers=lead["headers"])
    reminder = [e for e in events.get_json()["events"] if e["kind"] == "step.reminder"]
    assert reminder[0]["data"]["to"] == "owner" and reminder[0]["data"]["step"] == "assess"
    time.sleep(1)
    assert len(reminders()) == 1  # once per due time
    assert states(client, lead, number)["assess"] == "ready"


def test_sweep_repairs_lost_reminders_and_tells_the_wolf_after_the_grace(
    app, standin, tmp_path: Path, clock
):
    from workers.runtime import make_worker

    tw = create_app(twilio_settings(standin, PLAYBOOKS_DIR=str(drill_dir(tmp_path, "30m"))))
    lead, rex = _team(tw)

    def jobs():
        make_worker(tw, simple=True).work(burst=True, logging_level="WARNING")

    number = declare(tw.test_client(), lead)
    with tw.app_context():
        assert deadlines.sweep(now=clock.now) == {"step_reminders": 0, "wolf_reminders": 0}
        clock.advance(minutes=31)  # the timer in Redis is "lost": it would fire in real time
        assert deadlines.sweep(now=clock.now)["step_reminders"] == 1
    jobs()
    with tw.app_context():
        assert deadlines.sweep(now=clock.now)["step_reminders"] == 0
        clock.advance(minutes=8)  # due + 9m: grace is half of 30m, capped at 10m
        assert deadlines.sweep(now=clock.now)["wolf_reminders"] == 0
        clock.advance(minutes=2)
        assert deadlines.sweep(now=clock.now)["wolf_reminders"] == 1
    jobs()
    texts = [(m.params["To"], m.params["Body"]) for m in standin.messages]
    assert any(to == REX_PHONE and "overdue" in body for to, body in texts)
    assert any(to == WOLF_PHONE and f"#{number}: step 1" in body for to, body in texts), texts


def test_a_step_notice_still_unsent_when_the_step_is_done_is_dropped(app, standin, tmp_path):
    from workers.runtime import make_worker

    tw = create_app(twilio_settings(standin, PLAYBOOKS_DIR=str(drill_dir(tmp_path, "30m"))))
    lead, rex = _team(tw)
    client = tw.test_client()
    number = declare(client, lead)
    with tw.app_context():  # the deferred job queues Rex's "step for you" notice, unsent yet
        with db.transaction() as session:
            run = session.scalar(select(PlaybookRun).where(PlaybookRun.incident_id == number))
            ready = [s.id for s in run.steps if s.state == "ready"]
        assert notify_ready(run.id, ready) == 1
    with tw.app_context(), db.transaction() as session:
        waiting = session.scalars(select(Page).where(Page.user_id == rex["id"])).all()
        assert [(p.status, p.kind) for p in waiting] == [("pending", "notify")]
        assert waiting[0].step_run_ids
    assert step_action(client, lead, number, "assess", "done").status_code == 200
    make_worker(tw, simple=True).work(burst=True, logging_level="WARNING")
    assert [m for m in standin.messages if m.params["To"] == REX_PHONE] == []
    events = client.get(f"/api/v1/incidents/{number}/timeline", headers=lead["headers"])
    dropped = [e for e in events.get_json()["events"] if e["kind"] == "page.dropped"]
    assert [e["data"]["reason"] for e in dropped] == ["step 1 assess is done"]
    assert any(m.params["To"] == WOLF_PHONE for m in standin.messages)  # the page still went


LINK = re.compile(r"https://firebreak\.test/r/([A-Za-z0-9_-]{22})")
LONG = "Call the agency, the retailer and the safety regulator before the evening news runs"


def _owner_of(app, token: str) -> int:
    with app.app_context():
        return db.session.scalars(
            select(PageLink.user_id).where(PageLink.token_hash == links.digest(token))
        ).one()


def test_step_notices_and_reminders_carry_the_persons_link_within_two_segments(
    app, standin, tmp_path: Path, clock
):
    from workers.runtime import make_worker

    folder = drill_dir(tmp_path, "30m")  # the step's title as long as a title may be
    (folder / "drill.yaml").write_text(
        (folder / "drill.yaml").read_text().replace("Assess the storm", LONG)
    )
    tw = create_app(twilio_settings(standin, PLAYBOOKS_DIR=str(folder)))
    lead, rex = _team(tw)
    client = tw.test_client()
    number = declare(client, lead)

    def jobs():
        make_worker(tw, simple=True).work(burst=True, logging_level="WARNING")

    with tw.app_context():
        run_id = db.session.scalar(select(PlaybookRun.id).where(PlaybookRun.incident_id == number))
        ready = [s.id for s in db.session.get_one(PlaybookRun, run_id).steps if s.state == "ready"]
        assert notify_ready(run_id, ready) == 1  # the deferred "step for you" notice
    jobs()
    with tw.app_context():
        clock.advance(minutes=41)  # past the due time and the grace
        assert deadlines.sweep(now=clock.now)["step_reminders"] == 1
    jobs()
    with tw.app_context():
        assert deadlines.sweep(now=clock.now)["wolf_reminders"] == 1
    jobs()
    to_rex = [m.params["Body"] for m in standin.messages if m.params["To"] == REX_PHONE]
    to_wolf = [m.params["Body"] for m in standin.messages if m.params["To"] == WOLF_PHONE]
    notice, overdue = to_rex
    told = next(b for b in to_wolf if f"#{number}: step 1" in b)
    assert notice.startswith(f"#{number} step for you: 1 Call the agency")
    assert notice.endswith(f"Reply DONE {number} 1 when done.")
    assert overdue.startswith(f"#{number} overdue: step 1") and f"DONE {number} 1" in overdue
    for body, owner in ((notice, rex), (overdue, rex), (told, lead)):
        assert count_segments(body) <= MAX_SEGMENTS, body
        match = LINK.search(body)
        assert match, body
        assert _owner_of(tw, match.group(1)) == owner["id"]  # each person's own link
        assert client.get(f"/r/{match.group(1)}").status_code == 200
