"""The onset of a firestorm: where the run of unusual buckets before the fired one began."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from service.auth.roles import Role
from service.detection.models import Signal
from service.extensions import db
from service.postmortem.metrics import incident_metrics
from service.timeline.service import format_time
from tests.detection.firestorm import Replay

BASE = 10.0


@pytest.fixture
def replay(client, admin, people, clock, run_jobs):
    client.post(
        "/api/v1/monitors", json={"key": "acme", "name": "Acme Kettles"}, headers=admin["headers"]
    )
    feeder = people.make(Role.INGEST, name="Listening tool")
    r = Replay(client, feeder, clock, run_jobs)
    r.backfill(minutes=8 * 60, per_minute=BASE)
    return r


def test_a_spike_that_ramps_before_firing_has_its_onset_where_the_ramp_began(app, replay, reviewer):
    for _ in range(10):
        replay.step(BASE, 0.2)
    ramp_start = replay.start + timedelta(minutes=replay.minute)
    for _ in range(4):  # loud but not (yet) negative: unusual volume, nothing opens
        replay.step(BASE * 4, 0.1, positive_share=0.5)
    assert replay.incidents(reviewer) == []
    fired_bucket = replay.start + timedelta(minutes=replay.minute)
    replay.step(BASE * 8, 0.7)  # now it turns negative: the detector fires on this bucket
    (incident,) = replay.incidents(reviewer)

    with app.app_context():
        signal = db.session.query(Signal).filter_by(incident_id=incident["number"]).one()
        assert signal.details["bucket_start"] == format_time(fired_bucket)
        assert signal.details["episode_start"] == format_time(ramp_start)
        metrics = incident_metrics(db.session, incident_id=incident["number"])
    assert metrics["onset_at"] == ramp_start < fired_bucket
    opened = datetime.fromisoformat(incident["opened_at"])
    assert metrics["time_to_detect"] == pytest.approx((opened - ramp_start).total_seconds(), abs=1)
    assert metrics["time_to_detect"] > 4 * 60


def test_a_sudden_spike_has_its_onset_at_the_fired_bucket(app, replay, reviewer):
    for _ in range(10):
        replay.step(BASE, 0.2)
    fired_bucket = replay.start + timedelta(minutes=replay.minute)
    replay.step(BASE * 8, 0.7)
    (incident,) = replay.incidents(reviewer)
    with app.app_context():
        signal = db.session.query(Signal).filter_by(incident_id=incident["number"]).one()
    assert signal.details["episode_start"] == signal.details["bucket_start"]
    assert signal.details["episode_start"] == format_time(fired_bucket)
