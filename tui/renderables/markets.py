"""The markets panel: funding per venue, the best pair per symbol, time to funding."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from rich import box
from rich.console import Console, ConsoleOptions, RenderResult
from rich.table import Table
from rich.text import Text

from tui.view import MISSING, countdown, dec, parse_time, percent, sign_style

__all__ = ["MarketsView"]

# Below this width the per-interval rate column is left out (the APR says the same).
_RATE_MIN_WIDTH = 52


def _rate(value: Any) -> str:
    number = dec(value)
    return MISSING if number is None else f"{number * 100:+.4f}%"


class MarketsView:
    """``markets`` as a table: a line per venue, then the best pair of the symbol.

    Args:
        markets: the document's ``markets`` (symbol -> venue -> quote, plus ``best``).
        now: the strategy's market clock, for the countdowns. Defaults to unknown.
    """

    def __init__(self, markets: Mapping[str, Any], now: datetime | None = None) -> None:
        self.markets = markets
        self.now = now

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        if not self.markets:
            yield Text("No market data yet.", style="dim")
            return
        wide = options.max_width >= _RATE_MIN_WIDTH
        table = Table(box=box.SIMPLE_HEAD, padding=(0, 1), pad_edge=False, expand=True)
        table.add_column("Symbol", no_wrap=True, style="bold")
        table.add_column("Venue", no_wrap=True)
        if wide:
            table.add_column("Rate", justify="right", no_wrap=True)
        table.add_column("APR", justify="right", no_wrap=True)
        table.add_column("Next", justify="right", no_wrap=True)
        for symbol, venues in self.markets.items():
            if not isinstance(venues, Mapping):
                continue
            first = True
            for venue, quote in venues.items():
                if venue == "best" or not isinstance(quote, Mapping):
                    continue
                apr = quote.get("apr")
                cells: list[Text | str] = [symbol if first else "", venue]
                if wide:
                    cells.append(_rate(quote.get("rate")))
                cells.append(Text(percent(apr), style=sign_style(apr)))
                cells.append(self._countdown(quote.get("next_funding_time")))
                table.add_row(*cells)
                first = False
            best = venues.get("best")
            if isinstance(best, Mapping):
                pair = Text(f"L {best.get('long', '?')} / S {best.get('short', '?')}", "italic")
                cells = ["" if not first else symbol, Text("best", "bold")]
                if wide:
                    cells.append(pair)
                    cells.append(Text(percent(best.get("spread_apr")), "bold"))
                    days = best.get("days_to_break_even")
                    cells.append(Text(f"BE {days}d" if days is not None else "", "dim"))
                else:
                    cells.append(Text(percent(best.get("spread_apr")), "bold"))
                    cells.append(pair)
                table.add_row(*cells, end_section=True)
        yield table

    def _countdown(self, when: Any) -> str:
        at = parse_time(when) if isinstance(when, str) else None
        if at is None or self.now is None:
            return MISSING
        return countdown((at - self.now).total_seconds())
