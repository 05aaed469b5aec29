"""Positions and their legs, with the PnL arithmetic that every view of them shares.

A :class:`Position` is one delta-neutral pair: a long :class:`Leg` on the venue with the
lower funding APR and a short leg with the same quantity on the higher one. Models do no
I/O; :class:`~strategy.positions.PositionManager` owns them, the engine trades them and
:mod:`strategy.store` persists them as :class:`~strategy.store.records.PositionRecord`.

Money is ``Decimal`` at full precision here; only documents round.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Literal

from strategy.funding import LONG, SHORT, divergence_bps, funding_payment
from strategy.store.records import FundingPaymentRecord, PositionRecord

__all__ = ["Leg", "MarketQuote", "Position", "PositionStatus", "leg_order_id", "position_id"]

PositionStatus = Literal["open", "closing", "closed"]
_ZERO = Decimal(0)


def position_id(strategy: str, symbol: str, opened_at: datetime, salt: int = 0) -> str:
    """``p-`` and 8 hex digits of the strategy, symbol and opening instant.

    Deterministic, so a replay of the same data produces the same ids and the ids in the
    database, the document and the operator's ``dash close`` all agree. ``salt`` tells
    apart two pairs opened on one symbol at one instant (never the case in one run).
    """
    key = f"{strategy}|{symbol}|{opened_at.isoformat()}".encode()
    if salt:
        key += f"|{salt}".encode()
    return "p-" + hashlib.sha256(key).hexdigest()[:8]


def leg_order_id(pid: str, leg: Literal["long", "short"], action: Literal["open", "close"]) -> str:
    """Client order id of one leg's open or close; the exchange fills an id only once."""
    return f"{pid}-{leg}-{action}"


@dataclass(slots=True)
class Leg:
    """One side of a pair on one venue."""

    venue: str
    side: int
    entry_price: Decimal
    mark: Decimal
    funding: Decimal = _ZERO
    exit_price: Decimal | None = None
    #: latest settlement already paid on this leg; the next poll starts after it
    last_funding_time: datetime | None = None
    next_funding_time: datetime | None = None

    @property
    def name(self) -> Literal["long", "short"]:
        return "long" if self.side == LONG else "short"

    def price_pnl(self, qty: Decimal, price: Decimal | None = None) -> Decimal:
        """``side * qty * (price - entry)`` at ``price`` (the mark by default)."""
        at = self.mark if price is None else price
        return self.side * qty * (at - self.entry_price)


@dataclass(slots=True)
class Position:
    """A pair position and everything monitoring has learned about it."""

    id: str
    strategy: str
    symbol: str
    qty: Decimal
    opened_at: datetime
    entry_spread_apr: Decimal
    long: Leg
    short: Leg
    entry_fees: Decimal
    exit_fees: Decimal = _ZERO
    spread_apr: Decimal = _ZERO
    status: PositionStatus = "open"
    closed_at: datetime | None = None
    close_reason: str | None = None
    realized_pnl: Decimal | None = None
    risk_level: str = "ok"
    risk_reasons: tuple[str, ...] = ()
    payments: list[FundingPaymentRecord] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.long.side != LONG or self.short.side != SHORT:
            raise ValueError("a position's long leg must be long and its short leg short")
        if self.spread_apr == _ZERO:
            self.spread_apr = self.entry_spread_apr

    @property
    def legs(self) -> tuple[Leg, Leg]:
        return (self.long, self.short)

    def leg(self, venue: str) -> Leg:
        for leg in self.legs:
            if leg.venue == venue:
                return leg
        raise KeyError(f"{self.id} has no leg on {venue}")

    @property
    def is_open(self) -> bool:
        return self.status != "closed"

    @property
    def notional(self) -> Decimal:
        """Size of one leg at the current marks (mean of both)."""
        return self.qty * (self.long.mark + self.short.mark) / 2

    @property
    def entry_notional(self) -> Decimal:
        return self.qty * (self.long.entry_price + self.short.entry_price) / 2

    @property
    def legs_pnl(self) -> Decimal:
        """Price PnL of both legs: at exit prices once closed, at marks while open."""
        return self.long.price_pnl(self.qty, self.long.exit_price) + self.short.price_pnl(
            self.qty, self.short.exit_price
        )

    @property
    def funding_collected(self) -> Decimal:
        return self.long.funding + self.short.funding

    @property
    def fees(self) -> Decimal:
        return self.entry_fees + self.exit_fees

    @property
    def net_pnl(self) -> Decimal:
        """Legs + funding - fees: what closing at the marks would realise, before exit fees."""
        return self.legs_pnl + self.funding_collected - self.fees

    @property
    def divergence_bps(self) -> Decimal:
        return divergence_bps(
            self.long.entry_price, self.short.entry_price, self.long.mark, self.short.mark
        )

    @property
    def erosion(self) -> Decimal:
        """Fraction of the entry spread lost: 0 unchanged, 1 gone, above 1 flipped."""
        return (self.entry_spread_apr - self.spread_apr) / self.entry_spread_apr

    def apply_funding(
        self, venue: str, funding_time: datetime, rate: Decimal, mark: Decimal
    ) -> FundingPaymentRecord | None:
        """Book one settlement on the leg at ``venue``; ``None`` if it was booked already.

        A settlement at or before the leg's ``last_funding_time`` was paid before (maybe
        before a restart), so it is never counted twice.
        """
        leg = self.leg(venue)
        if leg.last_funding_time is not None and funding_time <= leg.last_funding_time:
            return None
        if funding_time <= self.opened_at:
            return None
        amount = funding_payment(leg.side, self.qty, mark, rate)
        leg.funding += amount
        leg.last_funding_time = funding_time
        payment = FundingPaymentRecord(
            position_id=self.id,
            strategy=self.strategy,
            venue=venue,
            funding_time=funding_time,
            side=leg.side,
            rate=rate,
            qty=self.qty,
            mark=mark,
            amount=amount,
        )
        self.payments.append(payment)
        return payment

    def to_record(self) -> PositionRecord:
        """The row the store keeps; after a close it carries the exit and realised PnL."""
        closed = self.status == "closed"
        return PositionRecord(
            id=self.id,
            strategy=self.strategy,
            symbol=self.symbol,
            long_venue=self.long.venue,
            short_venue=self.short.venue,
            qty=self.qty,
            long_entry_price=self.long.entry_price,
            short_entry_price=self.short.entry_price,
            entry_spread_apr=self.entry_spread_apr,
            opened_at=self.opened_at,
            entry_fees=self.entry_fees,
            closed_at=self.closed_at if closed else None,
            close_reason=self.close_reason if closed else None,
            long_exit_price=self.long.exit_price if closed else None,
            short_exit_price=self.short.exit_price if closed else None,
            exit_fees=self.exit_fees if closed else None,
            realized_pnl=self.realized_pnl if closed else None,
        )

    @classmethod
    def from_record(cls, record: PositionRecord) -> Position:
        """Rebuild an open position from its row; funding is booked separately."""
        long = Leg(record.long_venue, LONG, record.long_entry_price, record.long_entry_price)
        short = Leg(record.short_venue, SHORT, record.short_entry_price, record.short_entry_price)
        return cls(
            id=record.id,
            strategy=record.strategy,
            symbol=record.symbol,
            qty=record.qty,
            opened_at=record.opened_at,
            entry_spread_apr=record.entry_spread_apr,
            long=long,
            short=short,
            entry_fees=record.entry_fees,
        )


@dataclass(frozen=True, slots=True)
class MarketQuote:
    """What one venue says about one symbol this cycle, with its APR normalised.

    ``apr`` annualises the last settled rate; ``signal_apr`` is what decisions use: the
    mean APR of the settlements in the last ``signal_window_hours`` (``apr`` for 0).
    """

    venue: str
    symbol: str
    rate: Decimal
    interval_h: int
    apr: Decimal
    mark: Decimal
    next_funding_time: datetime
    as_of: datetime
    signal_apr: Decimal
