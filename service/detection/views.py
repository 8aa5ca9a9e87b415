"""The mentions endpoint: listening tools push batches here."""

from __future__ import annotations

from typing import Any

from flask import current_app, jsonify

from service.api import Blueprint, abort
from service.auth.roles import Role
from service.db import utcnow
from service.detection import schemas
from service.detection.ingest import MAX_BATCH, untimely
from service.detection.service import ingest_batch
from service.extensions import db
from service.guards import repairs_text
from service.monitors import service as monitors

blp = Blueprint("mentions", __name__, url_prefix="/api/v1/monitors", description="Mentions")


@blp.route("/<key>/mentions", methods=["POST"])
@blp.roles(Role.INGEST, Role.ADMIN, errors=(404, 409))
@blp.arguments(schemas.EnvelopeSchema)
@blp.doc(
    requestBody={
        "required": True,
        "content": {"application/json": {"schema": schemas.MentionBatchSchema}},
    }
)
@blp.response(200, schemas.IngestResultSchema)
@repairs_text
def push_mentions(args: dict[str, Any], key: str) -> Any:
    """Push a batch of mentions (each counted once; bad items rejected, the rest accepted).

    A body may be gzip (Content-Encoding: gzip; decoded, it must fit the body limit too). Text
    with NUL or lone surrogates is repaired, not refused; each repair is listed in `warnings`.
    Members of the envelope or of a mention other than the documented ones are ignored.
    """
    items = args["mentions"]
    if len(items) > MAX_BATCH:
        abort(413, f"batch of {len(items)} mentions; the limit is {MAX_BATCH}", field="mentions")
    monitor = monitors.get(db.session, key=key)
    if not monitor.active:
        abort(409, f"monitor {key!r} is inactive", type="monitor-inactive")
    report = ingest_batch(current_app, monitor=monitor, items=items, now=utcnow())
    body = {
        "accepted": report.count("accepted"),
        "duplicates": report.count("duplicate"),
        "rejected": report.count("rejected"),
        "statuses": report.statuses,
        "errors": report.errors,
        "warnings": report.warnings,
    }
    # a batch with nothing valid is a 422, unless all it breaks is the detector's time window
    # (mentions older than its horizon or from the future): that is the clock, not the shape
    shapeless = any(not untimely(e["reason"]) for e in report.errors)
    if items and body["rejected"] == len(items) and shapeless:
        abort(
            422,
            "no mention in the batch is valid",
            type="validation",
            errors=[
                {
                    "location": "json",
                    "field": f"mentions.{e['index']}.{e['field']}",
                    "message": e["reason"],
                }
                for e in report.errors[:100]
            ],
        )
    return jsonify(body)  # already in IngestResultSchema's shape: skip dumping 1,000 statuses
