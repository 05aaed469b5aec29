"""A one-line sparkline: the last ``width`` values as block characters.

Scaled between the visible minimum and maximum, so a slow drift still shows; a flat
series is a flat line at mid height.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Final

from rich.console import Console, ConsoleOptions, RenderResult
from rich.measure import Measurement
from rich.text import Text

__all__ = ["BARS", "Sparkline", "spark"]

BARS: Final = "▁▂▃▄▅▆▇█"


def spark(values: Sequence[float], width: int) -> str:
    """The last ``width`` values, one bar each ("" when there are none)."""
    if width <= 0 or not values:
        return ""
    window = list(values)[-width:]
    low, high = min(window), max(window)
    if high == low:
        return BARS[len(BARS) // 2 - 1] * len(window)
    top = len(BARS) - 1
    scale = top / (high - low)
    return "".join(BARS[round((v - low) * scale)] for v in window)


class Sparkline:
    """Rich renderable of :func:`spark`.

    Args:
        values: the series, oldest first.
        width: at most this many bars. Defaults to the available width.
        style: the bars' style. Defaults to none.
    """

    def __init__(
        self, values: Iterable[float], *, width: int | None = None, style: str = ""
    ) -> None:
        self.values = list(values)
        self.width = width
        self.style = style

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        width = options.max_width if self.width is None else min(self.width, options.max_width)
        yield Text(spark(self.values, width), style=self.style, no_wrap=True, end="")

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        size = len(self.values) if self.width is None else min(self.width, len(self.values))
        return Measurement(min(1, size), min(size, options.max_width))
