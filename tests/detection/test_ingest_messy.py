"""What listening tools really send: broken text repaired and reported, long posts read from
their start, envelope members of a tool's own ignored."""

from __future__ import annotations

import json
import time

import pytest

from service.auth.roles import Role
from service.detection import sentiment
from service.detection.buckets import BucketStore
from service.detection.ingest import MAX_TEXT
from service.extensions import redis
from tests.detection.test_ingest_api import counts, mention
from tests.helpers import assert_problem

URL = "/api/v1/monitors/acme/mentions"


@pytest.fixture
def acme(client, admin):
    resp = client.post(
        "/api/v1/monitors", json={"key": "acme", "name": "Acme"}, headers=admin["headers"]
    )
    assert resp.status_code == 201


@pytest.fixture
def feeder(people):
    return people.make(Role.INGEST, name="Listening tool")


def post_raw(client, feeder, body: dict):
    """POST a body as json.dumps writes it (a lone surrogate escaped as \\ud83d)."""
    return client.post(
        URL, data=json.dumps(body), content_type="application/json", headers=feeder["headers"]
    )


def stored_texts(app, monitor_id: int = 1) -> list[str]:
    """The texts kept as evidence in Redis."""
    with app.app_context():
        keys = redis.client.keys(f"fb:m:{monitor_id}:b:*")
        starts = [int(k.decode().rsplit(":", 1)[1]) for k in keys]
        store = BucketStore(redis.client, ttl_seconds=3600)
        return sorted(item["text"] for item in store.evidence(monitor_id, starts, limit=50))


def test_nul_and_lone_surrogates_are_repaired_and_reported(app, client, acme, feeder, admin):
    items = [
        mention(0, text="Acme kettle\u0000 exploded, awful \ud83d", author="ann\u0000"),
        mention(1),  # a good neighbour
        mention(2, text="Acme kettle exploded, awful \ud83d\ude21"),  # a whole emoji: left alone
        mention(3, source_id="t\u00003"),
    ]
    resp = post_raw(client, feeder, {"mentions": items})
    assert resp.status_code == 200, resp.get_data(as_text=True)
    body = resp.get_json()
    assert body["accepted"] == 4 and body["errors"] == []
    assert body["warnings"] == [
        {
            "index": 0,
            "field": "text",
            "action": "removed 1 NUL character(s); replaced 1 lone surrogate(s) with U+FFFD",
        },
        {"index": 0, "field": "author", "action": "removed 1 NUL character(s)"},
        {"index": 3, "field": "source_id", "action": "removed 1 NUL character(s)"},
    ]
    assert "Acme kettle exploded, awful \ufffd" in stored_texts(app)
    assert counts(app) == (4, 4)
    again = post_raw(client, feeder, {"mentions": items}).get_json()
    assert again["duplicates"] == 4  # the repair is the same every time: a retry counts once
    # the other endpoints still refuse what they cannot store
    resp = client.post(
        "/api/v1/monitors",
        data=json.dumps({"key": "b", "name": "B\u0000"}),
        content_type="application/json",
        headers=admin["headers"],
    )
    assert_problem(resp, 422, field="name")


def test_what_cannot_be_repaired_is_rejected_alone_naming_the_field(client, acme, feeder):
    items = [
        mention(0, url="https://x.com/a\u0000b"),  # another link if repaired: refused
        mention(1, text="\u0000 \u0000"),  # blank once repaired
        {**mention(2), "tool\u0000field": "x\u0000\ud800"},  # a tool's own field: ignored
        mention(3),
    ]
    body = post_raw(client, feeder, {"mentions": items, "cursor\u0000": 1}).get_json()
    assert body["statuses"] == ["rejected", "rejected", "accepted", "accepted"]
    assert [(e["index"], e["field"]) for e in body["errors"]] == [(0, "url"), (1, "text")]
    assert "NUL" in body["errors"][0]["reason"]
    resp = post_raw(client, feeder, {"mentions": [mention(4, text="\u0000")]})
    assert_problem(resp, 422, field="mentions.0.text")


def test_unknown_envelope_members_are_ignored(app, client, acme, feeder, unchanged):
    batch = {"mentions": [mention(0)], "next_cursor": "abc", "meta": {"total": 1, "tags": [1]}}
    resp = client.post(URL, json=batch, headers=feeder["headers"])
    assert resp.status_code == 200, resp.get_data(as_text=True)
    assert resp.get_json()["accepted"] == 1 and counts(app) == (1, 1)
    unchanged.mark()
    resp = client.post(URL, json={"mentions": [], "extra": 1}, headers=feeder["headers"])
    assert resp.status_code == 200 and resp.get_json()["accepted"] == 0
    unchanged.check()
    spec = client.get("/api/v1/openapi.json").get_json()["components"]["schemas"]
    assert spec["MentionBatch"]["additionalProperties"] is True
    assert spec["Mention"]["additionalProperties"] is True


def test_the_documented_text_limit_holds_and_long_text_is_read_from_its_start():
    """A text is read (language, sentiment) from its first READ_CHARS characters: VADER's cost
    grows faster than the text (100,000 characters took 12 s)."""
    seen: list[int] = []

    class Measuring:
        def score(self, text, *, lexicon=None):
            seen.append(len(text))
            return -0.5

    previous = sentiment.default_scorer()
    sentiment.install_scorer(Measuring())
    try:
        started = time.monotonic()
        reading = sentiment.read("Acme kettle exploded, awful. " * 4000)  # 116,000 characters
        assert reading.language == "en" and reading.sentiment == -0.5
        assert seen == [sentiment.READ_CHARS] and time.monotonic() - started < 2
    finally:
        sentiment.install_scorer(previous)
    assert MAX_TEXT <= sentiment.READ_CHARS  # the API's limit: every accepted text read whole


@pytest.mark.parametrize(
    ("extra", "field"),
    [({"author": 42}, "author"), ({"author": "a" * 101}, "author"), ({"url": 3}, "url")],
)
def test_a_bad_optional_field_rejects_its_mention_alone(client, acme, feeder, extra, field):
    """As documented (and tested for url, sentiment, reach): the item is refused, naming the
    field; its neighbours are counted."""
    batch = {"mentions": [mention(0, **extra), mention(1)]}
    body = client.post(URL, json=batch, headers=feeder["headers"]).get_json()
    assert body["statuses"] == ["rejected", "accepted"]
    assert [(e["index"], e["field"]) for e in body["errors"]] == [(0, field)]
    alone = client.post(URL, json={"mentions": [mention(2, **extra)]}, headers=feeder["headers"])
    assert_problem(alone, 422, field=f"mentions.0.{field}")


def test_the_import_command_repairs_text_by_the_same_rules(app, acme, tmp_path):
    lines = [
        json.dumps(mention(0, text="Acme kettle exploded, awful \ud83d")),
        json.dumps(mention(1, text="Acme kettle\u0000 exploded, awful")),
    ]
    path = tmp_path / "export.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = app.test_cli_runner().invoke(args=["mentions", "import", "acme", str(path)])
    assert result.exit_code == 0, result.output
    assert "accepted 2, duplicates 0, rejected 0" in result.output
    assert "item 1: text: replaced 1 lone surrogate(s) with U+FFFD (kept)" in result.output
    assert "item 2: text: removed 1 NUL character(s) (kept)" in result.output
    repaired = ["Acme kettle exploded, awful", "Acme kettle exploded, awful \ufffd"]
    assert stored_texts(app) == repaired
