"""The ``wingbeat`` command line."""

from __future__ import annotations

import typer

app = typer.Typer(help="wingbeat: fast, crash-safe exchange connectors.", no_args_is_help=True)


@app.command()
def version() -> None:
    """Print the wingbeat version."""
    from wingbeat import __version__

    typer.echo(__version__)


def main() -> None:
    """Entry point of the ``wingbeat`` script."""
    app()
