"""``dash tui``: the full-screen Textual dashboard (the app is in :mod:`tui.app`).

Textual is imported only once the command runs, so ``dash`` itself starts without it.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from typing import Annotated

import typer

from cli._emit import fail
from cli._errors import FAILURE, UNAVAILABLE, CliError
from cli._options import SocketOpt, StrategyOpt, TimeoutOpt

__all__ = ["terminal_problem", "tui"]

PROG = "dash tui"

_ALTERNATIVES = "use `dash watch` for a live view that works anywhere, or `dash snapshot` once"


def terminal_problem(
    env: Mapping[str, str] | None = None,
    stdin_tty: bool | None = None,
    stdout_tty: bool | None = None,
) -> str | None:
    """Why a full-screen app cannot run here, or None when it can.

    A dumb or missing terminal cannot draw a full-screen app, and a redirected stdin or
    stdout would leave the app drawing into a file or waiting for keys that never come.
    """
    env = os.environ if env is None else env
    term = env.get("TERM", "")
    if term == "dumb":
        return "TERM=dumb cannot show a full-screen app"
    if stdout_tty is None:
        stdout_tty = sys.stdout.isatty()
    if stdin_tty is None:
        stdin_tty = sys.stdin.isatty()
    if not stdout_tty:
        return "stdout is not a terminal"
    if not stdin_tty:
        return "stdin is not a terminal"
    if not term:
        return "TERM is not set, so the terminal is unknown"
    return None


def tui(
    read_only: Annotated[
        bool,
        typer.Option("--read-only", help="Hide and refuse control actions (closing positions)."),
    ] = False,
    socket: SocketOpt = None,
    strategy: StrategyOpt = None,
    timeout: TimeoutOpt = None,
) -> None:
    """Full-screen dashboard: positions, detail, markets, alerts; keys to act.

    Keys: c close the selected position (asks first), p ping, s switch strategy, a all
    strategies with their total, / filter, o sort, space pause, ? help, q quit; Ctrl-P
    opens the command palette. NO_COLOR is honoured. If the strategy goes away it shows
    "disconnected" and reconnects.

    Exit status: 0 on quit; 1 without a usable terminal; 69 if no strategy is reachable
    at start.
    """
    problem = terminal_problem()
    if problem is not None:
        fail(PROG, CliError(f"needs a terminal: {problem}", FAILURE, hint=_ALTERNATIVES))
    from cli._target import resolve
    from ipc import probe

    try:
        target = resolve(socket, strategy, timeout)
        if not probe(target.socket):
            raise CliError(
                f"strategy not reachable at {target.socket}",
                UNAVAILABLE,
                hint="start one with `dash run` or `dash demo`, or see `dash ls`",
            )
    except CliError as exc:
        fail(PROG, exc)

    from tui.app import DashApp

    DashApp(
        target.socket, strategy=target.strategy, read_only=read_only, timeout=target.timeout
    ).run()
