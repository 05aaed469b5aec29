"""The strategy's parts of the snapshot document, built from the book.

Shapes follow /work/shared/DESIGN.md "Snapshot document": collections keyed by id, money
as strings, no nulls (an unknown value is left out). Money is rounded to the cent here,
once, and totals are sums of the rounded per-position figures, so a reader adding up the
positions gets exactly the totals.

Documents leave this module JSON-ready (strings, ints, lists), so the state's conversion
pass is one type check per member. Every cycle re-marks every open position and market,
and the state's cost grows with the members it is handed, so :class:`DocumentBuilder`
builds an entry whole once and afterwards only the members whose inputs moved (marks
move leg PnL, notional, divergence and net PnL; the rest moves at settlements, risk
changes or closes), written with ``update_*``. The state still diffs what it gets, so
patches stay minimal. The builder trusts its record of an entry's inputs only while the
state holds the very entry object that record produced: a replay, another writer or a
failed transaction makes it write that entry whole again.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from decimal import ROUND_HALF_EVEN, Decimal
from operator import is_
from typing import Any, NamedTuple

from state import Tx, iso_utc
from strategy.funding import PairQuote, days_to_break_even
from strategy.models import Leg, MarketQuote, Position

__all__ = [
    "DocumentBuilder",
    "Documents",
    "Figures",
    "MarketInputs",
    "apr_text",
    "market_doc",
    "money",
    "position_doc",
    "totals_doc",
]

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


def _apr(value: Decimal) -> str:
    return str(value.quantize(_APR, rounding=ROUND_HALF_EVEN))


def _bps(position: Position) -> str:
    return str(position.divergence_bps.quantize(_TENTH, rounding=ROUND_HALF_EVEN))


def _same(new: Sequence[object], old: Sequence[object]) -> bool:
    return all(map(is_, new, old))


def _reprinted(new: Decimal | None, old: Decimal | None) -> bool:
    """Whether ``new`` reads differently from ``old`` in a document.

    Raw Decimals (marks, rates) print as they were made: ``100.1`` and ``100.10`` are
    equal but differ as text, so equal values must also share exponent and sign."""
    if new is old:
        return False
    if new is None or old is None:
        return True
    return new != old or not new.same_quantum(old) or new.is_signed() != old.is_signed()


class Figures(NamedTuple):
    """One position's rounded figures, as its document shows them; totals add them up."""

    notional: Decimal
    legs: Decimal
    funding: Decimal
    fees: Decimal


class MarketInputs(NamedTuple):
    """What ``markets[symbol]`` is built from: this cycle's quotes and the widest pair."""

    quotes: Sequence[MarketQuote]
    best: PairQuote | None
    cost: Decimal | None


class _Position:
    """The inputs one committed position entry was built from, and its figures."""

    __slots__ = (
        "entry",
        "fees",
        "figures",
        "funding",
        "long_paid",
        "long_pnl",
        "next",
        "prices",
        "risk",
        "short_paid",
        "short_pnl",
        "spread",
        "static",
        "status",
    )

    def __init__(self, position: Position) -> None:
        long, short = position.long, position.short
        self.entry: Mapping[str, Any] | None = None
        self.static = _static(position)
        self.prices = (long.mark, short.mark, long.exit_price, short.exit_price)
        self.funding = _funding_inputs(long, short)
        self.fees = (position.entry_fees, position.exit_fees)
        self.spread = position.spread_apr
        self.status: str = position.status
        self.risk = (position.risk_level, position.risk_reasons)
        self.next = (long.next_funding_time, short.next_funding_time)
        self.long_pnl = _leg_pnl(long, position.qty)
        self.short_pnl = _leg_pnl(short, position.qty)
        self.long_paid = money(long.funding)
        self.short_paid = money(short.funding)
        self.figures = Figures(
            money(position.notional),
            self.long_pnl + self.short_pnl,
            self.long_paid + self.short_paid,
            money(position.fees),
        )

    def doc(self, position: Position) -> dict[str, Any]:
        long, short = position.long, position.short
        notional, legs, funding, fees = self.figures
        fees_text, funding_text = str(fees), str(funding)
        doc: dict[str, Any] = {
            "symbol": position.symbol,
            "status": position.status,
            "long": _leg_doc(long, self.long_pnl, self.long_paid),
            "short": _leg_doc(short, self.short_pnl, self.short_paid),
            "qty": str(position.qty),
            "notional": str(notional),
            "opened_at": iso_utc(position.opened_at),
            "entry_spread_apr": _apr(position.entry_spread_apr),
            "spread_apr": _apr(position.spread_apr),
            "erosion": _apr(position.erosion),
            "divergence_bps": _bps(position),
            "funding_collected": funding_text,
            "fees": fees_text,
            "pnl": {
                "legs": str(legs),
                "funding": funding_text,
                "fees": fees_text,
                "net": str(legs + funding - fees),
            },
            "risk": {"level": position.risk_level, "reasons": list(position.risk_reasons)},
        }
        next_funding = _next_funding(long, short)
        if next_funding:
            doc["next_funding"] = next_funding
        return doc


def _leg_pnl(leg: Leg, qty: Decimal) -> Decimal:
    return money(leg.price_pnl(qty, leg.exit_price))


def _leg_doc(leg: Leg, pnl: Decimal, paid: Decimal) -> dict[str, Any]:
    doc = {
        "venue": leg.venue,
        "entry_price": str(leg.entry_price),
        "mark": str(leg.mark),
        "pnl": str(pnl),
        "funding": str(paid),
    }
    if leg.last_funding_time is not None:
        doc["last_funding"] = iso_utc(leg.last_funding_time)
    return doc


def _funding_inputs(long: Leg, short: Leg) -> tuple[object, ...]:
    """What the legs' funding members are rendered from: amounts and settlement times
    (a settlement of exactly zero still moves ``last_funding``)."""
    return (long.funding, short.funding, long.last_funding_time, short.last_funding_time)


def _next_funding(long: Leg, short: Leg) -> dict[str, str]:
    return {
        leg.venue: iso_utc(leg.next_funding_time)
        for leg in (long, short)
        if leg.next_funding_time is not None
    }


def _position_changes(position: Position, was: _Position) -> tuple[dict[str, Any], _Position]:
    """The members of ``position`` whose inputs differ from ``was``, and the new record."""
    now = _Position.__new__(_Position)
    long, short = position.long, position.short
    changes: dict[str, Any] = {}
    long_doc: dict[str, Any] = {}
    short_doc: dict[str, Any] = {}
    pnl_doc: dict[str, Any] = {}
    now.entry = None
    now.static = was.static
    notional, legs, funding, fees = was.figures
    moved = False

    now.prices = prices = (long.mark, short.mark, long.exit_price, short.exit_price)
    if not any(map(_reprinted, prices, was.prices)):
        now.long_pnl, now.short_pnl = was.long_pnl, was.short_pnl
    else:
        qty = position.qty
        now.long_pnl = _leg_pnl(long, qty)
        now.short_pnl = _leg_pnl(short, qty)
        long_doc["mark"] = str(long.mark)
        long_doc["pnl"] = str(now.long_pnl)
        short_doc["mark"] = str(short.mark)
        short_doc["pnl"] = str(now.short_pnl)
        notional = money(position.notional)
        changes["notional"] = str(notional)
        changes["divergence_bps"] = _bps(position)
        legs = now.long_pnl + now.short_pnl
        pnl_doc["legs"] = str(legs)
        moved = True

    now.funding = _funding_inputs(long, short)
    if now.funding == was.funding:
        now.long_paid, now.short_paid = was.long_paid, was.short_paid
    else:
        now.long_paid = money(long.funding)
        now.short_paid = money(short.funding)
        long_doc["funding"] = str(now.long_paid)
        short_doc["funding"] = str(now.short_paid)
        if long.last_funding_time is not None:
            long_doc["last_funding"] = iso_utc(long.last_funding_time)
        if short.last_funding_time is not None:
            short_doc["last_funding"] = iso_utc(short.last_funding_time)
        funding = now.long_paid + now.short_paid
        changes["funding_collected"] = pnl_doc["funding"] = str(funding)
        moved = True

    now.fees = (position.entry_fees, position.exit_fees)
    if now.fees != was.fees:
        fees = money(position.fees)
        changes["fees"] = pnl_doc["fees"] = str(fees)
        moved = True

    if moved:
        pnl_doc["net"] = str(legs + funding - fees)
        changes["pnl"] = pnl_doc
        if long_doc:
            changes["long"] = long_doc
            changes["short"] = short_doc
    now.figures = Figures(notional, legs, funding, fees) if moved else was.figures

    now.spread = position.spread_apr
    if now.spread != was.spread:
        changes["spread_apr"] = _apr(position.spread_apr)
        changes["erosion"] = _apr(position.erosion)
    now.status = position.status
    if now.status != was.status:
        changes["status"] = now.status
    now.risk = (position.risk_level, position.risk_reasons)
    if now.risk != was.risk:
        changes["risk"] = {"level": position.risk_level, "reasons": list(position.risk_reasons)}
    now.next = (long.next_funding_time, short.next_funding_time)
    if now.next != was.next:
        if long.next_funding_time is None and short.next_funding_time is None:
            changes["next_funding"] = None
        else:
            changes["next_funding"] = {
                leg.venue: None if leg.next_funding_time is None else iso_utc(leg.next_funding_time)
                for leg in (long, short)
            }
    return changes, now


def position_doc(position: Position) -> dict[str, Any]:
    """``positions[id]``: legs, PnL split, spread, erosion, divergence, risk."""
    return _Position(position).doc(position)


def _venue_doc(q: MarketQuote) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "rate": str(q.rate),
        "apr": _apr(q.apr),
        "interval_h": q.interval_h,
        "next_funding_time": iso_utc(q.next_funding_time),
        "mark": str(q.mark),
    }
    if q.signal_apr != q.apr:
        entry["signal_apr"] = _apr(q.signal_apr)
    return entry


def _best_doc(best: PairQuote, cost: Decimal | None) -> dict[str, Any]:
    pair: dict[str, Any] = {
        "long": best.long_venue,
        "short": best.short_venue,
        "spread_apr": _apr(best.spread_apr),
    }
    days = None if cost is None else days_to_break_even(cost, best.spread_apr)
    if days is not None:
        pair["days_to_break_even"] = str(days.quantize(_TENTH, rounding=ROUND_HALF_EVEN))
    return pair


def _best_key(best: PairQuote | None, cost: Decimal | None) -> tuple[object, ...] | None:
    if best is None:
        return None
    return (best.long_venue, best.short_venue, best.long_apr, best.short_apr, cost)


def market_doc(
    quotes: Iterable[MarketQuote], best: PairQuote | None, cost: Decimal | None
) -> dict[str, Any]:
    """``markets[symbol]``: one entry per venue, plus ``best`` (the widest pair).

    A venue's ``apr`` annualises its last rate; ``signal_apr`` (present when averaging
    makes it differ) is what ``best`` and the strategy's decisions use.

    ``cost`` is the round-trip fee fraction of the best pair; ``days_to_break_even`` is
    left out when the spread never pays it.
    """
    doc: dict[str, Any] = {q.venue: _venue_doc(q) for q in quotes}
    if best is not None:
        doc["best"] = _best_doc(best, cost)
    return doc


class _Market:
    """The inputs one committed market entry was built from."""

    __slots__ = ("best", "entry", "quotes")

    def __init__(self, inputs: MarketInputs) -> None:
        self.entry: Mapping[str, Any] | None = None
        self.quotes = tuple(inputs.quotes)
        self.best = _best_key(inputs.best, inputs.cost)


def _quote_changes(q: MarketQuote, was: MarketQuote) -> dict[str, Any]:
    if (
        q.rate is was.rate
        and q.apr == was.apr
        and q.signal_apr == was.signal_apr
        and q.next_funding_time == was.next_funding_time
        and q.interval_h == was.interval_h
    ):  # between settlements only the mark moves
        return {"mark": str(q.mark)} if _reprinted(q.mark, was.mark) else {}
    sub: dict[str, Any] = {}
    if _reprinted(q.mark, was.mark):
        sub["mark"] = str(q.mark)
    if _reprinted(q.rate, was.rate):
        sub["rate"] = str(q.rate)
    if q.apr != was.apr:
        sub["apr"] = _apr(q.apr)
    if q.interval_h != was.interval_h:
        sub["interval_h"] = q.interval_h
    if q.next_funding_time != was.next_funding_time:
        sub["next_funding_time"] = iso_utc(q.next_funding_time)
    if q.signal_apr != was.signal_apr or q.apr != was.apr:
        sub["signal_apr"] = None if q.signal_apr == q.apr else _apr(q.signal_apr)
    return sub


def _market_changes(
    inputs: MarketInputs, was: _Market
) -> tuple[dict[str, Any] | None, _Market]:
    """The moved members of a market entry, or ``None`` when its venues changed (then
    it is written whole, keeping the venues in the order ``market_doc`` gives them)."""
    now = _Market(inputs)
    if len(now.quotes) != len(was.quotes):
        return None, now
    changes: dict[str, Any] = {}
    for q, before in zip(now.quotes, was.quotes, strict=True):
        if q is before:
            continue
        if q.venue != before.venue:
            return None, now
        sub = _quote_changes(q, before)
        if sub:
            changes[q.venue] = sub
    if now.best != was.best:
        best = inputs.best
        if best is None:
            changes["best"] = None
        else:
            pair = _best_doc(best, inputs.cost)
            pair.setdefault("days_to_break_even", None)  # merge-patch: drop a stale one
            changes["best"] = pair
    return changes, now


def totals_doc(figures: Iterable[Figures], realized_pnl: Decimal) -> dict[str, Any]:
    """``totals`` as exact sums of the (already rounded) position figures.

    ``unrealized_pnl`` is the open legs' price PnL; ``net_pnl = realized_pnl +
    unrealized_pnl + funding_collected - fees`` (open positions' funding and fees; closed
    ones are inside ``realized_pnl``).
    """
    count = 0
    notional = funding = fees = legs = _ZERO
    for f in figures:
        count += 1
        notional += f.notional
        legs += f.legs
        funding += f.funding
        fees += f.fees
    realized = money(realized_pnl)
    return {
        "open_positions": count,
        "notional": str(notional),
        "funding_collected": str(funding),
        "fees": str(fees),
        "unrealized_pnl": str(legs),
        "realized_pnl": str(realized),
        "net_pnl": str(realized + legs + funding - fees),
    }


class Documents:
    """What one commit writes: per entry whole (``put_*``) or the moved members
    (``update_*``), plus totals. Made by :meth:`DocumentBuilder.build`."""

    __slots__ = ("_markets", "_positions", "base", "markets", "positions", "totals")

    def __init__(self, base: Mapping[str, Any]) -> None:
        self.base = base
        # (key, whole, document or changes); empty changes are left out
        self.positions: list[tuple[str, bool, dict[str, Any]]] = []
        self.markets: list[tuple[str, bool, dict[str, Any]]] = []
        self.totals: dict[str, Any] = {}
        self._positions: dict[str, _Position] = {}
        self._markets: dict[str, _Market] = {}

    def write(self, tx: Tx) -> None:
        """Stage everything on ``tx``, which must have started from ``base``."""
        if tx.doc is not self.base:
            raise ValueError("documents built against another version of the state")
        for pid, whole, doc in self.positions:
            if whole:
                tx.put_position(pid, doc)
            else:
                tx.update_position(pid, doc, moved=True)
        for symbol, whole, doc in self.markets:
            if whole:
                tx.put_market(symbol, doc)
            else:
                tx.update_market(symbol, doc, moved=True)
        tx.set_totals(self.totals)


class DocumentBuilder:
    """Position, market and totals documents for one state, rebuilt only where they moved.

    ``build`` against the document a transaction starts from, ``Documents.write`` into
    that transaction, then ``committed`` with the document it produced; skip
    ``committed`` when the transaction failed, and the next build writes relative to the
    last committed inputs again.
    """

    def __init__(self) -> None:
        self._positions: dict[str, _Position] = {}
        self._markets: dict[str, _Market] = {}

    def build(
        self,
        base: Mapping[str, Any],
        positions: Iterable[Position],
        markets: Mapping[str, MarketInputs],
        realized_pnl: Decimal,
    ) -> Documents:
        """Documents of ``positions`` and ``markets`` for a transaction from ``base``."""
        docs = Documents(base)
        committed = base["positions"]
        staged = docs._positions
        out = docs.positions
        for position in positions:
            pid = position.id
            was = self._positions.get(pid)
            if (
                was is None
                or was.entry is None
                or was.entry is not committed.get(pid)
                or not _same(was.static, _static(position))
            ):
                now = _Position(position)
                out.append((pid, True, now.doc(position)))
            else:
                changes, now = _position_changes(position, was)
                if changes:
                    out.append((pid, False, changes))
            staged[pid] = now
        docs.totals = totals_doc((p.figures for p in staged.values()), realized_pnl)
        committed = base["markets"]
        for symbol, inputs in markets.items():
            held = self._markets.get(symbol)
            moved: dict[str, Any] | None = None
            if held is not None and held.entry is not None and held.entry is committed.get(symbol):
                moved, market = _market_changes(inputs, held)
            if moved is None:
                market = _Market(inputs)
                docs.markets.append(
                    (symbol, True, market_doc(inputs.quotes, inputs.best, inputs.cost))
                )
            elif moved:
                docs.markets.append((symbol, False, moved))
            docs._markets[symbol] = market
        return docs

    def committed(self, docs: Documents, doc: Mapping[str, Any]) -> None:
        """``docs`` was written and committed; ``doc`` is the state's document now."""
        entries = doc["positions"]
        for pid, record in docs._positions.items():
            record.entry = entries.get(pid)
        self._positions = docs._positions
        entries = doc["markets"]
        for symbol, market in docs._markets.items():
            market.entry = entries.get(symbol)
        self._markets = docs._markets


def _static(position: Position) -> tuple[object, ...]:
    """Members that never change while a position is open (set once when it is made)."""
    long, short = position.long, position.short
    return (
        position.symbol,
        position.qty,
        position.opened_at,
        position.entry_spread_apr,
        long.venue,
        long.entry_price,
        short.venue,
        short.entry_price,
    )
