"""The positions table: a DataTable keyed by position id, updated cell by cell."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any, ClassVar

from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import DataTable

from tui.view import COLUMNS, TableDiff, TableModel
from tui.widgets._keyed_table import KeyedTable

__all__ = ["PositionTable"]


class PositionTable(KeyedTable):
    """Open positions. Rows are keyed by position id and never rebuilt: a new document
    becomes removed rows, added rows and changed cells (see :class:`TableModel`), so the
    cursor stays on its position and the scroll position holds.

    On a narrow terminal the least useful columns are left out (as ``dash watch`` does);
    only a resize across a threshold rebuilds the rows.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("c", "request_close", "Close", tooltip="Close the selected position"),
        Binding("o", "cycle_sort", "Sort", tooltip="Sort by the next column"),
        Binding("r", "reverse_sort", "Reverse", show=False),
    ]
    """
    | Key | Action |
    | :- | :- |
    | c | Ask to close the selected position (posts CloseRequested). |
    | o | Sort by the next column. |
    | r | Reverse the sort. |
    """

    DEFAULT_CSS = """
    PositionTable {
        border-subtitle-align: right;
    }
    """

    class CloseRequested(Message):
        """The operator asked to close ``position`` (nothing is sent yet)."""

        def __init__(self, table: PositionTable, position: str) -> None:
            super().__init__()
            self.table = table
            self.position = position

        @property
        def control(self) -> PositionTable:
            return self.table

    def __init__(self, *, allow_close: bool = True, id: str | None = None) -> None:
        model = TableModel()
        super().__init__(COLUMNS, model, id=id)
        self.model = model
        self.allow_close = allow_close
        self._describe()

    def show(
        self,
        positions: Mapping[str, Mapping[str, Any]],
        now: datetime | None,
        touched: Iterable[str] | None = None,
    ) -> TableDiff:
        """Bring the rows up to ``positions`` (see :meth:`TableModel.sync`)."""
        diff = self.model.sync(positions, now, touched)
        self.apply(diff)
        return diff

    def filter_rows(self, text: str) -> None:
        self.apply(self.model.set_filter(text))

    def sort_by(self, column: str | None, reverse: bool = False) -> None:
        self.apply(self.model.set_sort(column, reverse))

    def apply(self, diff: TableDiff) -> None:
        """Carry ``diff`` out, keeping the cursor on the position it was on."""
        super().apply(diff)
        self._describe()

    def reorder(self) -> None:
        self.sort(
            "id",
            key=lambda cell: self.model.sort_value(cell.plain),
            reverse=self.model.sort_reverse,
        )

    def request_close(self) -> None:
        """Post :class:`CloseRequested` for the selected position, if any."""
        pid = self.selected_id
        if pid is not None and self.allow_close:
            self.post_message(self.CloseRequested(self, pid))

    def _describe(self) -> None:
        model = self.model
        shown, total = len(model.shown), model.total
        self.border_title = (
            f"Positions {shown}" if shown == total else f"Positions {shown} of {total}"
        )
        notes = []
        if model.filter:
            notes.append(f"filter “{model.filter}”")
        if model.sort_column is not None:
            label = next(c.label for c in COLUMNS if c.key == model.sort_column)
            notes.append(f"sorted by {label} {'▼' if model.sort_reverse else '▲'}")
        self.border_subtitle = " · ".join(notes)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "request_close":
            return self.allow_close
        return True

    def _on_data_table_header_selected(self, event: DataTable.HeaderSelected) -> None:
        event.stop()
        column = event.column_key.value
        reverse = column == self.model.sort_column and not self.model.sort_reverse
        self.sort_by(column, reverse)

    def action_request_close(self) -> None:
        self.request_close()

    def action_cycle_sort(self) -> None:
        keys = [c.key for c in COLUMNS]
        current = self.model.sort_column
        following = keys[(keys.index(current) + 1) % len(keys)] if current in keys else keys[0]
        self.sort_by(following, self.model.sort_reverse)

    def action_reverse_sort(self) -> None:
        self.sort_by(self.model.sort_column or COLUMNS[0].key, not self.model.sort_reverse)
