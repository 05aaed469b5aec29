"""The view model: snapshot documents and patches mapped to what the screen shows.

No Textual and no I/O here: these functions and classes turn the stream into rows, cells
and histories, and the widgets only paint what they are given.
"""

from __future__ import annotations

from tui.view._columns import (
    COLUMNS,
    RISK_STYLES,
    Cell,
    Column,
    fit_columns,
    next_funding_cell,
    position_cells,
    risk_cell,
)
from tui.view._commands import MAX_EARLY, CommandTracker
from tui.view._doc import market_time, section
from tui.view._format import (
    MISSING,
    age,
    bps,
    countdown,
    dec,
    money,
    next_funding_seconds,
    parse_time,
    percent,
    price,
    quantity,
    short_time,
    sign_style,
)
from tui.view._history import MAX_PAYMENTS, MAX_POINTS, History, Payment, Trace
from tui.view._log import LEVELS, LogEntry, alert_entries, command_outcome, merge, notice_entry
from tui.view._overview import OVERVIEW_COLUMNS, TOTAL, OverviewModel, summary_cells
from tui.view._pending import Frame, PendingFrame
from tui.view._table import FILTER_COLUMNS, Row, TableDiff, TableModel

__all__ = [
    "COLUMNS",
    "FILTER_COLUMNS",
    "LEVELS",
    "MAX_EARLY",
    "MAX_PAYMENTS",
    "MAX_POINTS",
    "MISSING",
    "OVERVIEW_COLUMNS",
    "RISK_STYLES",
    "TOTAL",
    "Cell",
    "Column",
    "CommandTracker",
    "Frame",
    "History",
    "LogEntry",
    "OverviewModel",
    "Payment",
    "PendingFrame",
    "Row",
    "TableDiff",
    "TableModel",
    "Trace",
    "age",
    "alert_entries",
    "bps",
    "command_outcome",
    "countdown",
    "dec",
    "fit_columns",
    "market_time",
    "merge",
    "money",
    "next_funding_cell",
    "next_funding_seconds",
    "notice_entry",
    "parse_time",
    "percent",
    "position_cells",
    "price",
    "quantity",
    "risk_cell",
    "section",
    "short_time",
    "sign_style",
    "summary_cells",
]
