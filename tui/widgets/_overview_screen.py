"""The "all strategies" overview (``a``): every strategy followed, on one socket or
several, at once."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Footer

from tui.widgets._overview_table import OverviewTable
from tui.widgets._status_header import StatusHeader

__all__ = ["OverviewScreen"]


class OverviewScreen(Screen[str | None]):
    """The header, the :class:`OverviewTable` and the footer; dismisses with the
    strategy chosen with Enter, or None on Esc or ``a``.

    Updates are merged: :meth:`show` only keeps the newest documents, and the table
    follows at most once per ``frame_s``.

    Args:
        names: the strategies, in order.
        docs: their current documents.
        frame_s: least time between two redraws of live data. Defaults to 0.1.
    """

    AUTO_FOCUS = "OverviewTable"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back"),
        Binding("a", "back", "Back", show=False),
    ]
    """
    | Key | Action |
    | :- | :- |
    | escape, a | Back to the strategy shown before. |
    """

    def __init__(
        self,
        names: Sequence[str],
        docs: Mapping[str, Mapping[str, Any]],
        *,
        frame_s: float = 0.1,
    ) -> None:
        super().__init__()
        self.names = list(names)
        self.docs = docs
        self.frame_s = frame_s
        self._timer: Timer | None = None
        # Made here, not in compose: the app may set the header before the screen shows.
        self.header = StatusHeader()
        self.table = OverviewTable(id="overview")

    def compose(self) -> ComposeResult:
        yield self.header
        yield self.table
        yield Footer()

    def show(self, names: Sequence[str], docs: Mapping[str, Mapping[str, Any]]) -> None:
        """Take the newest documents; the table shows them within ``frame_s``."""
        self.names = list(names)
        self.docs = docs
        if self._timer is None and self.is_mounted:
            self._timer = self.set_timer(self.frame_s, self._draw)

    def _draw(self) -> None:
        self._timer = None
        self.table.show(self.names, self.docs)

    def on_mount(self) -> None:
        self._draw()

    def on_overview_table_strategy_selected(self, message: OverviewTable.StrategySelected) -> None:
        message.stop()
        self.dismiss(message.strategy)

    def action_back(self) -> None:
        self.dismiss(None)
