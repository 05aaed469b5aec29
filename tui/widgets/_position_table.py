"""The positions table: a DataTable keyed by position id, updated cell by cell."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any, ClassVar

from rich.text import Text
from textual import events
from textual.binding import Binding, BindingType
from textual.coordinate import Coordinate
from textual.message import Message
from textual.widgets import DataTable

from tui.view import COLUMNS, Cell, Row, TableDiff, TableModel, fit_columns

__all__ = ["PositionTable"]


def _text(cell: Cell, justify: Any) -> Text:
    return Text(cell.text, style=cell.style, justify=justify, no_wrap=True, overflow="ellipsis")


class PositionTable(DataTable[Text]):
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
        height: 1fr;
        border-top: solid $primary;
        border-title-align: left;
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
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self.allow_close = allow_close
        self.model = TableModel()
        self._justify = {c.key: c.justify for c in COLUMNS}
        self._keys: tuple[str, ...] = ()
        self._set_columns(tuple(c.key for c in COLUMNS))
        self._describe()

    @property
    def column_keys(self) -> tuple[str, ...]:
        """The columns shown at the current width."""
        return self._keys

    @property
    def selected_id(self) -> str | None:
        """The position under the cursor."""
        if not self.row_count:
            return None
        row_key, _ = self.coordinate_to_cell_key(Coordinate(self.cursor_row, 0))
        return row_key.value

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
        if not diff:
            self._describe()
            return
        keep = self.selected_id
        cursor_row = self.cursor_row
        for pid in diff.removed:
            self.remove_row(pid)
        for pid, row in diff.added:
            self._add(pid, row)
        justify = self._justify
        shown = self._keys
        for pid, column, cell in diff.changed:
            if column in shown:
                self.update_cell(pid, column, _text(cell, justify[column]))
        if diff.reorder:
            self.sort(
                "id",
                key=lambda cell: self.model.sort_value(cell.plain),
                reverse=self.model.sort_reverse,
            )
        if keep is not None and keep in self.rows:
            index = self.get_row_index(keep)
            if index != self.cursor_row:
                self.move_cursor(row=index, scroll=False)
        elif keep is not None and self.row_count:
            # The selected position is gone: stay at the same height in the table.
            self.move_cursor(row=min(cursor_row, self.row_count - 1), scroll=False)
        self._describe()

    def fit(self, width: int) -> None:
        """Show the columns that fit ``width`` cells; rebuilds the rows if that changes."""
        keys = fit_columns(COLUMNS, width, self.cell_padding)
        if keys == self._keys:
            return
        keep = self.selected_id
        self.clear(columns=True)
        self._set_columns(keys)
        for pid in self.model.order():
            row = self.model.row(pid)
            if row is not None:
                self._add(pid, row)
        if keep is not None and keep in self.rows:
            self.move_cursor(row=self.get_row_index(keep))

    def request_close(self) -> None:
        """Post :class:`CloseRequested` for the selected position, if any."""
        pid = self.selected_id
        if pid is not None and self.allow_close:
            self.post_message(self.CloseRequested(self, pid))

    def _set_columns(self, keys: tuple[str, ...]) -> None:
        self._keys = keys
        for column in COLUMNS:
            if column.key in keys:
                self.add_column(column.label, width=column.width, key=column.key)

    def _add(self, pid: str, row: Row) -> None:
        justify = self._justify
        self.add_row(*(_text(row[k], justify[k]) for k in self._keys), key=pid)

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

    def _on_resize(self, event: events.Resize) -> None:
        # Leave room for the vertical scrollbar, which comes and goes with the rows.
        self.fit(event.size.width - 2)

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
