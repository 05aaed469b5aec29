"""``dash snapshot`` for Typer. The work is in :mod:`cli._snapshot`, which ``cli.main``
also calls directly (no Typer) for the common command lines."""

from __future__ import annotations

from typing import Annotated

import typer

from cli._options import SocketOpt, StrategyOpt, TimeoutOpt
from cli._snapshot import SnapshotArgs, run

__all__ = ["snapshot"]


def snapshot(
    as_json: Annotated[
        bool,
        typer.Option(
            "--json", help="Print the snapshot document exactly as the server sent it (one line)."
        ),
    ] = False,
    field: Annotated[
        str | None,
        typer.Option(
            "--field",
            metavar="PATH",
            help="Print one value, e.g. totals.net_pnl or positions.<id>.pnl.net.",
            show_default=False,
        ),
    ] = None,
    positions: Annotated[
        bool, typer.Option("--positions", help="Only the positions (table, JSON or field base).")
    ] = False,
    all_strategies: Annotated[
        bool,
        typer.Option(
            "--all",
            help="Every strategy running (or on --socket); --json: keyed by strategy id.",
        ),
    ] = False,
    socket: SocketOpt = None,
    strategy: StrategyOpt = None,
    timeout: TimeoutOpt = None,
) -> None:
    """Print the current state: table, JSON or one field.

    Exit status: 0 ok, 1 server error or no such field, 2 usage, 69 strategy not
    reachable (with --all: some process did not answer; the others are still printed).
    """
    status = run(
        SnapshotArgs(
            socket=socket,
            strategy=strategy,
            timeout=timeout,
            as_json=as_json,
            field=field,
            positions=positions,
            all_strategies=all_strategies,
        )
    )
    raise typer.Exit(status)
