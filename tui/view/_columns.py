"""The positions table's columns, and one position document turned into its cells.

The columns follow ``dash watch``: symbol, long and short venues, quantity, entry and
current spread APR, erosion, divergence, funding collected, fees, net PnL, time to the
next funding and the risk level. A cell is a plain value (text, style, sort key), so the
table model can compare old and new cells without any terminal library.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, Final, Literal

from tui.view._format import (
    MISSING,
    bps,
    countdown,
    dec,
    money,
    parse_time,
    percent,
    quantity,
    sign_style,
)

__all__ = [
    "COLUMNS",
    "RISK_STYLES",
    "Cell",
    "Column",
    "next_funding_cell",
    "next_funding_seconds",
    "position_cells",
    "risk_cell",
]

Justify = Literal["left", "right", "center"]


@dataclass(frozen=True, slots=True)
class Column:
    """A table column: ``key`` names it in cells and in the table widget."""

    key: str
    label: str
    width: int
    justify: Justify = "right"


@dataclass(frozen=True, slots=True)
class Cell:
    """What one table cell shows. ``sort`` orders rows by this column (numbers sort as
    numbers, a missing value last); it does not take part in equality."""

    text: str
    style: str = ""
    sort: Any = field(default=None, compare=False)


COLUMNS: Final[tuple[Column, ...]] = (
    Column("symbol", "Symbol", 10, "left"),
    Column("long", "Long", 8, "left"),
    Column("short", "Short", 8, "left"),
    Column("qty", "Qty", 9),
    Column("entry_apr", "Entry APR", 9),
    Column("apr", "APR", 8),
    Column("erosion", "Erosion", 8),
    Column("divergence", "Div bps", 7),
    Column("funding", "Funding", 9),
    Column("fees", "Fees", 8),
    Column("net", "Net PnL", 10),
    Column("next", "Next fund", 9),
    Column("risk", "Risk", 4, "left"),
    Column("id", "Position", 10, "left"),
)

RISK_STYLES: Final[Mapping[str, tuple[str, str]]] = {
    # level -> (text, style). The text alone carries the meaning (NO_COLOR).
    "ok": ("ok", "green"),
    "warn": ("WARN", "bold yellow"),
    "critical": ("CRIT", "bold red"),
}

_NO_SORT: Final = (1, Decimal(0))  # missing values sort after every number


def _num(value: Any) -> tuple[int, Decimal]:
    number = dec(value)
    return _NO_SORT if number is None else (0, number)


def _text(value: Any) -> str:
    return value if isinstance(value, str) and value else MISSING


def next_funding_seconds(doc: Mapping[str, Any], now: datetime | None) -> float | None:
    """Seconds from ``now`` (the strategy's market clock) to the earlier leg's funding."""
    if now is None:
        return None
    times = doc.get("next_funding")
    if not isinstance(times, Mapping):
        return None
    parsed = [t for t in (parse_time(v) for v in times.values()) if t is not None]
    if not parsed:
        return None
    return (min(parsed) - now).total_seconds()


def next_funding_cell(doc: Mapping[str, Any], now: datetime | None) -> Cell:
    seconds = next_funding_seconds(doc, now)
    return Cell(countdown(seconds), "", (1, 0.0) if seconds is None else (0, seconds))


def risk_cell(doc: Mapping[str, Any]) -> Cell:
    risk = doc.get("risk")
    level = risk.get("level") if isinstance(risk, Mapping) else None
    if not isinstance(level, str):
        return Cell(MISSING, "", 9)
    text, style = RISK_STYLES.get(level, (level[:4].upper(), "bold magenta"))
    rank = {"ok": 0, "warn": 1, "critical": 2}.get(level, 3)
    return Cell(text, style, rank)


def _erosion_style(value: Any) -> str:
    number = dec(value)
    if number is None:
        return ""
    if number >= 1:
        return "bold red"
    if number >= Decimal("0.5"):
        return "yellow"
    return ""


def position_cells(pid: str, doc: Mapping[str, Any], now: datetime | None) -> dict[str, Cell]:
    """Every column's cell for one ``positions[pid]`` document at market time ``now``."""
    long = doc.get("long") if isinstance(doc.get("long"), Mapping) else {}
    short = doc.get("short") if isinstance(doc.get("short"), Mapping) else {}
    pnl = doc.get("pnl") if isinstance(doc.get("pnl"), Mapping) else {}
    symbol = _text(doc.get("symbol"))
    long_venue = _text(long.get("venue"))
    short_venue = _text(short.get("venue"))
    net = pnl.get("net")
    erosion = doc.get("erosion")
    entry_apr = doc.get("entry_spread_apr")
    return {
        "symbol": Cell(symbol, "bold", symbol),
        "long": Cell(long_venue, "", long_venue),
        "short": Cell(short_venue, "", short_venue),
        "qty": Cell(quantity(doc.get("qty")), "", _num(doc.get("qty"))),
        "entry_apr": Cell(percent(entry_apr), "", _num(entry_apr)),
        "apr": Cell(percent(doc.get("spread_apr")), "", _num(doc.get("spread_apr"))),
        "erosion": Cell(percent(erosion, 1), _erosion_style(erosion), _num(erosion)),
        "divergence": Cell(bps(doc.get("divergence_bps")), "", _num(doc.get("divergence_bps"))),
        "funding": Cell(
            money(doc.get("funding_collected"), signed=True),
            sign_style(doc.get("funding_collected")),
            _num(doc.get("funding_collected")),
        ),
        "fees": Cell(money(doc.get("fees")), "", _num(doc.get("fees"))),
        "net": Cell(money(net, signed=True), sign_style(net), _num(net)),
        "next": next_funding_cell(doc, now),
        "risk": risk_cell(doc),
        "id": Cell(pid, "dim", pid),
    }
