"""The markets panel widget."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from textual.app import RenderResult
from textual.widget import Widget

from tui.renderables.markets import MarketsView

__all__ = ["MarketsPanel"]


class MarketsPanel(Widget):
    """Rates and APR per venue, the best spread and the funding countdowns."""

    DEFAULT_CSS = """
    MarketsPanel {
        height: auto;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._markets: Mapping[str, Any] = {}
        self._now: datetime | None = None

    def show(self, markets: Mapping[str, Any], now: datetime | None) -> None:
        """Draw ``markets`` at market time ``now`` on the next frame (a layout pass only
        when the number of lines may have changed)."""
        resized = markets.keys() != self._markets.keys()
        self._markets, self._now = markets, now
        self.refresh(layout=resized)

    def render(self) -> RenderResult:
        return MarketsView(self._markets, self._now)
