"""The markets panel: funding per venue, the best pair per symbol, time to funding."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Final

from rich.console import Console, ConsoleOptions, RenderResult
from rich.text import Text

from tui.view import MISSING, countdown, dec, parse_time, percent, sign_style

__all__ = ["MarketsView"]

# From this width each venue line also shows the rate per funding interval.
_RATE_WIDTH: Final = 44


def _rate(value: Any) -> str:
    number = dec(value)
    return MISSING if number is None else f"{number * 100:+.4f}%"


class MarketsView:
    """``markets`` by symbol: a line with the best pair and its spread, then a line per
    venue (rate, APR, time to its next funding).

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
        wide = options.max_width >= _RATE_WIDTH
        for symbol, venues in self.markets.items():
            if not isinstance(venues, Mapping):
                continue
            head = Text(no_wrap=True, overflow="ellipsis")
            head.append(f"{symbol:<10}", "bold")
            best = venues.get("best")
            if isinstance(best, Mapping):
                head.append("best ", "dim")
                head.append(percent(best.get("spread_apr")), "bold")
                head.append(f" L {best.get('long', '?')} S {best.get('short', '?')}")
                days = best.get("days_to_break_even")
                if days is not None and wide:
                    head.append(f" BE {days}d", "dim")
            yield head
            for venue, quote in venues.items():
                if venue == "best" or not isinstance(quote, Mapping):
                    continue
                apr = quote.get("apr")
                line = Text(no_wrap=True, overflow="ellipsis")
                line.append(f"  {venue:<11}")
                if wide:
                    line.append(f"{_rate(quote.get('rate')):>10} ")
                line.append(f"{percent(apr):>8}", sign_style(apr))
                line.append(f" {self._countdown(quote.get('next_funding_time')):>6}")
                yield line

    def _countdown(self, when: Any) -> str:
        at = parse_time(when) if isinstance(when, str) else None
        if at is None or self.now is None:
            return MISSING
        return countdown((at - self.now).total_seconds())
