"""The `firebreak` console script (also `python -m service.cli_entry ...`)."""

from flask.cli import FlaskGroup

from service.app import create_app


def main() -> None:
    """Entry point of the `firebreak` console script."""
    cli = FlaskGroup(create_app=lambda: create_app(), help="Firebreak command line.")
    cli.main(prog_name="firebreak")


if __name__ == "__main__":
    main()
