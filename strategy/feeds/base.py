"""What the paper exchange needs from market data, whatever its source.

A feed answers questions about one instant of market time and never about the future:
the strategy's clock asks, the feed answers from data at or before that instant
(``current_rate``) or from the schedule (``next_funding_time``). Recorded and synthetic
data sit behind the same :class:`MarketFeed`, so a backtest, a ``--speed 3600`` demo and
a test differ only in the feed and the clock they are given.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

__all__ = ["FundingEvent", "MarketFeed", "annualise"]

_HOURS_PER_YEAR = 24 * 365


def annualise(rate: Decimal, interval_h: int) -> Decimal:
    """APR of a per-settlement funding ``rate`` paid every ``interval_h`` hours.

    Venues settle every 1 h or 8 h, so raw rates are not comparable; APRs are. Computed as
    ``rate * 8760 / interval_h`` (equal to ``rate * (24 / interval_h) * 365``) so an 8 h rate
    scales by exactly 1095 with no rounding of ``24 / interval_h`` first.
    """
    if interval_h <= 0:
        raise ValueError(f"interval_h must be positive, got {interval_h}")
    return rate * _HOURS_PER_YEAR / interval_h


@dataclass(frozen=True, slots=True)
class FundingEvent:
    """One settlement on one venue: who paid whom, at what rate and mark.

    A positive ``rate`` means longs pay shorts ``qty * mark * rate``.
    """

    venue: str
    symbol: str
    funding_time: datetime
    rate: Decimal
    mark: Decimal


class MarketFeed(ABC):
    """Marks and funding for a set of venues and symbols over a span of market time.

    Every method takes an aware UTC ``datetime`` and is a pure function of it, so repeated
    or out-of-order questions get the same answers (the clock may be scaled, manual or
    replayed). Symbols are spelled ``"BTC/USDT"``.
    """

    venues: tuple[str, ...]
    symbols: tuple[str, ...]
    start: datetime
    end: datetime

    @abstractmethod
    def default_start(self) -> datetime:
        """A start time at which a demo shows a position and funding within minutes."""

    @abstractmethod
    def interval_h(self, venue: str, symbol: str) -> int:
        """Hours between settlements of ``symbol`` on ``venue``."""

    @abstractmethod
    def mark(self, venue: str, symbol: str, t: datetime) -> Decimal:
        """Mark price at ``t``; the hot path of every backtest."""

    @abstractmethod
    def current_rate(self, venue: str, symbol: str, t: datetime) -> Decimal:
        """Rate of the latest settlement at or before ``t`` (never a later one)."""

    @abstractmethod
    def next_funding_time(self, venue: str, symbol: str, t: datetime) -> datetime:
        """First settlement strictly after ``t``."""

    @abstractmethod
    def settlements(
        self, venue: str, symbol: str, after: datetime, until: datetime
    ) -> list[FundingEvent]:
        """Settlements with ``after < funding_time <= until``, oldest first.

        Half-open on the left so a caller polling ``(last_seen, now]`` sees each settlement
        exactly once.
        """
