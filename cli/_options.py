"""The options every client command shares, declared once for Typer.

``--socket``, ``--strategy`` and ``--timeout`` mean the same on every command; their
values go to :func:`cli._target.resolve`, which also reads the environment and the config
file (so the fast path, which never sees these declarations, resolves identically).
"""

from __future__ import annotations

from typing import Annotated

import typer

from cli import _complete_values

__all__ = ["SocketOpt", "StrategyOpt", "TimeoutOpt"]

SocketOpt = Annotated[
    str | None,
    typer.Option(
        "--socket",
        metavar="PATH",
        envvar="DASH_SOCKET",
        show_envvar=True,
        help="Control socket of the strategy (default: found in the runtime dir).",
        show_default=False,
    ),
]
StrategyOpt = Annotated[
    str | None,
    typer.Option(
        "--strategy",
        metavar="NAME",
        envvar="DASH_STRATEGY",
        show_envvar=True,
        help="Strategy id (default: the only one running).",
        autocompletion=_complete_values.strategies,
        show_default=False,
    ),
]
TimeoutOpt = Annotated[
    float | None,
    typer.Option(
        "--timeout",
        metavar="SECONDS",
        min=0.001,
        help="Seconds to wait for the strategy to answer (default: 5, or config).",
        show_default=False,
    ),
]
