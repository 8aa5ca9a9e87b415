"""CLI: import mentions from CSV / JSON Lines, and backtest the detector on NAB-format CSVs."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
from flask import current_app
from flask.cli import with_appcontext

from service.db import utcnow
from service.detection.backtest import backtest_files
from service.detection.ingest import MAX_BATCH
from service.detection.service import ingest_batch
from service.errors import NotFound
from service.extensions import db
from service.monitors import service as monitors


def read_mentions(path: Path) -> Iterator[Any]:
    """Mentions from a .csv (header row) or .jsonl/.ndjson file, one at a time."""
    if path.suffix.lower() in (".jsonl", ".ndjson", ".json"):
        with path.open(encoding="utf-8") as fh:
            for lineno, line in enumerate(fh, start=1):
                if line.strip():
                    try:
                        yield json.loads(line)
                    except json.JSONDecodeError as exc:
                        yield {"_error": f"line {lineno}: invalid JSON: {exc.msg}"}
        return
    with path.open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            item: dict[str, Any] = {k: v for k, v in row.items() if k and v not in (None, "")}
            if "author_reach" in item:
                item["author_reach"] = (
                    int(item["author_reach"])
                    if item["author_reach"].isdigit()
                    else item["author_reach"]
                )
            if "sentiment" in item:
                try:
                    item["sentiment"] = float(item["sentiment"])
                except ValueError:
                    pass
            yield item


@click.group("mentions")
def mentions_group() -> None:
    """Mentions."""


@mentions_group.command("import")
@click.argument("monitor_key")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@with_appcontext
def import_command(monitor_key: str, files: tuple[Path, ...]) -> None:
    """Import mentions from CSV or JSON Lines files into a monitor (same rules as the API)."""

    try:
        monitor = monitors.get(db.session, key=monitor_key)
    except NotFound as exc:
        raise click.ClickException(exc.detail) from None
    totals = {"accepted": 0, "duplicate": 0, "rejected": 0}
    for path in files:
        batch: list[Any] = []
        offset = 0
        for item in [*read_mentions(path), None]:
            if item is not None:
                batch.append(item)
            if batch and (item is None or len(batch) == MAX_BATCH):
                report = ingest_batch(current_app, monitor=monitor, items=batch, now=utcnow())
                for status in totals:
                    totals[status] += report.count(status)
                for err in report.errors[:20]:
                    click.echo(
                        f"{path}: item {offset + err['index'] + 1}: {err['field']}: "
                        f"{err['reason']}",
                        err=True,
                    )
                for note in report.warnings[:20]:
                    click.echo(
                        f"{path}: item {offset + note['index'] + 1}: {note['field']}: "
                        f"{note['action']} (kept)",
                        err=True,
                    )
                offset += len(batch)
                batch = []
    click.echo(
        f"accepted {totals['accepted']}, duplicates {totals['duplicate']}, "
        f"rejected {totals['rejected']}"
    )


@click.command("backtest")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option(
    "--out",
    "out_dir",
    required=True,
    type=click.Path(path_type=Path),
    help="folder for the result CSVs (same file names)",
)
def backtest_command(files: tuple[Path, ...], out_dir: Path) -> None:
    """Replay NAB-format CSVs (timestamp,value) through the detector, causally (volume only)."""

    out_dir.mkdir(parents=True, exist_ok=True)
    for written in backtest_files(list(files), out_dir):
        with written.open() as fh:
            alarms = sum(1 for row in csv.DictReader(io.StringIO(fh.read())) if row["alarm"] == "1")
        click.echo(f"{written}: {alarms} alarm(s)")
