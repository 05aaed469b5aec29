"""Rich renderables the widgets draw with: plain objects, testable without an app."""

from __future__ import annotations

from tui.renderables.alerts import LEVEL_STYLES, AlertsView
from tui.renderables.detail import PositionDetailView
from tui.renderables.markets import MarketsView
from tui.renderables.sparkline import BARS, Sparkline, spark
from tui.renderables.status import LINK_TEXT, Status, StatusLine
from tui.renderables.totals import TotalsLine

__all__ = [
    "BARS",
    "LEVEL_STYLES",
    "LINK_TEXT",
    "AlertsView",
    "MarketsView",
    "PositionDetailView",
    "Sparkline",
    "Status",
    "StatusLine",
    "TotalsLine",
    "spark",
]
