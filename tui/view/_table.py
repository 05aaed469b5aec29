"""The positions table as data: which rows are shown, in what order, and which cells a
new document changes.

The widget must update the screen cell by cell (so the cursor and the scroll position
survive, and nothing flickers), which needs exactly this diff; keeping it here, away from
Textual, lets tests check it with plain documents.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from tui.view._columns import COLUMNS, Cell, Column, next_funding_cell, position_cells

__all__ = ["FILTER_COLUMNS", "Row", "TableDiff", "TableModel"]

Row = dict[str, Cell]

# The columns a filter string is matched against.
FILTER_COLUMNS = ("symbol", "venues", "id", "risk")


@dataclass(slots=True)
class TableDiff:
    """What to do to the widget: remove rows, add rows (at the end, in this order),
    change single cells; ``reorder`` when the sorted order may have moved."""

    removed: list[str] = field(default_factory=list)
    added: list[tuple[str, Row]] = field(default_factory=list)
    changed: list[tuple[str, str, Cell]] = field(default_factory=list)
    reorder: bool = False

    def __bool__(self) -> bool:
        return bool(self.removed or self.added or self.changed or self.reorder)


class TableModel:
    """Rows of every open position, the filter and the sort, and the diffs between.

    Args:
        columns: the table's columns. Defaults to :data:`COLUMNS`.
    """

    def __init__(self, columns: tuple[Column, ...] = COLUMNS) -> None:
        self.columns = columns
        self.filter = ""
        self.sort_column: str | None = None
        self.sort_reverse = False
        self._rows: dict[str, Row] = {}
        self._shown: dict[str, None] = {}  # ordered set: the widget's rows, added order
        self._now: datetime | None = None

    @property
    def total(self) -> int:
        """Open positions, filtered or not."""
        return len(self._rows)

    @property
    def shown(self) -> list[str]:
        """Position ids in the widget, in the order they were added."""
        return list(self._shown)

    def row(self, pid: str) -> Row | None:
        return self._rows.get(pid)

    def order(self) -> list[str]:
        """Shown ids in display order: sorted by the sort column, else as added."""
        if self.sort_column is None:
            return list(self._shown)
        return sorted(self._shown, key=self.sort_value, reverse=self.sort_reverse)

    def sort_value(self, pid: str) -> Any:
        """The key that orders ``pid`` under the current sort (ties by id)."""
        column = self.sort_column
        row = self._rows.get(pid)
        if column is None or row is None:
            return (0, pid)
        return (row[column].sort, pid)

    def sync(
        self,
        positions: Mapping[str, Mapping[str, Any]],
        now: datetime | None,
        touched: Iterable[str] | None = None,
    ) -> TableDiff:
        """Bring the rows up to ``positions`` at market time ``now``.

        ``touched`` names the positions a patch changed (added, edited or removed); only
        those are recomputed, plus the countdown column of every row when ``now`` moved.
        None means a whole new document (a snapshot, a resync, a switch of strategy).
        """
        diff = TableDiff()
        clock_moved = now != self._now
        self._now = now
        if touched is None:
            gone = [pid for pid in self._rows if pid not in positions]
            candidates: Iterable[str] = positions.keys()
        else:
            touched = list(touched)
            gone = [pid for pid in touched if pid not in positions and pid in self._rows]
            candidates = [pid for pid in touched if pid in positions]
        for pid in gone:
            del self._rows[pid]
            if pid in self._shown:
                del self._shown[pid]
                diff.removed.append(pid)
        done: set[str] = set()
        for pid in candidates:
            entry = positions[pid]
            if not isinstance(entry, Mapping):
                continue
            done.add(pid)
            self._put(diff, pid, position_cells(pid, entry, now))
        if clock_moved and touched is not None:
            for pid, row in self._rows.items():
                if pid in done:
                    continue
                doc = positions.get(pid)
                if not isinstance(doc, Mapping):
                    continue
                cell = next_funding_cell(doc, now)
                if cell != row["next"]:
                    row["next"] = cell
                    if pid in self._shown:
                        diff.changed.append((pid, "next", cell))
                        if self.sort_column == "next":
                            diff.reorder = True
        if self.sort_column is not None and diff.added:
            diff.reorder = True
        return diff

    def set_filter(self, text: str) -> TableDiff:
        """Show only rows whose symbol, venues, id or risk contain ``text`` (any case)."""
        self.filter = text.strip().casefold()
        diff = TableDiff()
        for pid, row in self._rows.items():
            visible = self._matches(row)
            if visible and pid not in self._shown:
                self._shown[pid] = None
                diff.added.append((pid, row))
            elif not visible and pid in self._shown:
                del self._shown[pid]
                diff.removed.append(pid)
        diff.reorder = self.sort_column is not None and bool(diff.added)
        return diff

    def set_sort(self, column: str | None, reverse: bool = False) -> TableDiff:
        """Order rows by ``column`` (None: the order they arrived in)."""
        if column is not None and column not in {c.key for c in self.columns}:
            raise ValueError(f"no column {column!r}")
        self.sort_column = column
        self.sort_reverse = reverse
        return TableDiff(reorder=True)

    def _matches(self, row: Row) -> bool:
        if not self.filter:
            return True
        return any(self.filter in row[key].text.casefold() for key in FILTER_COLUMNS)

    def _put(self, diff: TableDiff, pid: str, new: Row) -> None:
        old = self._rows.get(pid)
        self._rows[pid] = new
        visible = self._matches(new)
        if pid in self._shown:
            if not visible:
                del self._shown[pid]
                diff.removed.append(pid)
                return
            assert old is not None
            sort = self.sort_column
            for key, cell in new.items():
                if old[key] != cell:
                    diff.changed.append((pid, key, cell))
                    if key == sort:
                        diff.reorder = True
        elif visible:
            self._shown[pid] = None
            diff.added.append((pid, new))
