"""The mentions API: per-item results, idempotent counting, clear rejections."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from rq import Queue

from service.auth.roles import Role
from service.detection import due
from service.detection.buckets import BucketStore
from service.detection.schemas import MentionSchema
from service.extensions import redis
from service.queues import QueueName
from tests.helpers import assert_problem


@pytest.fixture
def acme(client, admin):
    resp = client.post(
        "/api/v1/monitors", json={"key": "acme", "name": "Acme"}, headers=admin["headers"]
    )
    assert resp.status_code == 201
    return resp.get_json()


@pytest.fixture
def feeder(people):
    return people.make(Role.INGEST, name="Listening tool")


def mention(i: int, **extra):
    now = datetime.now(UTC)
    return {
        "source": "twitter",
        "source_id": f"t{i}",
        "text": "Acme kettle exploded, awful",
        "author": f"user{i}",
        "author_reach": 1000 + i,
        "url": f"https://x.com/u/{i}",
        "created_at": now.isoformat(),
        **extra,
    }


def counts(app, monitor_id=1):
    with app.app_context():
        store = BucketStore(redis.client, ttl_seconds=3600)
        keys = redis.client.keys(f"fb:m:{monitor_id}:b:*")
        starts = sorted(int(k.decode().rsplit(":", 1)[1]) for k in keys)
        buckets = store.fetch(monitor_id, starts)
    return sum(b.count for b in buckets), sum(b.negative for b in buckets)


@pytest.mark.smoke
def test_batch_is_counted_once_however_often_retried(app, client, acme, feeder):
    batch = {"mentions": [mention(i) for i in range(20)]}
    first = client.post("/api/v1/monitors/acme/mentions", json=batch, headers=feeder["headers"])
    assert first.status_code == 200, first.get_json()
    assert first.get_json()["accepted"] == 20 and first.get_json()["statuses"] == ["accepted"] * 20
    for _ in range(3):
        again = client.post(
            "/api/v1/monitors/acme/mentions", json=batch, headers=feeder["headers"]
        ).get_json()
        assert again["accepted"] == 0 and again["duplicates"] == 20
    assert counts(app) == (20, 20)


def test_bad_items_rejected_with_index_field_reason_good_ones_kept(app, client, acme, feeder):
    now = datetime.now(UTC)
    items = [
        mention(0),
        mention(1, created_at=(now - timedelta(days=9)).isoformat()),
        mention(2, created_at=(now + timedelta(hours=1)).isoformat()),
        mention(3, created_at="2026-11-23T10:00:00"),
        mention(4, text="x" * 1001),
        mention(5, sentiment=1.5),
        mention(6, author_reach=-3),
        {**mention(7), "colour": "red"},
        mention(8, url="ftp://nope"),
        "not an object",
        mention(0),  # same source id as item 0, in the same batch
        {k: v for k, v in mention(11).items() if k != "source_id"},
    ]
    body = client.post(
        "/api/v1/monitors/acme/mentions", json={"mentions": items}, headers=feeder["headers"]
    ).get_json()
    assert body["statuses"][0] == "accepted" and body["statuses"][10] == "duplicate"
    assert body["statuses"][7] == "accepted"  # a tool's own extra field is ignored
    assert body["accepted"] == 2 and body["duplicates"] == 1 and body["rejected"] == 9
    reasons = {(e["index"], e["field"]): e["reason"] for e in body["errors"]}
    assert "horizon" in reasons[(1, "created_at")]
    assert "future" in reasons[(2, "created_at")]
    assert "UTC offset" in reasons[(3, "created_at")]
    assert "1000" in reasons[(4, "text")]
    assert (5, "sentiment") in reasons and (6, "author_reach") in reasons
    assert not any(index == 7 for index, _ in reasons)
    assert (8, "url") in reasons and (9, "") in reasons and (11, "source_id") in reasons
    assert counts(app) == (2, 2)


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"mentions": "nope"}, 422),
        ({}, 422),
        ({"mentions": [{"source": "x"}]}, 422),
    ],
)
def test_malformed_batches(app, client, acme, feeder, unchanged, body, status):
    unchanged.mark()
    assert_problem(
        client.post("/api/v1/monitors/acme/mentions", json=body, headers=feeder["headers"]), status
    )
    unchanged.check()
    assert counts(app) == (0, 0)


def test_a_batch_refused_only_by_the_clock_is_200(app, client, acme, feeder):
    """Well-formed mentions outside the detector's window are listed as rejected, not a 422:
    the request is what the document allows, the clock refuses them."""
    now = datetime.now(UTC)
    items = [
        mention(1, created_at=(now - timedelta(days=9)).isoformat()),
        mention(2, created_at=(now + timedelta(hours=1)).isoformat()),
        mention(3, author_reach=7.0),  # a JSON integer; but from 1969: a broken rule
    ]
    items[2]["created_at"] = "1969-12-31T23:00:00+00:00"
    resp = client.post(
        "/api/v1/monitors/acme/mentions", json={"mentions": items[:2]}, headers=feeder["headers"]
    )
    assert resp.status_code == 200 and resp.get_json()["rejected"] == 2
    assert_problem(
        client.post(
            "/api/v1/monitors/acme/mentions", json={"mentions": items}, headers=feeder["headers"]
        ),
        422,
        field="mentions.2.created_at",
    )
    assert counts(app) == (0, 0)


def test_an_integral_float_reach_is_an_integer(client, acme, feeder):
    batch = {"mentions": [mention(1, author_reach=7.0)]}
    resp = client.post("/api/v1/monitors/acme/mentions", json=batch, headers=feeder["headers"])
    assert resp.status_code == 200 and resp.get_json()["accepted"] == 1


def test_oversized_batch_is_413_and_counts_nothing(app, client, acme, feeder):
    items = [mention(i) for i in range(1001)]
    assert_problem(
        client.post(
            "/api/v1/monitors/acme/mentions", json={"mentions": items}, headers=feeder["headers"]
        ),
        413,
        field="mentions",
    )
    assert counts(app) == (0, 0)


def test_unknown_monitor_wrong_role_and_inactive(client, acme, feeder, reviewer, admin):
    batch = {"mentions": [mention(1)]}
    assert_problem(
        client.post("/api/v1/monitors/nope/mentions", json=batch, headers=feeder["headers"]), 404
    )
    assert_problem(
        client.post("/api/v1/monitors/acme/mentions", json=batch, headers=reviewer["headers"]), 403
    )
    assert_problem(client.get("/api/v1/incidents", headers=feeder["headers"]), 403)
    client.patch("/api/v1/monitors/acme", json={"active": False}, headers=admin["headers"])
    assert_problem(
        client.post("/api/v1/monitors/acme/mentions", json=batch, headers=feeder["headers"]), 409
    )


def test_sentiment_scored_when_absent_given_when_present(app, client, acme, feeder):
    items = [
        mention(1, text="I love my new Acme kettle, wonderful!"),
        mention(2, text="Acme kettle exploded. Terrible, dangerous."),
        mention(3, text="I love it", sentiment=-0.9),
    ]
    client.post(
        "/api/v1/monitors/acme/mentions", json={"mentions": items}, headers=feeder["headers"]
    )
    assert counts(app) == (3, 2)


def test_fast_validator_agrees_with_the_documented_schema():
    """Every item the fast path accepts, the marshmallow schema accepts too, and vice versa."""
    from service.detection.ingest import Limits, validate_item

    now = datetime.now(UTC)
    good = mention(1)
    cases = [
        good,
        {**good, "author": None},
        {**good, "sentiment": 0},
        {**good, "url": None},
        {**good, "author_reach": True},
        {**good, "sentiment": "0.5"},
        {**good, "text": ""},
        {**good, "source": "Twitter"},
        {**good, "source_id": 5},
        {**good, "extra": 1},
        {**good, "created_at": "yesterday"},
        {**good, "author_reach": 2.5},
        {**good, "url": "https://x.com/" + "a" * 2100},
    ]
    schema = MentionSchema()
    for case in cases:
        fast, _errors = validate_item(case, now=now, limits=Limits())
        reference = schema.validate(case)
        assert (fast is not None) == (not reference), (case, reference)


def test_repeated_texts_scored_once_per_batch_and_evaluation_queued_once(app, client, acme, feeder):
    """A batch scores each distinct text once and queues one evaluation, not one per batch."""
    from service.detection import sentiment

    calls: list[str] = []

    class Counting:
        def score(self, text, *, lexicon=None):
            calls.append(text)
            return -0.8

    previous = sentiment.default_scorer()
    sentiment.install_scorer(Counting())
    try:
        batch = {"mentions": [mention(i, text=f"awful {i % 3}") for i in range(12)]}
        body = client.post(
            "/api/v1/monitors/acme/mentions", json=batch, headers=feeder["headers"]
        ).get_json()
        assert body["accepted"] == 12 and sorted(calls) == ["awful 0", "awful 1", "awful 2"]
        with app.app_context():
            detect = Queue(QueueName.DETECT.value, connection=redis.client)
            assert redis.client.zcard(due.DUE_KEY) == 1 and detect.count == 1
        again = {"mentions": [mention(i) for i in range(12, 14)]}
        second = client.post(
            "/api/v1/monitors/acme/mentions", json=again, headers=feeder["headers"]
        )
        assert second.get_json()["accepted"] == 2  # counted; the pending evaluation covers it
        with app.app_context():
            assert redis.client.zcard(due.DUE_KEY) == 1 and detect.count == 1
    finally:
        sentiment.install_scorer(previous)


@pytest.mark.parametrize(
    "created_at", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00", "2026-02-30T00:00Z"]
)
def test_one_mention_with_an_impossible_time_is_rejected_alone(client, acme, feeder, created_at):
    batch = {"mentions": [mention(1), mention(2, created_at=created_at), mention(3)]}
    resp = client.post("/api/v1/monitors/acme/mentions", json=batch, headers=feeder["headers"])
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert body["accepted"] == 2 and body["rejected"] == 1
    assert [(e["index"], e["field"]) for e in body["errors"]] == [(1, "created_at")]
    again = client.post("/api/v1/monitors/acme/mentions", json=batch, headers=feeder["headers"])
    assert again.get_json()["duplicates"] == 2  # a retry counts the good ones once


def test_a_tools_own_fields_are_ignored_not_a_reason_to_drop_the_mention(app, client, acme, feeder):
    # what an export from a listening product carries besides ours: its ids, language, metrics
    extra = {"id": 991, "lang": "en", "metrics": {"likes": 3, "tags": ["kettle"]}, "nps": None}
    body = client.post(
        "/api/v1/monitors/acme/mentions",
        json={"mentions": [{**mention(0), **extra}, {**mention(1), "platform_score": 0.4}]},
        headers=feeder["headers"],
    ).get_json()
    assert body["accepted"] == 2 and body["errors"] == []
    assert counts(app) == (2, 2)
    spec = client.get("/api/v1/openapi.json").get_json()["components"]["schemas"]
    assert spec["Mention"]["additionalProperties"] is True  # any JSON value: never read
