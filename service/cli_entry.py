"""The `firebreak` console script (also `python -m service.cli_entry ...`): Firebreak's own
commands, its version, and one line (not a traceback) when a setting or a dependency is bad."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from importlib import metadata

import click
from flask.cli import ScriptInfo
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from service import config
from service.app import create_app
from service.cli import commands


def version() -> str:
    """Firebreak's version (the installed package's)."""
    try:
        return metadata.version("firebreak")
    except metadata.PackageNotFoundError:  # pragma: no cover - run from a bare checkout
        return "unknown"


def _environment_help() -> str:
    width = max(len(name) for name in config.SETTING_HELP) + len(config.ENV_PREFIX)
    lines = [
        f"  {config.ENV_PREFIX + name:<{width}}  {meaning}"
        for name, meaning in config.SETTING_HELP.items()
    ]
    heading = "Environment variables (the README's configuration table has the details):"
    return heading + "\n\n\b\n" + "\n".join(lines)


@click.group(
    "firebreak",
    help="Firebreak: crisis escalation and incident workflow for brands on social media.",
    epilog=_environment_help(),
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 120},
)
@click.version_option(version(), "--version", prog_name="firebreak", message="%(prog)s %(version)s")
@click.option("--debug", is_flag=True, help="Show the full traceback when a command fails.")
@click.pass_context
def cli(ctx: click.Context, debug: bool) -> None:
    """The group: the app is built only when a command needs it (never for --help)."""
    ctx.obj = ScriptInfo(create_app=lambda: create_app(), set_debug_flag=False)


for _command in commands():
    cli.add_command(_command)


def _redacted(url: str) -> str:
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - a URL that does not parse is shown as given
        return url


def one_line(exc: BaseException) -> str | None:
    """The one-line message for a failure an operator can fix (a setting, a dependency)."""
    if isinstance(exc, config.ConfigError):
        return f"configuration error: {exc}"
    if isinstance(exc, RedisConnectionError | RedisTimeoutError):
        url = _setting("REDIS_URL", "redis://127.0.0.1:6379/0")
        return f"Redis is unreachable ({config.ENV_PREFIX}REDIS_URL={url}): {exc}"
    if isinstance(exc, OperationalError):
        url = _redacted(_setting("DATABASE_URL", "sqlite:///instance/firebreak.db"))
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else type(exc).__name__
        return f"the database is unreachable ({config.ENV_PREFIX}DATABASE_URL={url}): {reason}"
    return None


def _setting(name: str, default: str) -> str:
    return os.environ.get(config.ENV_PREFIX + name, default)


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point of the `firebreak` console script."""
    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args
    try:
        cli.main(args=args, prog_name="firebreak", standalone_mode=False)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        click.echo("Aborted!", err=True)
        sys.exit(1)
    except Exception as exc:
        if debug:
            raise
        message = one_line(exc) or f"error: {type(exc).__name__}: {exc}"
        click.echo(f"firebreak: {message} (--debug shows the traceback)", err=True)
        sys.exit(2 if isinstance(exc, config.ConfigError) else 1)


if __name__ == "__main__":
    main()
