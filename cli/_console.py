"""The Rich consoles the commands draw on, configured once for clig.dev behaviour.

Rich already drops colour and animation when the stream is not a terminal and honours
``NO_COLOR``; here we also turn off its number highlighting (data is not decoration) and
treat ``TERM=dumb`` as "no colour, no cursor movement".
"""

from __future__ import annotations

import os
import sys
from typing import IO, TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import Console

__all__ = ["is_dumb", "is_live_terminal", "make_console"]


def is_dumb() -> bool:
    return os.environ.get("TERM", "") == "dumb"


def is_live_terminal(stream: IO[str] | None = None) -> bool:
    """True when redrawing the screen is welcome: a real terminal that is not dumb."""
    stream = sys.stdout if stream is None else stream
    try:
        return stream.isatty() and not is_dumb()
    except ValueError:  # closed stream
        return False


def make_console(*, stderr: bool = False) -> Console:
    from rich.console import Console

    return Console(
        stderr=stderr,
        highlight=False,
        no_color=True if is_dumb() else None,
        soft_wrap=False,
    )
