"""The positions table's columns, and one position document turned into its cells.

The columns and their order follow ``dash watch``: id, symbol, long/short venues,
quantity, entry and current spread APR, erosion, divergence, funding collected, fees, net
PnL, time to the next funding and the risk level. A cell is a plain value (text, style,
sort key), so the table model can compare old and new cells without a terminal library.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, Final, Literal

from tui.view._doc import section
from tui.view._format import (
    MISSING,
    bps,
    countdown,
    dec,
    money,
    next_funding_seconds,
    percent,
    quantity,
    sign_style,
)

__all__ = [
    "COLUMNS",
    "RISK_STYLES",
    "Cell",
    "Column",
    "fit_columns",
    "next_funding_cell",
    "position_cells",
    "risk_cell",
]

Justify = Literal["left", "right", "center"]


@dataclass(frozen=True, slots=True)
class Column:
    """A table column: ``key`` names it in cells and in the table widget; ``width`` is
    its content width. ``priority`` 1 is never dropped; on a narrow terminal the column
    with the largest priority goes first (the rightmost among equals), as in
    ``dash watch``."""

    key: str
    label: str
    width: int
    priority: int
    justify: Justify = "right"


@dataclass(frozen=True, slots=True)
class Cell:
    """What one table cell shows. ``sort`` orders rows by this column (numbers sort as
    numbers, a missing value last); it does not take part in equality."""

    text: str
    style: str = ""
    sort: Any = field(default=None, compare=False)


COLUMNS: Final[tuple[Column, ...]] = (
    Column("id", "Position", 10, 1, "left"),
    Column("symbol", "Symbol", 9, 1, "left"),
    Column("venues", "Long/Short", 13, 2, "left"),
    Column("qty", "Qty", 8, 7),
    Column("entry_apr", "Entry", 7, 4),
    Column("apr", "APR", 7, 2),
    Column("erosion", "Erosion", 7, 5),
    Column("divergence", "Div bps", 7, 4),
    Column("funding", "Funding", 9, 3),
    Column("fees", "Fees", 8, 6),
    Column("net", "Net PnL", 10, 1),
    Column("next", "Next", 6, 3),
    Column("risk", "Risk", 8, 1, "left"),
)

# The level's own word is shown, so the meaning survives NO_COLOR.
RISK_STYLES: Final[Mapping[str, str]] = {
    "ok": "green",
    "warn": "bold yellow",
    "critical": "bold white on red",
}

_NO_SORT: Final = (1, Decimal(0))  # missing values sort after every number


def _num(value: Any) -> tuple[int, Decimal]:
    number = dec(value)
    return _NO_SORT if number is None else (0, number)


def _text(value: Any) -> str:
    return value if isinstance(value, str) and value else MISSING


def next_funding_cell(doc: Mapping[str, Any], now: datetime | None) -> Cell:
    seconds = next_funding_seconds(doc, now)
    return Cell(countdown(seconds), "", (1, 0.0) if seconds is None else (0, seconds))


def risk_cell(doc: Mapping[str, Any]) -> Cell:
    level = section(doc, "risk").get("level")
    if not isinstance(level, str) or not level:
        return Cell(MISSING, "", 9)
    rank = {"ok": 0, "warn": 1, "critical": 2}.get(level, 3)
    return Cell(level, RISK_STYLES.get(level, "bold magenta"), rank)


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
    long, short, pnl = section(doc, "long"), section(doc, "short"), section(doc, "pnl")
    symbol = _text(doc.get("symbol"))
    venues = f"{_text(long.get('venue'))}/{_text(short.get('venue'))}"
    net = pnl.get("net")
    erosion = doc.get("erosion")
    entry_apr = doc.get("entry_spread_apr")
    funding = doc.get("funding_collected")
    return {
        "id": Cell(pid, "dim", pid),
        "symbol": Cell(symbol, "bold", symbol),
        "venues": Cell(venues, "", venues),
        "qty": Cell(quantity(doc.get("qty")), "", _num(doc.get("qty"))),
        "entry_apr": Cell(percent(entry_apr), "", _num(entry_apr)),
        "apr": Cell(percent(doc.get("spread_apr")), "", _num(doc.get("spread_apr"))),
        "erosion": Cell(percent(erosion, 0), _erosion_style(erosion), _num(erosion)),
        "divergence": Cell(bps(doc.get("divergence_bps")), "", _num(doc.get("divergence_bps"))),
        "funding": Cell(money(funding, signed=True), sign_style(funding), _num(funding)),
        "fees": Cell(money(doc.get("fees")), "", _num(doc.get("fees"))),
        "net": Cell(money(net, signed=True), sign_style(net), _num(net)),
        "next": next_funding_cell(doc, now),
        "risk": risk_cell(doc),
    }


def fit_columns(columns: tuple[Column, ...], width: int, padding: int = 1) -> tuple[str, ...]:
    """The keys of the columns that fit in ``width`` cells (each column also takes
    ``padding`` on both sides), dropping by priority."""
    keep = list(columns)
    while sum(c.width + 2 * padding for c in keep) > width:
        droppable = [c for c in keep if c.priority > 1]
        if not droppable:
            break
        worst = max(droppable, key=lambda c: (c.priority, keep.index(c)))
        keep.remove(worst)
    return tuple(c.key for c in keep)
