"""HandFeed: a market written out by hand, so tests can compute every figure themselves.

Marks are step functions (a price holds from the moment it is set), settlements happen
exactly where a test puts them, and a rate is known from its settlement on.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from datetime import datetime, timedelta
from decimal import Decimal

from strategy.feeds import FundingEvent, MarketFeed


class HandFeed(MarketFeed):
    def __init__(
        self,
        start: datetime,
        venues: tuple[str, ...] = ("binance", "bybit", "okx"),
        symbols: tuple[str, ...] = ("BTC/USDT",),
        *,
        days: int = 60,
        intervals: dict[str, int] | None = None,
    ) -> None:
        self.venues, self.symbols = venues, symbols
        self.start, self.end = start, start + timedelta(days=days)
        self._intervals = intervals or {}
        self._marks: dict[tuple[str, str], list[tuple[datetime, Decimal]]] = defaultdict(list)
        self._rates: dict[tuple[str, str], list[tuple[datetime, Decimal]]] = defaultdict(list)

    # -- building ---------------------------------------------------------------------

    def set_mark(self, venue: str, symbol: str, t: datetime, price: Decimal | str) -> None:
        series = self._marks[(venue, symbol)]
        series.append((t, Decimal(price)))
        series.sort(key=lambda p: p[0])

    def set_marks(self, symbol: str, t: datetime, price: Decimal | str) -> None:
        for venue in self.venues:
            self.set_mark(venue, symbol, t, price)

    def settle(self, venue: str, symbol: str, t: datetime, rate: Decimal | str) -> None:
        series = self._rates[(venue, symbol)]
        series.append((t, Decimal(rate)))
        series.sort(key=lambda p: p[0])

    def drop_settlements(self, venue: str, symbol: str, since: datetime) -> None:
        """Forget the planned settlements at or after ``since`` (to plan others)."""
        key = (venue, symbol)
        self._rates[key] = [(t, r) for t, r in self._rates[key] if t < since]

    def settle_every(
        self, venue: str, symbol: str, rate: Decimal | str, first: datetime, until: datetime
    ) -> None:
        """Settle ``rate`` on the venue's schedule from ``first`` to ``until`` inclusive."""
        step = timedelta(hours=self.interval_h(venue, symbol))
        t = first
        while t <= until:
            self.settle(venue, symbol, t, rate)
            t += step

    # -- MarketFeed ---------------------------------------------------------------------

    def default_start(self) -> datetime:
        return self.start

    def interval_h(self, venue: str, symbol: str) -> int:
        return self._intervals.get(venue, 8)

    def mark(self, venue: str, symbol: str, t: datetime) -> Decimal:
        series = self._marks[(venue, symbol)]
        i = bisect_right([p[0] for p in series], t) - 1
        if i < 0:
            if not series:
                raise KeyError(f"no mark for {venue} {symbol}")
            return series[0][1]
        return series[i][1]

    def current_rate(self, venue: str, symbol: str, t: datetime) -> Decimal:
        series = self._rates[(venue, symbol)]
        i = bisect_right([p[0] for p in series], t) - 1
        return series[i][1] if i >= 0 else Decimal(0)

    def next_funding_time(self, venue: str, symbol: str, t: datetime) -> datetime:
        series = self._rates[(venue, symbol)]
        later = [when for when, _ in series if when > t]
        if later:
            return later[0]
        step = timedelta(hours=self.interval_h(venue, symbol))
        when = series[-1][0] if series else self.start
        while when <= t:
            when += step
        return when

    def settlements(
        self, venue: str, symbol: str, after: datetime, until: datetime
    ) -> list[FundingEvent]:
        return [
            FundingEvent(venue, symbol, when, rate, self.mark(venue, symbol, when))
            for when, rate in self._rates[(venue, symbol)]
            if after < when <= until
        ]
