"""What the strategy needs from a venue, so paper and live trading are interchangeable.

The strategy only ever talks to an :class:`Exchange`. :class:`~strategy.exchanges.paper.
PaperExchange` implements it on a :class:`~strategy.feeds.MarketFeed`; a live adapter
implements the same four calls against a venue's API and translates its errors into
:class:`ExchangeError` at the boundary, so the strategy catches one family.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import IntEnum

from strategy.feeds.base import FundingEvent

__all__ = ["DEFAULT_TAKER_FEES", "Exchange", "ExchangeError", "Fill", "FundingInfo", "Side"]

#: Taker fee per venue (fraction of notional) at the entry VIP tier, for paper trading.
DEFAULT_TAKER_FEES: dict[str, Decimal] = {
    "binance": Decimal("0.0005"),
    "bybit": Decimal("0.00055"),
    "okx": Decimal("0.0005"),
    "hyperliquid": Decimal("0.00035"),
}


class ExchangeError(Exception):
    """A venue refused or failed a request; the strategy may retry with the same id."""


class Side(IntEnum):
    """Direction of a position or order; the value is the sign in funding maths.

    Payment to us for a leg is ``-side * qty * mark * rate``, so ``Side`` multiplies
    Decimals directly.
    """

    LONG = 1
    SHORT = -1

    @property
    def opposite(self) -> Side:
        return Side.SHORT if self is Side.LONG else Side.LONG


@dataclass(frozen=True, slots=True)
class Fill:
    """A completed market order: the price we got and the fee we paid."""

    order_id: str
    client_order_id: str
    venue: str
    symbol: str
    side: Side
    qty: Decimal
    price: Decimal
    fee: Decimal
    ts: datetime

    @property
    def notional(self) -> Decimal:
        return self.qty * self.price


@dataclass(frozen=True, slots=True)
class FundingInfo:
    """A venue's funding picture for one symbol, as observed at ``as_of``.

    ``rate`` is the last settled rate per ``interval_h`` hours and ``apr`` its annualised
    value. ``as_of`` is when the data was fresh: risk rules compare it with the clock to
    detect a stale feed.
    """

    venue: str
    symbol: str
    rate: Decimal
    apr: Decimal
    interval_h: int
    next_funding_time: datetime
    mark: Decimal
    as_of: datetime


class Exchange(ABC):
    """One venue as the strategy sees it. Methods are async because live ones do I/O."""

    name: str
    taker_fee: Decimal

    @abstractmethod
    async def funding_info(self, symbol: str) -> FundingInfo:
        """Rate, interval, next settlement and mark for ``symbol``."""

    @abstractmethod
    async def mark_price(self, symbol: str) -> Decimal:
        """Current mark price of ``symbol``."""

    @abstractmethod
    async def market_order(
        self, symbol: str, side: Side, qty: Decimal, client_order_id: str
    ) -> Fill:
        """Fill ``qty`` at market, at most once per ``client_order_id``.

        Raises:
            ExchangeError: the order was not filled; retrying with the same id is safe.
        """

    @abstractmethod
    async def funding_history(
        self, symbol: str, after: datetime, until: datetime
    ) -> list[FundingEvent]:
        """Settlements with ``after < funding_time <= until``, oldest first."""
