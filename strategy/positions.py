"""PositionManager: the book of pair positions, open and closed, for one strategy.

It owns every :class:`~strategy.models.Position` and is the only place that changes
their bookkeeping (funding, marks, closing), so the engine, the risk manager and the
documents all read one consistent book. It does no I/O: the engine trades and persists,
then tells the manager what happened.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime
from decimal import Decimal

from strategy.models import Position
from strategy.store.records import PositionRecord

__all__ = ["PositionManager"]

_ZERO = Decimal(0)


class PositionManager:
    """Open positions by id and by symbol, plus the closed ones of this run.

    At most one open position per symbol: the strategy trades the widest pair of a
    symbol, so a second pair on the same symbol would be the same trade twice.
    """

    def __init__(self, strategy: str) -> None:
        self.strategy = strategy
        self._open: dict[str, Position] = {}
        self._by_symbol: dict[str, str] = {}
        self._closed: dict[str, Position] = {}
        self.opened_count = 0

    def __len__(self) -> int:
        return len(self._open)

    def __iter__(self) -> Iterator[Position]:
        """Open positions (including ones mid-close) in opening order."""
        return iter(list(self._open.values()))

    def __contains__(self, pid: object) -> bool:
        return pid in self._open or pid in self._closed

    def get(self, pid: str) -> Position | None:
        """An open or closed position by id."""
        return self._open.get(pid) or self._closed.get(pid)

    def for_symbol(self, symbol: str) -> Position | None:
        pid = self._by_symbol.get(symbol)
        return None if pid is None else self._open[pid]

    @property
    def closed(self) -> list[Position]:
        return list(self._closed.values())

    def total_notional(self) -> Decimal:
        return sum((p.notional for p in self._open.values()), _ZERO)

    def realized_pnl(self) -> Decimal:
        return sum((p.realized_pnl or _ZERO for p in self._closed.values()), _ZERO)

    def unrealized_net(self) -> Decimal:
        return sum((p.net_pnl for p in self._open.values()), _ZERO)

    def equity(self) -> Decimal:
        """Realised PnL of closed pairs plus the net PnL of open ones."""
        return self.realized_pnl() + self.unrealized_net()

    def add(self, position: Position) -> None:
        """Take a newly opened (or restored) position into the book.

        Raises:
            ValueError: the id is taken, or the symbol already has an open pair.
        """
        if position.id in self:
            raise ValueError(f"position {position.id} is already in the book")
        if position.symbol in self._by_symbol:
            raise ValueError(
                f"{position.symbol} already has open position {self._by_symbol[position.symbol]}"
            )
        self._open[position.id] = position
        self._by_symbol[position.symbol] = position.id
        self.opened_count += 1

    def restore(
        self,
        record: PositionRecord,
        funding_by_venue: Mapping[str, Decimal],
        last_funding_times: Mapping[str, datetime],
    ) -> Position:
        """Rebuild an open position from the store after a restart.

        ``funding_by_venue`` is what the DB says each leg has been paid so far, and
        ``last_funding_times`` the latest settlement recorded per venue: polling resumes
        after it, so no settlement is booked twice.
        """
        position = Position.from_record(record)
        for leg in position.legs:
            leg.funding = funding_by_venue.get(leg.venue, _ZERO)
            leg.last_funding_time = last_funding_times.get(leg.venue)
        self.add(position)
        return position

    def mark_closed(
        self,
        position: Position,
        *,
        closed_at: datetime,
        reason: str,
        long_exit_price: Decimal,
        short_exit_price: Decimal,
        exit_fees: Decimal,
    ) -> Position:
        """Book a close whose fills are done; returns the position with its realised PnL.

        ``realized = legs at exit prices + funding collected - entry fees - exit fees``.
        """
        if position.status == "closed":
            return position
        position.long.exit_price = long_exit_price
        position.short.exit_price = short_exit_price
        position.long.mark = long_exit_price
        position.short.mark = short_exit_price
        position.exit_fees = exit_fees
        position.closed_at = closed_at
        position.close_reason = reason
        position.status = "closed"
        position.realized_pnl = position.legs_pnl + position.funding_collected - position.fees
        del self._open[position.id]
        self._by_symbol.pop(position.symbol, None)
        self._closed[position.id] = position
        return position
