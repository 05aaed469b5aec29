"""The totals bar widget."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from textual.app import RenderResult
from textual.reactive import reactive
from textual.widget import Widget

from tui.renderables.totals import TotalsLine

__all__ = ["TotalsBar"]


class TotalsBar(Widget):
    """Open positions, notional, funding collected, fees, unrealised and net PnL."""

    DEFAULT_CSS = """
    TotalsBar {
        height: 1;
        padding: 0 1;
        background: $boost;
    }
    """

    totals: reactive[Mapping[str, Any]] = reactive(dict)
    """The document's ``totals``; an equal mapping repaints nothing."""

    def render(self) -> RenderResult:
        return TotalsLine(self.totals)
