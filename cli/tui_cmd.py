"""``dash tui``: the full-screen Textual dashboard (the app is in :mod:`tui.app`).

Textual is imported only once the command runs, so ``dash`` itself starts without it.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from cli._emit import fail
from cli._errors import FAILURE, UNAVAILABLE, CliError
from cli._options import SocketOpt, StrategyOpt, TimeoutOpt

if TYPE_CHECKING:
    from cli._target import Target

__all__ = ["followed", "terminal_problem", "tui"]

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


def followed(
    socket: str | None = None, strategy: str | None = None, timeout: float | None = None
) -> tuple[list[Path], Target]:
    """The sockets ``dash tui`` follows, and its target (strategy shown first, timeout).

    With no socket named (``--socket``, ``DASH_SOCKET``, config ``socket``) and several
    live ones in the runtime dir, every one of them: the strategy named is then only the
    one shown first, and must run somewhere. Otherwise the one socket
    :func:`cli._target.resolve` names, as for any other command.

    Raises:
        CliError: nothing reachable, or the strategy named is not running (69); an
            invalid choice (2).
    """
    from cli import _config
    from cli._target import resolve, scan
    from ipc import probe

    named = socket or os.environ.get("DASH_SOCKET") or _config.load().socket
    live = [] if named else [e.path for e in scan() if e.live]
    if len(live) > 1:
        target = resolve(live[0], strategy, timeout)  # the strategy and timeout defaults
        if target.strategy is not None:
            resolve(None, target.strategy, target.timeout)  # 69 unless it runs somewhere
        return live, target
    target = resolve(socket, strategy, timeout)
    if not probe(target.socket):
        raise CliError(
            f"strategy not reachable at {target.socket}",
            UNAVAILABLE,
            hint="start one with `dash run` or `dash demo`, or see `dash ls`",
        )
    return [target.socket], target


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
    opens the command palette. On a dash replay, space pauses the replay itself and
    [ ] { } seek it an hour / a day back and forward. NO_COLOR is honoured. If the
    strategy goes away it shows "disconnected" and reconnects. Without --socket, when
    several processes run it follows all of them, and those that start or stop later
    (--strategy then picks the one shown first).

    Exit status: 0 on quit; 1 without a usable terminal; 69 if no strategy is reachable
    at start.
    """
    problem = terminal_problem()
    if problem is not None:
        fail(PROG, CliError(f"needs a terminal: {problem}", FAILURE, hint=_ALTERNATIVES))
    try:
        sockets, target = followed(socket, strategy, timeout)
    except CliError as exc:
        fail(PROG, exc)

    from cli._target import RESCAN_S, rescan
    from tui.app import DashApp
    from tui.source import Discovery

    # Several sockets only when none was named: then processes are followed as they
    # start and stop, as `dash watch --all` does.
    discovery = Discovery(rescan, RESCAN_S) if len(sockets) > 1 else None
    DashApp(
        sockets,
        strategy=target.strategy,
        read_only=read_only,
        timeout=target.timeout,
        discovery=discovery,
    ).run()
