"""The options commands share, declared once for Typer.

``--socket``, ``--strategy`` and ``--timeout`` mean the same on every command; their
values go to :func:`cli._target.resolve`, which also reads the environment and the config
file (so the fast path, which never sees these declarations, resolves identically).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, TypeVar, overload

import typer

from cli import _complete_values

__all__ = ["DurationOpt", "SocketOpt", "StrategyOpt", "TimeoutOpt", "parse_option"]

_T = TypeVar("_T")

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
DurationOpt = Annotated[
    float | None,
    typer.Option(
        "--duration",
        metavar="SECONDS",
        min=0.0,
        help="Stop after this long (default: until Ctrl-C or q).",
        show_default=False,
    ),
]


@overload
def parse_option(parse: Callable[[str], _T], value: str, name: str) -> _T: ...
@overload
def parse_option(parse: Callable[[str], _T], value: str | None, name: str) -> _T | None: ...
def parse_option(parse: Callable[[str], _T], value: str | None, name: str) -> _T | None:
    """``parse(value)``, its ValueError shown as Typer's usage error for option ``name``
    (exit 2, with the option named), so every command words a bad value alike."""
    if value is None:
        return None
    try:
        return parse(value)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint=name) from None
