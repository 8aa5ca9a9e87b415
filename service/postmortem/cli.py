"""`firebreak export NUMBER`: an incident's post-mortem export from the command line."""

from __future__ import annotations

import json
from pathlib import Path

import click
from flask import Flask
from flask.cli import with_appcontext

from service.errors import NotFound
from service.extensions import db
from service.postmortem.export import export_json, export_markdown
from service.web import pages

FORMATS = ["json", "markdown", "html", "svg"]


@click.command("export")
@click.argument("number", type=int)
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="markdown")
@click.option("--out", type=click.Path(dir_okay=False, writable=True), help="file (else stdout)")
@with_appcontext
def export_command(number: int, fmt: str, out: str | None) -> None:
    """Export incident NUMBER: JSON, Markdown draft (with its chart), HTML page or SVG chart."""

    try:
        if fmt == "json":
            text = json.dumps(export_json(db.session, incident_id=number), indent=2) + "\n"
        elif fmt == "markdown":
            text = export_markdown(db.session, incident_id=number)
        else:
            ext = "html" if fmt == "html" else "svg"
            text, _ = pages.export(db.session, number=number, fmt=ext, zone=pages.zone(""))
    except NotFound as exc:
        raise click.ClickException(exc.detail) from None
    if not out:
        click.echo(text, nl=False)
        return
    Path(out).write_text(text, encoding="utf-8")
    click.echo(f"wrote {out}", err=True)
    if fmt == "markdown":  # the draft shows the chart from a file beside it
        chart = Path(out).with_name(f"incident-{number}-chart.svg")
        chart.write_text(pages.chart_svg(db.session, number=number), encoding="utf-8")
        click.echo(f"wrote {chart}", err=True)


def register(app: Flask) -> None:
    """Add the export command to the app's CLI."""
    app.cli.add_command(export_command)
