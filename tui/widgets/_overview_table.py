"""The "all strategies" table: one row per strategy and the combined total."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from textual.message import Message
from textual.widgets import DataTable

from tui.view import OVERVIEW_COLUMNS, TOTAL, OverviewModel
from tui.widgets._keyed_table import KeyedTable

__all__ = ["OverviewTable"]


class OverviewTable(KeyedTable):
    """Status, open positions, notional, funding, fees, unrealised and net PnL and the
    worst risk level of each strategy, then their total (see :class:`OverviewModel`).

    Rows are keyed by strategy id and updated cell by cell, so the cursor stays on its
    strategy; Enter on one posts :class:`StrategySelected`.
    """

    class StrategySelected(Message):
        """The operator chose ``strategy`` to see in full."""

        def __init__(self, table: OverviewTable, strategy: str) -> None:
            super().__init__()
            self.table = table
            self.strategy = strategy

        @property
        def control(self) -> OverviewTable:
            return self.table

    def __init__(self, *, id: str | None = None) -> None:
        model = OverviewModel()
        super().__init__(OVERVIEW_COLUMNS, model, id=id)
        self.model = model
        self.border_title = "All strategies"

    def show(self, names: Sequence[str], docs: Mapping[str, Mapping[str, Any]]) -> None:
        """Bring the rows up to the documents of ``names`` (see
        :meth:`OverviewModel.sync`)."""
        self.apply(self.model.sync(names, docs))
        self.border_title = f"All strategies {len(names)} · Enter shows one"

    def _on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        key = event.row_key.value
        if key is not None and key != TOTAL:
            self.post_message(self.StrategySelected(self, key))
