"""``dash watch`` for Typer; the loop and the three outputs are in :mod:`cli._watch`."""

from __future__ import annotations

from typing import Annotated

import typer

from cli._emit import fail
from cli._errors import CliError
from cli._options import SocketOpt, StrategyOpt, TimeoutOpt

__all__ = ["watch"]

PROG = "dash watch"


def watch(
    as_json: Annotated[
        bool, typer.Option("--json", help="Print every event as one JSON line (NDJSON).")
    ] = False,
    interval: Annotated[
        float | None,
        typer.Option(
            "--interval",
            metavar="SECONDS",
            min=0.0,
            help="Least time between redraws or lines (default 1; 0: every change).",
            show_default=False,
        ),
    ] = None,
    duration: Annotated[
        float | None,
        typer.Option(
            "--duration",
            metavar="SECONDS",
            min=0.0,
            help="Stop after this long (default: until Ctrl-C or q).",
            show_default=False,
        ),
    ] = None,
    socket: SocketOpt = None,
    strategy: StrategyOpt = None,
    timeout: TimeoutOpt = None,
) -> None:
    """Follow a strategy live (lines when piped).

    On a terminal: header, positions, markets and alerts, redrawn as the strategy
    changes; q or Ctrl-C quits. Piped or with TERM=dumb: one line per update. If the
    strategy goes away it shows "disconnected, retrying" and reconnects with backoff.

    Exit status: 0 on Ctrl-C, q or --duration; 69 if no strategy is reachable at start.
    """
    from cli import _config
    from cli._target import require_one_strategy, resolve
    from cli._watch import choose_mode
    from cli._watch import watch as run_watch

    try:
        target = require_one_strategy(resolve(socket, strategy, timeout))
        if interval is None:
            configured = _config.load().watch_interval
            interval = _config.DEFAULT_WATCH_INTERVAL_S if configured is None else configured
        status = run_watch(target, mode=choose_mode(as_json), interval=interval, duration=duration)
    except CliError as exc:
        fail(PROG, exc)
    raise typer.Exit(status)
