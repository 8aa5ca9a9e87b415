"""The `firebreak` command: database, users and tokens, timeline checks, workers."""

from __future__ import annotations

import sys
import time
from typing import Any

import click
from alembic import command
from alembic.config import Config
from flask import Flask, current_app
from flask.cli import with_appcontext
from sqlalchemy import select

from service import config
from service.auth import service as auth
from service.auth.models import User
from service.auth.roles import Role
from service.config import PROJECT_ROOT
from service.db import utcnow
from service.detection.cli import backtest_command, mentions_group
from service.extensions import db
from service.health import require_dependencies
from service.incidents.models import Incident
from service.playbooks.validate_cli import validate_command
from service.postmortem.cli import export_command
from service.reconcile import sweep
from service.timeline import service as timeline
from workers.runtime import run_worker


def alembic_config(app: Flask) -> Any:
    """Alembic's config pointing at migrations/ and the app's database."""

    cfg = Config(str(PROJECT_ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    cfg.attributes["database_url"] = app.extensions[config.SETTINGS_KEY].database_url
    return cfg


def upgrade_database(app: Flask, revision: str = "head") -> None:
    """Apply migrations up to a revision."""

    command.upgrade(alembic_config(app), revision)


@click.group("db")
def db_group() -> None:
    """Database migrations."""


@db_group.command("upgrade")
@click.argument("revision", default="head")
@with_appcontext
def db_upgrade(revision: str) -> None:
    """Apply migrations (default: to the newest)."""
    upgrade_database(current_app, revision)
    click.echo(f"database at {revision}")


@db_group.command("downgrade")
@click.argument("revision")
@with_appcontext
def db_downgrade(revision: str) -> None:
    """Revert migrations down to a revision."""

    command.downgrade(alembic_config(current_app), revision)


@click.group("users")
def users_group() -> None:
    """People and their API tokens."""


def _roles(ctx: Any, param: Any, value: str) -> set[Role]:
    try:
        return {Role(v.strip()) for v in value.split(",") if v.strip()}
    except ValueError:
        raise click.BadParameter(
            f"roles must be among {', '.join(r.value for r in Role)}"
        ) from None


@users_group.command("create")
@click.option("--name", required=True)
@click.option("--roles", "roles", required=True, callback=_roles, help="comma-separated")
@click.option("--email")
@click.option("--phone", help="E.164 or national format")
@click.option("--token-name", default=None, help="also issue a token with this name")
@click.option(
    "--phone-verified", is_flag=True, help="an admin vouches for the number (skips the SMS code)"
)
@with_appcontext
def users_create(
    name: str,
    roles: set[Role],
    email: str | None,
    phone: str | None,
    token_name: str | None,
    phone_verified: bool = False,
) -> None:
    """Create a user (and optionally a token, printed once)."""

    if phone:
        try:
            phone = auth.normalize_phone(phone)
        except auth.InvalidPhone as exc:
            raise click.BadParameter(str(exc), param_hint="--phone") from None
    with db.transaction() as session:
        user = auth.create_user(session, name=name, roles=roles, email=email, phone=phone)
        if phone and phone_verified:
            user.phone_verified_at = utcnow()
        secret = None
        if token_name:
            _token, secret = auth.issue_token(session, user=user, name=token_name)
    click.echo(f"user {user.id}: {user.name} [{', '.join(sorted(roles))}]")
    if secret:
        click.echo(f"token (shown once): {secret}")


@users_group.command("create-admin")
@click.option("--name", required=True)
@click.option("--email")
@click.option("--phone")
@click.pass_context
def users_create_admin(ctx: click.Context, name: str, email: str | None, phone: str | None) -> None:
    """Create an admin with a token (printed once): the way in on a new installation."""
    ctx.invoke(
        users_create,
        name=name,
        roles={Role.ADMIN},
        email=email,
        phone=phone,
        token_name="bootstrap",
    )


@users_group.command("token")
@click.argument("user_id", type=int)
@click.option("--name", required=True)
@with_appcontext
def users_token(user_id: int, name: str) -> None:
    """Issue a token for a user (printed once)."""

    with db.transaction() as session:
        user = session.get(User, user_id)
        if user is None:
            raise click.ClickException(f"user {user_id} does not exist")
        _token, secret = auth.issue_token(session, user=user, name=name)
    click.echo(secret)


@click.group("timeline")
def timeline_group() -> None:
    """Incident timelines."""


@timeline_group.command("verify")
@click.argument("numbers", nargs=-1, type=int)
@with_appcontext
def timeline_verify(numbers: tuple[int, ...]) -> None:
    """Verify the hash chain of incidents (all if none named); exit 1 if any is broken."""

    session = db.session
    ids = numbers or tuple(session.scalars(select(Incident.id).order_by(Incident.id)))
    broken = 0
    for number in ids:
        report = timeline.verify(session, incident_id=number)
        if report.events == 0 and not session.get(Incident, number):
            click.echo(f"#{number}: no such incident")
            broken += 1
        elif report.intact:
            click.echo(f"#{number}: intact ({report.events} events, head {report.head_hash[:12]})")
        else:
            broken += 1
            click.echo(f"#{number}: BROKEN at seq {report.first_bad_seq}: {report.problem}")
    sys.exit(1 if broken else 0)


@click.command("worker")
@click.option("--queues", "-q", multiple=True, help="queues to listen on (default: all)")
@click.option("--burst", is_flag=True, help="stop when the queues are empty")
@click.option(
    "--with-scheduler/--without-scheduler",
    default=True,
    show_default=True,
    help="also run the RQ scheduler (timers); only one worker runs it at a time",
)
@click.option(
    "--fork/--no-fork",
    default=None,
    help="run each job in a forked work horse (default: FIREBREAK_WORKER_FORK, else in-process)",
)
@with_appcontext
def worker_command(
    queues: tuple[str, ...], burst: bool, with_scheduler: bool, fork: bool | None
) -> None:
    """Run an RQ worker (with the scheduler) on the purpose queues."""
    require_dependencies()
    run_worker(
        current_app._get_current_object(),  # type: ignore[attr-defined]
        queues=queues,
        burst=burst,
        with_scheduler=with_scheduler,
        fork=fork,
    )


@click.command("reconcile")
@click.option(
    "--loop/--once",
    default=False,
    help="keep sweeping (a long-running process), or sweep once and exit (the default; CronJob)",
)
@click.option("--interval", default=15.0, show_default=True, help="seconds between sweeps")
@with_appcontext
def reconcile_command(loop: bool, interval: float) -> None:
    """Sweep: overdue escalations, lost sends, stuck pages, step and approval deadlines."""
    require_dependencies()

    while True:
        done = sweep(now=utcnow())
        if any(v for k, v in done.items() if k != "monitors"):
            click.echo(f"{utcnow():%H:%M:%S} {done}")
        if not loop:
            return
        time.sleep(interval)


@click.group("playbooks")
def playbooks_group() -> None:
    """Playbooks."""


def commands() -> tuple[click.Command, ...]:
    """Firebreak's own commands (the `firebreak` group lists these, not Flask's)."""
    playbooks_group.add_command(validate_command)
    return (
        db_group,
        users_group,
        timeline_group,
        worker_command,
        reconcile_command,
        mentions_group,
        backtest_command,
        playbooks_group,
        export_command,
    )


def register(app: Flask) -> None:
    """Attach the command groups to the app's CLI (`flask --app wsgi ...` and test runners)."""
    for command_ in commands():
        app.cli.add_command(command_)
