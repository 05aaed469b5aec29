"""``dash run``: placeholder replaced by the strategy runner (issue 2)."""

from __future__ import annotations

import typer


def run() -> None:
    """Run the strategy in the foreground."""
    typer.echo("not built yet", err=True)
    raise typer.Exit(1)
