"""The strategy's parts of the snapshot document, built from the book.

Shapes follow /work/shared/DESIGN.md "Snapshot document": collections keyed by id, money
as strings, no nulls (an unknown value is left out). Money is rounded to the cent here,
once, and totals are sums of the rounded per-position figures, so a reader adding up the
positions gets exactly the totals.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from strategy.funding import PairQuote, days_to_break_even
from strategy.models import Leg, MarketQuote, Position

__all__ = ["apr_text", "market_doc", "money", "position_doc", "totals_doc"]

_CENT = Decimal("0.01")
_APR = Decimal("0.0001")
_TENTH = Decimal("0.1")
_ZERO = Decimal(0)


def money(value: Decimal) -> Decimal:
    """Round to the cent (banker's rounding, so sums of many do not drift one way)."""
    return value.quantize(_CENT, rounding=ROUND_HALF_EVEN)


def apr_text(value: Decimal) -> Decimal:
    """APRs and fractions to four places: 0.0001 is one hundredth of a percent."""
    return value.quantize(_APR, rounding=ROUND_HALF_EVEN)


def _leg_doc(leg: Leg, qty: Decimal) -> dict[str, Any]:
    return {
        "venue": leg.venue,
        "entry_price": leg.entry_price,
        "mark": leg.mark,
        "pnl": money(leg.price_pnl(qty, leg.exit_price)),
        "funding": money(leg.funding),
    }


def position_doc(position: Position) -> dict[str, Any]:
    """``positions[id]``: legs, PnL split, spread, erosion, divergence, risk."""
    legs = money(position.long.price_pnl(position.qty, position.long.exit_price)) + money(
        position.short.price_pnl(position.qty, position.short.exit_price)
    )
    funding = money(position.long.funding) + money(position.short.funding)
    fees = money(position.fees)
    next_funding = {
        leg.venue: leg.next_funding_time
        for leg in position.legs
        if leg.next_funding_time is not None
    }
    doc: dict[str, Any] = {
        "symbol": position.symbol,
        "status": position.status,
        "long": _leg_doc(position.long, position.qty),
        "short": _leg_doc(position.short, position.qty),
        "qty": position.qty,
        "notional": money(position.notional),
        "opened_at": position.opened_at,
        "entry_spread_apr": apr_text(position.entry_spread_apr),
        "spread_apr": apr_text(position.spread_apr),
        "erosion": apr_text(position.erosion),
        "divergence_bps": position.divergence_bps.quantize(_TENTH, rounding=ROUND_HALF_EVEN),
        "funding_collected": funding,
        "fees": fees,
        "pnl": {"legs": legs, "funding": funding, "fees": fees, "net": legs + funding - fees},
        "risk": {"level": position.risk_level, "reasons": list(position.risk_reasons)},
    }
    if next_funding:
        doc["next_funding"] = next_funding
    return doc


def market_doc(
    quotes: Iterable[MarketQuote], best: PairQuote | None, cost: Decimal | None
) -> dict[str, Any]:
    """``markets[symbol]``: one entry per venue, plus ``best`` (the widest pair).

    A venue's ``apr`` annualises its last rate; ``signal_apr`` (present when averaging
    makes it differ) is what ``best`` and the strategy's decisions use.

    ``cost`` is the round-trip fee fraction of the best pair; ``days_to_break_even`` is
    left out when the spread never pays it.
    """
    doc: dict[str, Any] = {}
    for q in quotes:
        entry: dict[str, Any] = {
            "rate": q.rate,
            "apr": apr_text(q.apr),
            "interval_h": q.interval_h,
            "next_funding_time": q.next_funding_time,
            "mark": q.mark,
        }
        if q.signal_apr != q.apr:
            entry["signal_apr"] = apr_text(q.signal_apr)
        doc[q.venue] = entry
    if best is not None:
        pair: dict[str, Any] = {
            "long": best.long_venue,
            "short": best.short_venue,
            "spread_apr": apr_text(best.spread_apr),
        }
        days = None if cost is None else days_to_break_even(cost, best.spread_apr)
        if days is not None:
            pair["days_to_break_even"] = days.quantize(_TENTH, rounding=ROUND_HALF_EVEN)
        doc["best"] = pair
    return doc


def totals_doc(
    position_docs: Mapping[str, Mapping[str, Any]], realized_pnl: Decimal
) -> dict[str, Any]:
    """``totals`` as exact sums of the (already rounded) position documents.

    ``unrealized_pnl`` is the open legs' price PnL; ``net_pnl = realized_pnl +
    unrealized_pnl + funding_collected - fees`` (open positions' funding and fees; closed
    ones are inside ``realized_pnl``).
    """
    notional = funding = fees = legs = _ZERO
    for doc in position_docs.values():
        notional += doc["notional"]
        funding += doc["funding_collected"]
        fees += doc["fees"]
        legs += doc["pnl"]["legs"]
    realized = money(realized_pnl)
    return {
        "open_positions": len(position_docs),
        "notional": notional,
        "funding_collected": funding,
        "fees": fees,
        "unrealized_pnl": legs,
        "realized_pnl": realized,
        "net_pnl": realized + legs + funding - fees,
    }
