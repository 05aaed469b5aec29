"""A simulated venue on a market feed: the paper mode, and the seam tests break on purpose.

Fills happen at the feed's mark moved against us by ``slippage_bps``, fees are the taker
fee on the fill's notional, and a ``client_order_id`` fills at most once, as on a real
venue. Two switches simulate trouble for risk and retry tests without mocks:
:meth:`PaperExchange.set_stale` freezes a symbol's funding data, and
:meth:`PaperExchange.fail_next_orders` makes orders fail before they fill.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from strategy.clock import Clock
from strategy.exchanges.base import (
    DEFAULT_TAKER_FEES,
    Exchange,
    ExchangeError,
    Fill,
    FundingInfo,
    Side,
)
from strategy.feeds.base import FundingEvent, MarketFeed, annualise

__all__ = ["PaperExchange"]

_FALLBACK_TAKER_FEE = Decimal("0.0005")
_BPS = Decimal(10_000)


class PaperExchange(Exchange):
    """An :class:`Exchange` that trades against ``feed`` at ``clock.now()``.

    Args:
        name: the venue this exchange plays; must be one of ``feed.venues``.
        feed: marks and funding.
        clock: market time.
        taker_fee: fee fraction per fill. Defaults to ``None``: the venue's entry in
            ``DEFAULT_TAKER_FEES``, else 0.0005.
        slippage_bps: how far from mark a market order fills, against the taker.
            Defaults to 1 bp.
    """

    def __init__(
        self,
        name: str,
        feed: MarketFeed,
        clock: Clock,
        taker_fee: Decimal | None = None,
        slippage_bps: Decimal = Decimal("1"),
    ) -> None:
        if name not in feed.venues:
            raise ValueError(f"feed has no venue {name!r} (it has {', '.join(feed.venues)})")
        if slippage_bps < 0:
            raise ValueError("slippage_bps must not be negative")
        self.name = name
        self.feed = feed
        self.clock = clock
        self.taker_fee = (
            taker_fee if taker_fee is not None
            else DEFAULT_TAKER_FEES.get(name, _FALLBACK_TAKER_FEE)
        )
        if self.taker_fee < 0:
            raise ValueError("taker_fee must not be negative")
        self.slippage_bps = slippage_bps
        self._fills: dict[str, Fill] = {}
        self._positions: dict[str, Decimal] = {}
        self._stale: dict[str, FundingInfo] = {}
        self._failures_left = 0
        self._orders = 0

    # -- trouble switches ----------------------------------------------------------------

    def set_stale(self, symbol: str, stale: bool = True) -> None:
        """Freeze (or thaw) ``symbol``'s funding data at the current market time.

        While stale, :meth:`funding_info` and :meth:`mark_price` repeat what was true when
        the switch was set, ``as_of`` included, as a venue whose feed hung would. Orders
        still fill at the live mark: the matching engine did not hang.
        """
        self._check_symbol(symbol)
        if stale:
            self._stale.setdefault(symbol, self._info(symbol))
        else:
            self._stale.pop(symbol, None)

    def fail_next_orders(self, n: int) -> None:
        """Make the next ``n`` calls of :meth:`market_order` raise without filling."""
        if n < 0:
            raise ValueError("n must not be negative")
        self._failures_left = n

    # -- state ---------------------------------------------------------------------------

    def position(self, symbol: str) -> Decimal:
        """Net filled quantity on ``symbol``: positive long, negative short."""
        return self._positions.get(symbol, Decimal(0))

    @property
    def fills(self) -> list[Fill]:
        """Every fill so far, oldest first."""
        return list(self._fills.values())

    # -- Exchange ------------------------------------------------------------------------

    async def funding_info(self, symbol: str) -> FundingInfo:
        self._check_symbol(symbol)
        return self._stale.get(symbol) or self._info(symbol)

    async def mark_price(self, symbol: str) -> Decimal:
        self._check_symbol(symbol)
        frozen = self._stale.get(symbol)
        if frozen is not None:
            return frozen.mark
        return self.feed.mark(self.name, symbol, self.clock.now())

    async def market_order(
        self, symbol: str, side: Side, qty: Decimal, client_order_id: str
    ) -> Fill:
        if self._failures_left > 0:
            self._failures_left -= 1
            raise ExchangeError(f"{self.name}: simulated order failure ({client_order_id})")
        self._check_symbol(symbol)
        if qty <= 0:
            raise ValueError(f"order quantity must be positive, got {qty}")
        side = Side(side)
        previous = self._fills.get(client_order_id)
        if previous is not None:
            if (previous.symbol, previous.side, previous.qty) != (symbol, side, qty):
                raise ExchangeError(
                    f"{self.name}: client_order_id {client_order_id!r} was already used for "
                    f"{previous.side.name} {previous.qty} {previous.symbol}"
                )
            return previous
        now = self.clock.now()
        mark = self.feed.mark(self.name, symbol, now)
        price = mark * (1 + side * self.slippage_bps / _BPS)
        self._orders += 1
        fill = Fill(
            order_id=f"{self.name}-{self._orders}",
            client_order_id=client_order_id,
            venue=self.name,
            symbol=symbol,
            side=side,
            qty=qty,
            price=price,
            fee=qty * price * self.taker_fee,
            ts=now,
        )
        self._fills[client_order_id] = fill
        self._positions[symbol] = self.position(symbol) + side * qty
        return fill

    async def funding_history(
        self, symbol: str, after: datetime, until: datetime
    ) -> list[FundingEvent]:
        self._check_symbol(symbol)
        return self.feed.settlements(self.name, symbol, after, until)

    def _info(self, symbol: str) -> FundingInfo:
        now = self.clock.now()
        interval = self.feed.interval_h(self.name, symbol)
        rate = self.feed.current_rate(self.name, symbol, now)
        return FundingInfo(
            venue=self.name,
            symbol=symbol,
            rate=rate,
            apr=annualise(rate, interval),
            interval_h=interval,
            next_funding_time=self.feed.next_funding_time(self.name, symbol, now),
            mark=self.feed.mark(self.name, symbol, now),
            as_of=now,
        )

    def _check_symbol(self, symbol: str) -> None:
        if symbol not in self.feed.symbols:
            raise ExchangeError(f"{self.name}: unknown symbol {symbol!r}")
