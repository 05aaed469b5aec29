"""The base of the dashboard's tables: rows keyed by id, updated cell by cell."""

from __future__ import annotations

from typing import Any, Protocol

from rich.text import Text
from textual import events
from textual.coordinate import Coordinate
from textual.widgets import DataTable

from tui.view import Cell, Column, Row, TableDiff, fit_columns

__all__ = ["KeyedTable", "RowSource"]


class RowSource(Protocol):
    """What a :class:`KeyedTable` redraws its rows from (a view model)."""

    def order(self) -> list[str]: ...

    def row(self, key: str) -> Row | None: ...


def _text(cell: Cell, justify: Any) -> Text:
    return Text(cell.text, style=cell.style, justify=justify, no_wrap=True, overflow="ellipsis")


class KeyedTable(DataTable[Text]):
    """A DataTable whose rows are never rebuilt: a :class:`TableDiff` becomes removed
    rows, added rows and changed cells, so the cursor stays on its row and the scroll
    position holds.

    On a narrow terminal the least useful columns are left out (as ``dash watch`` does);
    only a resize across a threshold rebuilds the rows.

    Args:
        columns: every column, in order, with the priorities they are dropped by.
        model: the rows, for a rebuild.
        id: the widget's id. Defaults to none.
    """

    DEFAULT_CSS = """
    KeyedTable {
        height: 1fr;
        border-top: solid $primary;
        border-title-align: left;
    }
    """

    def __init__(
        self, columns: tuple[Column, ...], model: RowSource, *, id: str | None = None
    ) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self.all_columns = columns
        self.row_source = model
        self._justify = {c.key: c.justify for c in columns}
        self._keys: tuple[str, ...] = ()
        self._set_columns(tuple(c.key for c in columns))

    @property
    def column_keys(self) -> tuple[str, ...]:
        """The columns shown at the current width."""
        return self._keys

    @property
    def selected_id(self) -> str | None:
        """The key of the row under the cursor."""
        if not self.row_count:
            return None
        row_key, _ = self.coordinate_to_cell_key(Coordinate(self.cursor_row, 0))
        return row_key.value

    def apply(self, diff: TableDiff) -> None:
        """Carry ``diff`` out, keeping the cursor on the row it was on."""
        if not diff:
            return
        keep = self.selected_id
        cursor_row = self.cursor_row
        for key in diff.removed:
            self.remove_row(key)
        for key, row in diff.added:
            self._add(key, row)
        justify = self._justify
        shown = self._keys
        for key, column, cell in diff.changed:
            if column in shown:
                self.update_cell(key, column, _text(cell, justify[column]))
        if diff.reorder:
            self.reorder()
        if keep is not None and keep in self.rows:
            index = self.get_row_index(keep)
            if index != self.cursor_row:
                self.move_cursor(row=index, scroll=False)
        elif keep is not None and self.row_count:
            # The selected row is gone: stay at the same height in the table.
            self.move_cursor(row=min(cursor_row, self.row_count - 1), scroll=False)

    def reorder(self) -> None:
        """Put the rows in the model's order after a diff asked for it. Defaults to
        leaving them as they are."""

    def fit(self, width: int) -> None:
        """Show the columns that fit ``width`` cells; rebuilds the rows if that changes."""
        keys = fit_columns(self.all_columns, width, self.cell_padding)
        if keys == self._keys:
            return
        keep = self.selected_id
        self.clear(columns=True)
        self._set_columns(keys)
        for key in self.row_source.order():
            row = self.row_source.row(key)
            if row is not None:
                self._add(key, row)
        if keep is not None and keep in self.rows:
            self.move_cursor(row=self.get_row_index(keep))

    def _set_columns(self, keys: tuple[str, ...]) -> None:
        self._keys = keys
        for column in self.all_columns:
            if column.key in keys:
                self.add_column(column.label, width=column.width, key=column.key)

    def _add(self, key: str, row: Row) -> None:
        justify = self._justify
        self.add_row(*(_text(row[k], justify[k]) for k in self._keys), key=key)

    def _on_resize(self, event: events.Resize) -> None:
        # Leave room for the vertical scrollbar, which comes and goes with the rows.
        self.fit(event.size.width - 2)
