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
    a longer period is cut at 366 days after `from`, and a `to` not after `from` is empty (the
    report's `from` and `to` say the period it covers)."""

    opened_from = Timestamp(data_key="from")
    opened_to = Timestamp(data_key="to")


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
@blp.alt_response(200, description="Counts, MTTA and MTTR by monitor and severity", success=True)
def report(args: dict[str, Any]) -> Response:
    """Aggregate report of incidents opened in a period: counts, MTTA, MTTR."""
    body = incident_report(
        db.session,
        opened_from=args.get("opened_from"),
        opened_to=args.get("opened_to"),
        now=utcnow(),
    )
    return Response(json.dumps(body), mimetype="application/json")
