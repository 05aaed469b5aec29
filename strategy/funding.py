"""Funding maths: APR normalisation, payments, and the entry test.

``annualise(rate, interval_h)`` (``rate * 8760 / interval_h``) lives with the feeds and is
re-exported here, so strategy code has one place for its formulas.

All functions are pure and take Decimals, so the tests can check them to the cent and the
docs (docs/strategy-internals.md) can quote them as formulas.

Sign convention (docs/architecture.md): a positive rate means longs pay shorts, and a leg
with ``side`` +1 (long) or -1 (short) receives ``-side * qty * mark * rate``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal

from strategy.feeds.base import annualise

__all__ = [
    "HOURS_PER_YEAR",
    "LONG",
    "SHORT",
    "PairQuote",
    "annualise",
    "best_pair",
    "break_even_apr",
    "days_to_break_even",
    "divergence_bps",
    "entry_edge",
    "funding_payment",
    "round_trip_cost",
]

LONG = 1
SHORT = -1
HOURS_PER_YEAR = Decimal(24 * 365)
_BPS = Decimal(10_000)


def funding_payment(side: int, qty: Decimal, mark: Decimal, rate: Decimal) -> Decimal:
    """What one settlement pays us on one leg (negative: we paid)."""
    return -side * qty * mark * rate


def round_trip_cost(taker_fee_long: Decimal, taker_fee_short: Decimal) -> Decimal:
    """Fee fraction of notional for four taker fills: open and close on both venues."""
    return 2 * taker_fee_long + 2 * taker_fee_short


def break_even_apr(cost: Decimal, hold_hours: int) -> Decimal:
    """The spread APR that exactly pays ``cost`` over a hold of ``hold_hours``."""
    return cost * HOURS_PER_YEAR / hold_hours


def days_to_break_even(cost: Decimal, spread_apr: Decimal) -> Decimal | None:
    """Days of holding at ``spread_apr`` that pay ``cost``; ``None`` if it never does."""
    if spread_apr <= 0:
        return None
    return cost / spread_apr * 365


def entry_edge(spread_apr: Decimal, cost: Decimal, hold_hours: int, margin: Decimal) -> Decimal:
    """APR left after break-even and the margin; the strategy enters only when positive.

    ``spread_apr - (cost * 8760 / hold_hours + margin)``: equivalently the expected funding
    over the planned hold, ``spread_apr * hold/8760``, beats the four taker fees plus
    ``margin * hold/8760``.
    """
    return spread_apr - break_even_apr(cost, hold_hours) - margin


@dataclass(frozen=True, slots=True)
class PairQuote:
    """The widest venue pair for one symbol: long the low APR, short the high one."""

    long_venue: str
    short_venue: str
    long_apr: Decimal
    short_apr: Decimal

    @property
    def spread_apr(self) -> Decimal:
        return self.short_apr - self.long_apr


def best_pair(aprs: Mapping[str, Decimal], order: Iterable[str] = ()) -> PairQuote | None:
    """The pair with the widest spread, or ``None`` with fewer than two venues.

    Ties go to the venue listed first in ``order`` (then by name), so repeated runs on
    the same data always pick the same pair.
    """
    if len(aprs) < 2:
        return None
    rank = {venue: i for i, venue in enumerate(order)}
    venues = sorted(aprs, key=lambda v: (rank.get(v, len(rank)), v))
    low = min(venues, key=lambda v: aprs[v])
    high = max(reversed(venues), key=lambda v: aprs[v])
    if low == high:
        # every venue at the same APR: any two make a zero spread
        high = next(v for v in venues if v != low)
    return PairQuote(low, high, aprs[low], aprs[high])


def divergence_bps(
    long_entry: Decimal, short_entry: Decimal, long_mark: Decimal, short_mark: Decimal
) -> Decimal:
    """Drift of the legs' relative price gap ``(P_short - P_long) / P_long`` since entry."""
    gap_now = (short_mark - long_mark) / long_mark
    gap_entry = (short_entry - long_entry) / long_entry
    return (gap_now - gap_entry) * _BPS
