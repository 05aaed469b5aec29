"""Rich renderables for every strategy at once: one row each and a combined total.

:class:`OverviewTable` is what ``dash snapshot --all`` prints and what ``dash watch
--all`` redraws; like the single-strategy views it drops the least useful columns on a
narrow terminal (id, status, net PnL and risk always stay). A row whose socket is not
connected keeps its last figures, dimmed, with the link state as its status, so a
process that went away is visible rather than silently missing from the total.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

from rich.box import Box
from rich.console import Console, ConsoleOptions, RenderableType, RenderResult
from rich.text import Text

from cli import _format as fmt
from cli._summary import Summary, combine
from cli._views import RISK_STYLES, STATUS_STYLES, Column, fit_table

__all__ = ["COLUMNS", "OverviewTable"]

COLUMNS: Final = (
    Column("strategy", 1),
    Column("socket", 3),
    Column("status", 1),
    Column("seq", 5, "right"),
    Column("open", 2, "right"),
    Column("notional", 6, "right"),
    Column("funding", 4, "right"),
    Column("fees", 7, "right"),
    Column("unrealized", 8, "right"),
    Column("net", 1, "right"),
    Column("risk", 1),
)
# SIMPLE_HEAD plus a rule for section ends, drawn only above the total row.
_BOX: Final = Box("    \n    \n ── \n    \n ── \n ── \n    \n    \n")
_STATUS: Final = {**STATUS_STYLES, "failed": "bold red", "disconnected": "bold red"}


def _pnl(value: Any) -> Text:
    amount = fmt.decimal(value)
    style = "" if amount is None or amount == 0 else ("green" if amount > 0 else "red")
    return Text(fmt.money(value, signed=True), style=style)


def _cells(row: Summary, status: Text) -> list[RenderableType]:
    return [
        row.strategy,
        row.socket,
        status,
        fmt.DASH if row.seq is None else str(row.seq),
        str(row.open),
        fmt.money(row.notional),
        fmt.money(row.funding, signed=True),
        fmt.money(row.fees),
        _pnl(row.unrealized),
        _pnl(row.net),
        Text(row.risk, style=RISK_STYLES.get(row.risk, "")),
    ]


class OverviewTable:
    """One row per strategy, in the order given, then the combined total.

    Args:
        rows: each strategy's figures.
        links: link state per socket name (``live``, ``connecting``, ``disconnected``);
            a row whose socket is not ``live`` shows that state. Defaults to all live.
        title: drawn above the table. Defaults to none.
    """

    def __init__(
        self,
        rows: Sequence[Summary],
        links: Mapping[str, str] | None = None,
        title: str | None = None,
    ) -> None:
        self.rows = rows
        self.links = links or {}
        self.title = title

    def cells(self) -> list[list[RenderableType]]:
        out = []
        for row in self.rows:
            link = self.links.get(row.socket, "live")
            if link == "live":
                out.append(_cells(row, Text(row.status, style=_STATUS.get(row.status, ""))))
            else:
                cells = _cells(row, Text(link, style=_STATUS.get(link, "yellow")))
                out.append([Text(c, style="dim") if isinstance(c, str) else c for c in cells])
        total = combine(self.rows)
        out.append(
            [
                Text(str(c), style="bold") if isinstance(c, str) else c
                for c in _cells(total, Text(total.status, style="bold"))
            ]
        )
        return out

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        if not self.rows:
            yield Text("no strategies", style="bold")
            return
        table = fit_table(console, options, COLUMNS, self.cells(), title=self.title)
        table.box = _BOX
        table.rows[-2].end_section = True
        yield table
