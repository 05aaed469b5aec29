"""The "all strategies" overview as data: one row of figures per strategy and a total.

The figures are :mod:`cli._summary`'s, the ones ``dash snapshot --all`` and ``dash watch
--all`` print: each document's own ``totals`` summed as Decimals, and the worst risk
level of its positions and alerts. This module only turns them into cells and works out
which cells a new set of documents changes, so the widget updates in place.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

from cli._summary import Summary, combine, summarize
from tui.view._columns import RISK_STYLES, Cell, Column
from tui.view._format import money, sign_style
from tui.view._table import Row, TableDiff

__all__ = ["OVERVIEW_COLUMNS", "TOTAL", "OverviewModel", "summary_cells"]

OVERVIEW_COLUMNS: Final[tuple[Column, ...]] = (
    Column("strategy", "Strategy", 13, 1, "left"),
    Column("status", "Status", 9, 1, "left"),
    Column("open", "Open", 5, 2),
    Column("notional", "Notional", 11, 4),
    Column("funding", "Funding", 9, 3),
    Column("fees", "Fees", 8, 5),
    Column("unrealized", "Unrealised", 10, 3),
    Column("net", "Net PnL", 10, 1),
    Column("risk", "Risk", 8, 1, "left"),
)

# The key of the total row: a strategy id never starts with a NUL.
TOTAL: Final = "\0total"

_STATUS_STYLES: Final = {
    "running": "green",
    "starting": "yellow",
    "paused": "yellow",
    "stopped": "red",
    "failed": "bold white on red",
}


def summary_cells(row: Summary, *, total: bool = False) -> Row:
    """The cells of one strategy's figures, or of the total row (bold, labelled)."""
    bold = "bold " if total else ""
    amounts = {
        "notional": Cell(money(row.notional), bold),
        "funding": Cell(money(row.funding, signed=True), bold + sign_style(row.funding)),
        "fees": Cell(money(row.fees), bold),
        "unrealized": Cell(money(row.unrealized, signed=True), bold + sign_style(row.unrealized)),
        "net": Cell(money(row.net, signed=True), bold + sign_style(row.net)),
    }
    return {
        "strategy": Cell("Total" if total else row.strategy, "bold" if total else "bold cyan"),
        "status": Cell(row.status, "bold" if total else _STATUS_STYLES.get(row.status, "")),
        "open": Cell(str(row.open), bold),
        **amounts,
        "risk": Cell(row.risk, RISK_STYLES.get(row.risk, "")),
    }


class OverviewModel:
    """The overview's rows: strategies in the order they first came, then the total.

    Only documents that changed since the last :meth:`sync` are summarised again (the
    subscription replaces a document on every patch, so identity tells).
    """

    def __init__(self) -> None:
        self.columns = OVERVIEW_COLUMNS
        self.summaries: dict[str, Summary] = {}
        """Each strategy's figures as last shown."""
        self.total: Summary = combine([])
        """The combined figures as last shown."""
        self._rows: dict[str, Row] = {}
        self._docs: dict[str, Mapping[str, Any]] = {}

    def order(self) -> list[str]:
        """Row keys in display order (the total last)."""
        return list(self._rows)

    def row(self, key: str) -> Row | None:
        return self._rows.get(key)

    def sync(self, names: Sequence[str], docs: Mapping[str, Mapping[str, Any]]) -> TableDiff:
        """Bring the rows up to the documents of ``names``. One without a document keeps
        the figures it had (a reconnect clears the documents until the snapshots come
        again), or shows dashes if it never had any."""
        summaries = {name: self._summary(name, docs.get(name)) for name in names}
        self._docs = {name: docs[name] for name in names if name in docs}
        self.summaries = summaries
        self.total = combine(list(summaries.values()))
        new = {name: summary_cells(s) for name, s in summaries.items()}
        new[TOTAL] = summary_cells(self.total, total=True)
        old = self._rows
        diff = TableDiff()
        diff.removed = [key for key in old if key not in new]
        added = [key for key in new if key not in old]
        if added and TOTAL in old:  # the total stays last
            diff.removed.append(TOTAL)
            added.append(TOTAL)
        kept = [key for key in old if key not in diff.removed]
        for key in kept:
            was = old[key]
            diff.changed += [(key, col, cell) for col, cell in new[key].items() if was[col] != cell]
        diff.added = [(key, new[key]) for key in added]
        self._rows = {key: new[key] for key in (*kept, *added)}
        return diff

    def _summary(self, name: str, doc: Mapping[str, Any] | None) -> Summary:
        known = self.summaries.get(name)
        if known is not None and (doc is None or self._docs.get(name) is doc):
            # Unchanged, or not sent again yet after a reconnect: the last figures stay.
            return known
        return summarize(doc or {})._replace(strategy=name)
