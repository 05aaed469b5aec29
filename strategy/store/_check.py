"""``dash db check``: the points of record against themselves, the snapshots and live state.

``strategy_positions`` and ``funding_payments`` are the truth. From them alone this
recomputes each payment (``-side * qty * mark * rate``), each leg's funding, each
position's fees and each closed position's realised PnL (legs at exit prices + funding -
fees), and reports any stored figure that disagrees. Then it rebuilds what a snapshot
document must say at the document's own market time (``clock``): which positions were
open, their per-leg funding, funding collected and fees (rounded to the cent as the
documents round), and the totals, and compares that with the latest stored snapshot and,
when one is given, with the live document of a running strategy.

Deleting a payment row therefore shows up twice over: a closed position's realised PnL
no longer adds up, and an open position's funding no longer matches its snapshot.

Reading "as of" the document's clock keeps a snapshot taken before later trades honest;
a settlement booked late (an exchange whose history lags) is counted at its funding time
and can show as a mismatch against snapshots taken between the two.
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Final

import orjson

from strategy.documents import money
from strategy.funding import LONG, SHORT, funding_payment
from strategy.store._codec import time_from_text, time_to_ms
from strategy.store._rows import funding_from_row, position_from_row
from strategy.store._sqlite import connect
from strategy.store.records import FundingPaymentRecord, PositionRecord

__all__ = ["Book", "CheckReport", "Mismatch", "check_db", "compare_document", "read_book"]

# Stored and recomputed figures are the same Decimal arithmetic on the same inputs, exact
# for these magnitudes; the slack only absorbs 28-digit context rounding should a sum ever
# reach it (errors near 1e-25 for thousands of USDT). Any real edit is far larger.
_TOLERANCE: Final = Decimal("1e-18")
_ZERO: Final = Decimal(0)


@dataclass(frozen=True, slots=True)
class Mismatch:
    """One figure that disagrees with what the points of record say.

    ``source`` is where the wrong figure was found: ``db`` (a stored row that does not
    add up), ``snapshot`` (the latest stored snapshot) or ``live`` (the running strategy).
    ``expected`` is what the DB says; ``found`` what the source says.
    """

    strategy: str
    source: str
    subject: str
    field: str
    expected: str
    found: str

    def __str__(self) -> str:
        if self.source == "db":
            return (
                f"{self.strategy} db: {self.subject} {self.field} is stored as {self.found}, "
                f"the records give {self.expected}"
            )
        return (
            f"{self.strategy} {self.source}: {self.subject} {self.field} is {self.found}, "
            f"the DB says {self.expected}"
        )


@dataclass(slots=True)
class CheckReport:
    """What ``check_db`` looked at and what it found; ``ok`` when nothing disagrees."""

    path: str
    strategies: list[str] = field(default_factory=list)
    positions: int = 0
    payments: int = 0
    compared: list[str] = field(default_factory=list)
    mismatches: list[Mismatch] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.mismatches

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "ok": self.ok,
            "strategies": self.strategies,
            "positions": self.positions,
            "payments": self.payments,
            "compared": self.compared,
            "mismatches": [asdict(m) for m in self.mismatches],
        }


@dataclass(frozen=True, slots=True)
class Book:
    """One strategy's points of record: positions and their payments."""

    positions: list[PositionRecord]
    payments: dict[str, list[FundingPaymentRecord]]  # by position id, in funding order


def read_book(conn: sqlite3.Connection, strategy: str) -> Book:
    """Everything the check needs, in two queries (payments in funding-time order)."""
    positions = [
        position_from_row(r)
        for r in conn.execute(
            "SELECT * FROM strategy_positions WHERE strategy = ? ORDER BY opened_at_ms, id",
            (strategy,),
        )
    ]
    payments: dict[str, list[FundingPaymentRecord]] = {p.id: [] for p in positions}
    for row in conn.execute(
        "SELECT * FROM funding_payments WHERE strategy = ? "
        "ORDER BY funding_time_ms, position_id, venue",
        (strategy,),
    ):
        payment = funding_from_row(row)
        payments.setdefault(payment.position_id, []).append(payment)
    return Book(positions, payments)


def _differs(a: Decimal, b: Decimal) -> bool:
    return abs(a - b) > _TOLERANCE


def _leg_funding(
    position: PositionRecord, payments: Sequence[FundingPaymentRecord], as_of_ms: int | None
) -> tuple[Decimal, Decimal]:
    long = short = _ZERO
    for p in payments:
        if as_of_ms is not None and time_to_ms(p.funding_time) > as_of_ms:
            continue
        if p.venue == position.long_venue:
            long += p.amount
        elif p.venue == position.short_venue:
            short += p.amount
    return long, short


def _check_rows(strategy: str, book: Book) -> list[Mismatch]:
    """The rows against themselves: every payment and every closed position adds up."""
    out: list[Mismatch] = []
    known = {p.id: p for p in book.positions}

    def bad(subject: str, name: str, expected: object, found: object) -> None:
        out.append(Mismatch(strategy, "db", subject, name, str(expected), str(found)))

    for pid, payments in book.payments.items():
        position = known.get(pid)
        for pay in payments:
            subject = f"payment {pid}/{pay.venue}@{pay.funding_time:%Y-%m-%dT%H:%M:%SZ}"
            if position is None:
                bad(subject, "position", "a stored position", "missing")
                continue
            sides = {position.long_venue: LONG, position.short_venue: SHORT}
            side = sides.get(pay.venue)
            if side is None:
                bad(subject, "venue", " or ".join(sides), pay.venue)
                continue
            if pay.side != side:
                bad(subject, "side", side, pay.side)
            if pay.qty != position.qty:
                bad(subject, "qty", position.qty, pay.qty)
            recomputed = funding_payment(pay.side, pay.qty, pay.mark, pay.rate)
            if _differs(recomputed, pay.amount):
                bad(subject, "amount", recomputed, pay.amount)
            if pay.funding_time <= position.opened_at:
                bad(subject, "funding_time", f"after {position.opened_at:%Y-%m-%dT%H:%M:%SZ}",
                    f"{pay.funding_time:%Y-%m-%dT%H:%M:%SZ}")
            if position.closed_at is not None and pay.funding_time > position.closed_at:
                bad(subject, "funding_time", f"by {position.closed_at:%Y-%m-%dT%H:%M:%SZ}",
                    f"{pay.funding_time:%Y-%m-%dT%H:%M:%SZ}")
    for position in book.positions:
        if position.closed_at is None:
            continue
        subject = f"position {position.id}"
        if (
            position.long_exit_price is None
            or position.short_exit_price is None
            or position.exit_fees is None
            or position.realized_pnl is None
        ):
            bad(subject, "exit", "exit prices, exit fees and realised PnL", "missing")
            continue
        q = position.qty
        legs = LONG * q * (position.long_exit_price - position.long_entry_price) + SHORT * q * (
            position.short_exit_price - position.short_entry_price
        )
        long, short = _leg_funding(position, book.payments.get(position.id, ()), None)
        realized = legs + (long + short) - (position.entry_fees + position.exit_fees)
        if _differs(realized, position.realized_pnl):
            bad(subject, "realized_pnl", realized, position.realized_pnl)
    return out


def _as_of(doc: Mapping[str, Any]) -> datetime | None:
    for key in ("clock", "ts"):
        value = doc.get(key)
        if isinstance(value, str):
            try:
                return time_from_text(value)
            except ValueError:
                continue
    return None


def _dec(value: object) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def compare_document(
    strategy: str, book: Book, doc: Mapping[str, Any], source: str
) -> list[Mismatch]:
    """What ``doc`` (a snapshot document) says against the book at the doc's clock."""
    out: list[Mismatch] = []

    def bad(subject: str, name: str, expected: object, found: object) -> None:
        out.append(Mismatch(strategy, source, subject, name, str(expected), str(found)))

    def same(subject: str, name: str, expected: Decimal, found: object) -> None:
        value = _dec(found)
        if value is None:
            bad(subject, name, expected, "missing" if found is None else repr(found))
        elif _differs(value, expected):
            bad(subject, name, expected, found)

    when = _as_of(doc)
    if when is None:
        bad("document", "clock", "a market time", "missing")
        return out
    as_of_ms = time_to_ms(when)
    open_now: list[PositionRecord] = []
    realized = _ZERO
    for p in book.positions:
        if time_to_ms(p.opened_at) > as_of_ms:
            continue
        if p.closed_at is not None and time_to_ms(p.closed_at) <= as_of_ms:
            realized += p.realized_pnl or _ZERO
        else:
            open_now.append(p)
    raw_docs = doc.get("positions")
    docs: Mapping[str, Any] = raw_docs if isinstance(raw_docs, Mapping) else {}
    funding_total = fees_total = _ZERO
    for p in open_now:
        subject = f"position {p.id}"
        long, short = _leg_funding(p, book.payments.get(p.id, ()), as_of_ms)
        collected = money(long) + money(short)
        fees = money(p.entry_fees)
        funding_total += collected
        fees_total += fees
        entry = docs.get(p.id)
        if not isinstance(entry, Mapping):
            bad(subject, "presence", "open", "absent")
            continue
        same(subject, "qty", p.qty, entry.get("qty"))
        for leg, venue, price, paid in (
            ("long", p.long_venue, p.long_entry_price, long),
            ("short", p.short_venue, p.short_entry_price, short),
        ):
            leg_doc = entry.get(leg)
            if not isinstance(leg_doc, Mapping):
                bad(subject, leg, "a leg", "missing")
                continue
            if leg_doc.get("venue") != venue:
                bad(subject, f"{leg}.venue", venue, leg_doc.get("venue"))
            same(subject, f"{leg}.entry_price", price, leg_doc.get("entry_price"))
            same(subject, f"{leg}.funding", money(paid), leg_doc.get("funding"))
        same(subject, "funding_collected", collected, entry.get("funding_collected"))
        same(subject, "fees", fees, entry.get("fees"))
    open_ids = {p.id for p in open_now}
    known = {p.id: p for p in book.positions}
    for pid in docs:
        if pid in open_ids:
            continue
        stored = known.get(pid)
        if stored is None:
            state = "not in the DB"
        elif time_to_ms(stored.opened_at) > as_of_ms:
            state = "not yet opened"
        else:
            state = "closed"
        bad(f"position {pid}", "presence", state, "open")
    totals = doc.get("totals")
    if isinstance(totals, Mapping) and totals:
        found_open = totals.get("open_positions")
        if found_open != len(open_now):
            bad("totals", "open_positions", len(open_now), found_open)
        same("totals", "funding_collected", funding_total, totals.get("funding_collected"))
        same("totals", "fees", fees_total, totals.get("fees"))
        if "realized_pnl" in totals:
            same("totals", "realized_pnl", money(realized), totals.get("realized_pnl"))
    return out


def _latest_snapshot(conn: sqlite3.Connection, strategy: str) -> tuple[int, str, Any] | None:
    row = conn.execute(
        "SELECT seq, taken_at, payload FROM dashboard_snapshots WHERE strategy = ? "
        "ORDER BY id DESC LIMIT 1",
        (strategy,),
    ).fetchone()
    if row is None:
        return None
    try:
        doc = orjson.loads(row["payload"])
    except orjson.JSONDecodeError:
        doc = None
    return int(row["seq"]), row["taken_at"], doc


def check_db(
    path: str | os.PathLike[str],
    *,
    strategy: str | None = None,
    live: Mapping[str, Mapping[str, Any]] | None = None,
    live_retries: int = 3,
    live_retry_s: float = 0.3,
) -> CheckReport:
    """Check every strategy of ``path`` (or just ``strategy``).

    Args:
        path: the database; opened read-only, so a running strategy is not disturbed.
        strategy: check only this one. Defaults to every strategy with positions or
            snapshots.
        live: documents of running strategies by id (the ``snapshot`` op's result).
            Defaults to none.
        live_retries: the live document may be a few milliseconds ahead of the writer;
            a live mismatch is confirmed by re-reading the DB this many times. Defaults
            to 3.
        live_retry_s: seconds between those reads. Defaults to 0.3.

    Raises:
        MaintenanceError: the database cannot be opened.
    """
    conn = connect(path, readonly=True)
    report = CheckReport(str(Path(path)))
    try:
        if strategy is not None:
            names = [strategy]
        else:
            rows = conn.execute(
                "SELECT strategy FROM strategy_positions UNION "
                "SELECT strategy FROM dashboard_snapshots ORDER BY strategy"
            ).fetchall()
            names = [r[0] for r in rows]
        report.strategies = names
        for name in names:
            book = read_book(conn, name)
            report.positions += len(book.positions)
            report.payments += sum(len(v) for v in book.payments.values())
            report.mismatches += _check_rows(name, book)
            latest = _latest_snapshot(conn, name)
            if latest is not None:
                seq, taken_at, doc = latest
                report.compared.append(f"{name} snapshot seq {seq} taken {taken_at}")
                if isinstance(doc, Mapping):
                    report.mismatches += compare_document(name, book, doc, "snapshot")
                else:
                    report.mismatches.append(
                        Mismatch(name, "snapshot", f"seq {seq}", "payload", "JSON", "unreadable")
                    )
            doc = (live or {}).get(name)
            if doc is not None:
                found = compare_document(name, book, doc, "live")
                for _ in range(live_retries):
                    if not found:
                        break
                    time.sleep(live_retry_s)
                    found = compare_document(name, read_book(conn, name), doc, "live")
                report.compared.append(f"{name} live seq {doc.get('seq')} clock {doc.get('clock')}")
                report.mismatches += found
    finally:
        conn.close()
    return report
