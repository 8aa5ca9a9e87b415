"""Post-mortem endpoints: one incident's export (JSON or Markdown) and the aggregate report."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask import Response, json

from service.api import Blueprint
from service.auth.roles import READERS
from service.db import utcnow
from service.extensions import db
from service.fields import Timestamp
from service.postmortem.export import export_json, export_markdown
from service.postmortem.report import incident_report
from service.web.pages import export as page_export
from service.web.pages import zone

blp = Blueprint("postmortem", __name__, url_prefix="/api/v1", description="Post-mortems")

MARKDOWN = "text/markdown"


class ExportQuerySchema(ma.Schema):
    """Which format to export."""

    format = ma.fields.String(
        load_default="json", validate=ma.validate.OneOf(["json", "markdown", "html", "svg"])
    )


class ReportQuerySchema(ma.Schema):
    """The period of the report: incidents opened in [from, to), by default the last 366 days;
    a longer period is cut at 366 days after `from` (the report says so: `truncated`), and a
    `to` not after `from` is empty (the report's `from` and `to` say the period it covers,
    `requested_to` the `to` asked for)."""

    opened_from = Timestamp(data_key="from")
    opened_to = Timestamp(data_key="to")


def _seconds(description: str) -> ma.fields.Float:
    """A duration in seconds, or null."""
    return ma.fields.Float(allow_none=True, metadata={"description": description})


class ReportSummarySchema(ma.Schema):
    """Counts, MTTA and MTTR of a set of incidents."""

    count = ma.fields.Integer()
    by_status = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Integer())
    mtta_seconds = _seconds("mean time to acknowledge (null when none was acknowledged)")
    mttr_seconds = _seconds("mean time to resolve (null when none is resolved)")


class ReportIncidentSchema(ma.Schema):
    """One incident of the period."""

    number = ma.fields.Integer()
    status = ma.fields.String()
    severity = ma.fields.String()
    monitor = ma.fields.String(allow_none=True, metadata={"description": "null: declared"})
    time_to_acknowledge = _seconds("seconds from opened to first acknowledged")
    time_to_resolve = _seconds("seconds from opened to resolved (null if open again)")


class IncidentReportSchema(ReportSummarySchema):
    """The aggregate report of the incidents opened in [from, to)."""

    opened_from = ma.fields.DateTime(
        data_key="from", metadata={"description": "the start of the period covered"}
    )
    opened_to = ma.fields.DateTime(
        data_key="to",
        metadata={
            "description": "the end of the period covered (excluded): the `to` asked for, "
            "unless that was more than 366 days after `from` (cut there: `truncated`) or not "
            "after `from` (an empty period)"
        },
    )
    truncated = ma.fields.Boolean(
        metadata={
            "description": "true when the period asked for was longer than 366 days and was "
            "cut at 366 days after `from`: the report covers [from, to), not up to "
            "`requested_to`"
        }
    )
    requested_to = ma.fields.DateTime(
        allow_none=True,
        metadata={"description": "the `to` asked for (null when none was given)"},
    )
    by_monitor = ma.fields.Dict(
        keys=ma.fields.String(metadata={"description": "a monitor's key, or (declared)"}),
        values=ma.fields.Nested(ReportSummarySchema),
    )
    by_severity = ma.fields.Dict(
        keys=ma.fields.String(), values=ma.fields.Nested(ReportSummarySchema)
    )
    incidents = ma.fields.List(ma.fields.Nested(ReportIncidentSchema))


@blp.route("/incidents/<int:number>/export", methods=["GET"])
@blp.roles(*READERS, errors=(404,))
@blp.arguments(ExportQuerySchema, location="query")
@blp.alt_response(
    200,
    description="JSON export, Markdown draft, the incident page as one HTML file, or the chart",
    success=True,
)
def export(args: dict[str, Any], number: int) -> Response:
    """Export an incident: JSON with the hash chain, Markdown draft, HTML page or SVG chart."""
    if args["format"] == "markdown":
        text = export_markdown(db.session, incident_id=number)
        return Response(text, mimetype=MARKDOWN, headers={"Content-Disposition": _name(number)})
    if args["format"] in ("html", "svg"):
        fmt = args["format"]
        body, mimetype = page_export(db.session, number=number, fmt=fmt, zone=zone(""))
        return Response(body, mimetype=mimetype)
    document = export_json(db.session, incident_id=number)
    return Response(json.dumps(document), mimetype="application/json")


def _name(number: int) -> str:
    return f'inline; filename="incident-{number}-postmortem.md"'


@blp.route("/reports/incidents", methods=["GET"])
@blp.roles(*READERS)
@blp.arguments(ReportQuerySchema, location="query")
@blp.alt_response(
    200,
    schema=IncidentReportSchema,
    description="Counts, MTTA and MTTR by monitor and severity, and the period covered",
    success=True,
)
def report(args: dict[str, Any]) -> Response:
    """Aggregate report of incidents opened in a period: counts, MTTA, MTTR.

    The period is at most 366 days: a longer one is cut at 366 days after `from`, and the
    report says so (`truncated: true`, with the `to` asked for in `requested_to`)."""
    body = incident_report(
        db.session,
        opened_from=args.get("opened_from"),
        opened_to=args.get("opened_to"),
        now=utcnow(),
    )
    return Response(json.dumps(body), mimetype="application/json")
