"""The Typer application: one place that lists every ``dash`` command.

Each command lives in its own module as a plain function and is registered here, so the
command modules stay importable (and testable) without the app.
"""

from __future__ import annotations

import typer

from cli import run_cmd

__all__ = ["app"]

app = typer.Typer(
    name="dash",
    help="Funding-rate arbitrage strategy: run it, watch it, control it.",
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
)

app.command("run")(run_cmd.run)


@app.callback()
def _root() -> None:
    """Funding-rate arbitrage strategy: run it, watch it, control it."""
