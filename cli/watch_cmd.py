"""``dash watch`` for Typer; the loop and the three outputs are in :mod:`cli._watch`."""

from __future__ import annotations

from typing import Annotated

import typer

from cli._emit import fail
from cli._errors import CliError
from cli._options import DurationOpt, SocketOpt, StrategyOpt, TimeoutOpt

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
    duration: DurationOpt = None,
    all_strategies: Annotated[
        bool,
        typer.Option(
            "--all",
            help="Every strategy running (or on --socket): a row each and the total.",
        ),
    ] = False,
    socket: SocketOpt = None,
    strategy: StrategyOpt = None,
    timeout: TimeoutOpt = None,
) -> None:
    """Follow a strategy live (lines when piped).

    On a terminal: header, positions, markets and alerts, redrawn as the strategy
    changes; q or Ctrl-C quits. Piped or with TERM=dumb: one line per update. If the
    strategy goes away it shows "disconnected, retrying" and reconnects with backoff.

    With --all: a table of every strategy (status, seq, open positions, notional,
    funding, fees, unrealized and net PnL, worst risk) and their total.

    Exit status: 0 on Ctrl-C, q or --duration; 69 if no strategy is reachable at start.
    """
    from cli import _config
    from cli._target import require_one_strategy, resolve
    from cli._watch import choose_mode
    from cli._watch import watch as run_watch

    try:
        if interval is None:
            configured = _config.load().watch_interval
            interval = _config.DEFAULT_WATCH_INTERVAL_S if configured is None else configured
        if all_strategies:
            status = _watch_all(socket, strategy, timeout, as_json, interval, duration)
        else:
            target = require_one_strategy(resolve(socket, strategy, timeout))
            status = run_watch(
                target, mode=choose_mode(as_json), interval=interval, duration=duration
            )
    except CliError as exc:
        fail(PROG, exc)
    raise typer.Exit(status)


def _watch_all(
    socket: str | None,
    strategy: str | None,
    timeout: float | None,
    as_json: bool,
    interval: float,
    duration: float | None,
) -> int:
    import os

    from cli import _config
    from cli._errors import USAGE
    from cli._watch import choose_mode
    from cli._watch_all import watch_all

    # DASH_STRATEGY reaches us as --strategy; a default for one-strategy commands, it
    # must not stop --all. Only a --strategy typed next to --all is a contradiction.
    if strategy is not None and strategy != os.environ.get("DASH_STRATEGY"):
        raise CliError("--all and --strategy cannot be used together", USAGE)
    if timeout is None:
        configured = _config.load().timeout
        timeout = _config.DEFAULT_TIMEOUT_S if configured is None else configured
    return watch_all(
        socket, mode=choose_mode(as_json), interval=interval, timeout=timeout, duration=duration
    )
