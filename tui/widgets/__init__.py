"""The dashboard's widgets, one per private module; each draws through a renderable in
``tui.renderables``."""

from __future__ import annotations

from tui.widgets._alerts_log import AlertsLog
from tui.widgets._confirm_close import ConfirmClose
from tui.widgets._filter_bar import FilterBar
from tui.widgets._help_screen import HelpScreen
from tui.widgets._keyed_table import KeyedTable
from tui.widgets._markets_panel import MarketsPanel
from tui.widgets._overview_screen import OverviewScreen
from tui.widgets._overview_table import OverviewTable
from tui.widgets._position_detail import PositionDetail
from tui.widgets._position_table import PositionTable
from tui.widgets._status_header import StatusHeader
from tui.widgets._strategy_picker import StrategyPicker
from tui.widgets._totals_bar import TotalsBar

__all__ = [
    "AlertsLog",
    "ConfirmClose",
    "FilterBar",
    "HelpScreen",
    "KeyedTable",
    "MarketsPanel",
    "OverviewScreen",
    "OverviewTable",
    "PositionDetail",
    "PositionTable",
    "StatusHeader",
    "StrategyPicker",
    "TotalsBar",
]
