"""Rich renderables built from the snapshot document: header, positions, markets, alerts.

Plain objects in the manner of ``rich.table``: they hold a document and draw it in
``__rich_console__`` for the width they are given, so ``dash snapshot`` prints them once,
``dash watch`` redraws them under ``Live`` and tests draw them on a fixed-width console.
On a narrow terminal whole columns are dropped, least useful first, rather than squeezing
every cell into ellipses: an operator at 80x24 over SSH still sees id, symbol, net PnL
and risk for every position.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, Literal

from rich import box
from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.measure import Measurement
from rich.table import Table
from rich.text import Text

from cli import _format as fmt

__all__ = [
    "AlertsList",
    "Column",
    "ConnectionInfo",
    "Header",
    "MarketsTable",
    "PositionsTable",
    "SnapshotView",
    "fit_table",
]

RISK_STYLES: Final = {"ok": "green", "warn": "yellow", "critical": "bold red"}
STATUS_STYLES: Final = {"running": "green", "starting": "yellow", "stopped": "red"}
LEVEL_STYLES: Final = {"warn": "yellow", "critical": "bold red", "info": "cyan"}
# Alert lines shown under the tables; more would push the tables off a 24-line screen.
MAX_ALERT_LINES: Final = 4
# Width to measure a table's natural size with (Rich clamps measurements to the width).
_UNBOUNDED: Final = 10_000


@dataclass(frozen=True, slots=True)
class Column:
    """A table column. ``priority`` 1 is never dropped; when the table is too wide the
    column with the largest priority goes first (the rightmost among equals)."""

    header: str
    priority: int
    justify: Literal["left", "right", "center"] = "left"


@dataclass(frozen=True, slots=True)
class ConnectionInfo:
    """What ``dash watch`` knows about its link, for the header.

    ``state`` is ``connecting``, ``live`` or ``disconnected``; ``age_s`` is the wall time
    since the last update; ``retry_in_s`` the wait before the next reconnect attempt.
    """

    state: str
    age_s: float | None = None
    retry_in_s: float | None = None
    error: str | None = None
    socket: str | None = None


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def fit_table(
    console: Console,
    options: ConsoleOptions,
    columns: Sequence[Column],
    rows: Sequence[Sequence[RenderableType]],
    *,
    title: str | None = None,
) -> Table:
    """A table of the columns that fit ``options.max_width``, dropping by priority."""
    keep = list(range(len(columns)))
    while True:
        table = Table(
            box=box.SIMPLE_HEAD,
            show_edge=False,
            pad_edge=False,
            padding=(0, 1),
            collapse_padding=True,
            title=title,
            title_justify="left",
            title_style="bold",
            header_style="bold",
        )
        for i in keep:
            col = columns[i]
            table.add_column(col.header, justify=col.justify, no_wrap=True, overflow="ellipsis")
        for row in rows:
            table.add_row(*(row[i] for i in keep))
        droppable = [i for i in keep if columns[i].priority > 1]
        if not droppable:
            return table
        natural = Measurement.get(console, options.update_width(_UNBOUNDED), table).maximum
        if natural <= options.max_width:
            return table
        worst = max(droppable, key=lambda i: (columns[i].priority, i))
        keep.remove(worst)


def _fit_words(parts: Iterable[tuple[int, Text]], width: int) -> Text:
    """Join header words in order, leaving out the lowest-priority ones that do not fit."""
    items = list(parts)
    chosen = list(range(len(items)))
    while True:
        line = Text("  ").join(items[i][1] for i in chosen)
        droppable = [i for i in chosen if items[i][0] > 1]
        if line.cell_len <= width or not droppable:
            line.no_wrap = True
            line.overflow = "ellipsis"
            return line
        chosen.remove(max(droppable, key=lambda i: (items[i][0], i)))


class Header:
    """Strategy, status, mode, seq and (under ``dash watch``) the link; then totals."""

    def __init__(self, doc: Mapping[str, Any], connection: ConnectionInfo | None = None) -> None:
        self.doc = doc
        self.connection = connection

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        doc = self.doc
        status = str(doc.get("status", fmt.DASH))
        first: list[tuple[int, Text]] = [
            (1, Text(str(doc.get("strategy", "dash")), style="bold")),
            (1, Text(status, style=STATUS_STYLES.get(status, ""))),
            (3, Text(str(doc.get("mode", fmt.DASH)))),
            (1, Text(f"seq {doc.get('seq', fmt.DASH)}")),
        ]
        conn = self.connection
        if conn is not None:
            first.append((1, _link_text(conn)))
            if conn.state != "disconnected":
                first.append((2, Text(f"updated {fmt.age(conn.age_s)} ago", style="dim")))
            elif conn.error:
                first.append((4, Text(conn.error, style="dim")))
        else:
            first.append((2, Text(f"at {fmt.short_time(doc.get('ts'))} UTC", style="dim")))
        yield _fit_words(first, options.max_width)

        totals = _mapping(doc.get("totals"))
        net = totals.get("net_pnl")
        second: list[tuple[int, Text]] = [
            (2, Text(f"market {fmt.short_time(doc.get('clock'))}")),
            (1, Text(f"open {totals.get('open_positions', 0)}")),
            (4, Text(f"notional {fmt.money(totals.get('notional'))}")),
            (3, Text(f"funding {fmt.money(totals.get('funding_collected'), signed=True)}")),
            (3, Text(f"fees {fmt.money(totals.get('fees'))}")),
            (1, Text("net ").append(fmt.money(net, signed=True), style=fmt.sign_style(net))),
        ]
        yield _fit_words(second, options.max_width)


def _link_text(conn: ConnectionInfo) -> Text:
    if conn.state == "live":
        return Text("● live", style="green")
    if conn.state == "connecting":
        return Text("connecting…", style="yellow")
    retry = "" if conn.retry_in_s is None else f" in {max(conn.retry_in_s, 0):.1f}s"
    return Text(f"disconnected, retrying{retry}", style="bold red")


_POSITION_COLUMNS: Final = (
    Column("id", 1),
    Column("symbol", 1),
    Column("long/short", 2),
    Column("qty", 7, "right"),
    Column("entry", 4, "right"),
    Column("apr", 2, "right"),
    Column("erosion", 5, "right"),
    Column("div bps", 4, "right"),
    Column("funding", 3, "right"),
    Column("fees", 6, "right"),
    Column("net", 1, "right"),
    Column("next", 3, "right"),
    Column("risk", 1),
)


class PositionsTable:
    """One row per open position, ordered by opening time.

    Args:
        doc: the snapshot document.
        clock: market time the funding countdown runs to. Defaults to the document's
            own ``clock``; pass None explicitly with a bare positions mapping.
    """

    def __init__(self, doc: Mapping[str, Any], clock: Any = ...) -> None:
        self.doc = doc
        self.clock = doc.get("clock") if clock is ... else clock

    def rows(self) -> list[list[RenderableType]]:
        positions = _mapping(self.doc.get("positions"))
        ordered = sorted(
            positions.items(), key=lambda item: (str(_mapping(item[1]).get("opened_at")), item[0])
        )
        rows: list[list[RenderableType]] = []
        for pid, raw in ordered:
            pos = _mapping(raw)
            long, short = _mapping(pos.get("long")), _mapping(pos.get("short"))
            net = _mapping(pos.get("pnl")).get("net")
            level = str(_mapping(pos.get("risk")).get("level", fmt.DASH))
            rows.append(
                [
                    pid,
                    str(pos.get("symbol", fmt.DASH)),
                    f"{long.get('venue', '?')}/{short.get('venue', '?')}",
                    fmt.number(pos.get("qty")),
                    fmt.percent(pos.get("entry_spread_apr")),
                    fmt.percent(pos.get("spread_apr")),
                    fmt.percent(pos.get("erosion"), 0),
                    fmt.number(pos.get("divergence_bps"), 1),
                    fmt.money(pos.get("funding_collected"), signed=True),
                    fmt.money(pos.get("fees")),
                    Text(fmt.money(net, signed=True), style=fmt.sign_style(net)),
                    fmt.countdown(fmt.next_funding_seconds(pos, self.clock)),
                    Text(level, style=RISK_STYLES.get(level, "")),
                ]
            )
        return rows

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        rows = self.rows()
        if not rows:
            yield Text("Positions: none open", style="bold")
            return
        yield fit_table(console, options, _POSITION_COLUMNS, rows, title=f"Positions ({len(rows)})")


class MarketsTable:
    """Funding APR per venue for each symbol, the widest pair and its break-even time."""

    def __init__(self, doc: Mapping[str, Any]) -> None:
        self.doc = doc

    def venues(self) -> list[str]:
        names: dict[str, None] = {}
        for market in _mapping(self.doc.get("markets")).values():
            for venue, quote in _mapping(market).items():
                if venue != "best" and isinstance(quote, Mapping):
                    names[venue] = None
        return sorted(names)

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        markets = _mapping(self.doc.get("markets"))
        if not markets:
            yield Text("Markets: no data yet", style="bold")
            return
        venues = self.venues()
        columns = [
            Column("symbol", 1),
            *(Column(v, 3, "right") for v in venues),
            Column("best pair", 2),
            Column("spread", 1, "right"),
            Column("days b/e", 2, "right"),
        ]
        rows: list[list[RenderableType]] = []
        for symbol in sorted(markets):
            market = _mapping(markets[symbol])
            best = _mapping(market.get("best"))
            pair = f"{best['long']}→{best['short']}" if "long" in best and "short" in best else "-"
            rows.append(
                [
                    symbol,
                    *(fmt.percent(_mapping(market.get(v)).get("apr")) for v in venues),
                    pair,
                    fmt.percent(best.get("spread_apr")),
                    fmt.number(best.get("days_to_break_even"), 1),
                ]
            )
        yield fit_table(console, options, columns, rows, title="Markets (funding APR)")


class AlertsList:
    """The strategy's active alerts, newest first, then recent events seen on the feed."""

    def __init__(
        self, doc: Mapping[str, Any], events: Sequence[str] = (), limit: int = MAX_ALERT_LINES
    ) -> None:
        self.doc = doc
        self.events = events
        self.limit = limit

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        alerts = _mapping(self.doc.get("alerts"))
        ordered = sorted(
            alerts.items(), key=lambda item: str(_mapping(item[1]).get("ts")), reverse=True
        )
        lines: list[Text] = []
        for _aid, raw in ordered[: self.limit]:
            alert = _mapping(raw)
            level = str(alert.get("level", "?"))
            line = Text(f"{fmt.short_time(alert.get('ts'))[5:]} ")
            line.append(level.upper(), style=LEVEL_STYLES.get(level, ""))
            line.append(f" {alert.get('code', '?')}")
            if alert.get("position"):
                line.append(f" {alert['position']}")
            line.append(f": {alert.get('message', '')}", style="dim")
            lines.append(line)
        for event in list(self.events)[: max(self.limit - len(lines), 0)]:
            lines.append(Text(event, style="dim"))
        title = f"Alerts ({len(alerts)})" if alerts else "Alerts: none active"
        yield Text(title, style="bold")
        for line in lines:
            line.no_wrap = True
            line.overflow = "ellipsis"
            yield line


class SnapshotView:
    """The whole dashboard for one document: header, positions, markets, alerts."""

    def __init__(
        self,
        doc: Mapping[str, Any],
        connection: ConnectionInfo | None = None,
        events: Sequence[str] = (),
    ) -> None:
        self.doc = doc
        self.connection = connection
        self.events = events

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        yield Group(
            Header(self.doc, self.connection),
            Text(""),
            PositionsTable(self.doc),
            MarketsTable(self.doc),
            AlertsList(self.doc, self.events),
        )
