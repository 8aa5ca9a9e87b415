"""`firebreak export NUMBER`: an incident's post-mortem export from the command line."""

from __future__ import annotations

import json

import click
from flask import Flask
from flask.cli import with_appcontext

from service.errors import NotFound
from service.extensions import db
from service.postmortem.export import export_json, export_markdown


@click.command("export")
@click.argument("number", type=int)
@click.option("--format", "fmt", type=click.Choice(["json", "markdown"]), default="markdown")
@click.option("--out", type=click.Path(dir_okay=False, writable=True), help="file (else stdout)")
@with_appcontext
def export_command(number: int, fmt: str, out: str | None) -> None:
    """Export incident NUMBER as JSON or a Markdown post-mortem draft."""
    try:
        if fmt == "json":
            text = json.dumps(export_json(db.session, incident_id=number), indent=2) + "\n"
        else:
            text = export_markdown(db.session, incident_id=number)
    except NotFound as exc:
        raise click.ClickException(exc.detail) from None
    if out:
        with open(out, "w", encoding="utf-8") as fh:
            fh.write(text)
        click.echo(f"wrote {out}", err=True)
    else:
        click.echo(text, nl=False)


def register(app: Flask) -> None:
    """Add the export command to the app's CLI."""
    app.cli.add_command(export_command)
