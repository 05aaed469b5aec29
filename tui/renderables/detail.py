"""The detail pane: one position in full, with what the stream has shown of its past."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from rich import box
from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.table import Table
from rich.text import Text

from tui.renderables.sparkline import spark
from tui.view import (
    MISSING,
    Trace,
    bps,
    countdown,
    money,
    parse_time,
    percent,
    quantity,
    risk_cell,
    short_time,
    sign_style,
)

__all__ = ["PositionDetailView"]

# Funding payments listed (newest first); the rest are summed up in the leg totals.
_PAYMENTS_SHOWN = 4
# Columns before the sparklines: "Spread     17.75% entry 12.91%".
_LABEL_WIDTH = 31


def _signed(value: Any) -> Text:
    return Text(money(value, signed=True), style=sign_style(value))


def _leg_table(doc: Mapping[str, Any]) -> Table:
    table = Table(box=box.SIMPLE_HEAD, padding=(0, 1), pad_edge=False, expand=False)
    for name, justify in (
        ("Leg", "left"),
        ("Venue", "left"),
        ("Entry", "right"),
        ("Mark", "right"),
        ("PnL", "right"),
        ("Funding", "right"),
    ):
        table.add_column(name, justify=justify, no_wrap=True)  # type: ignore[arg-type]
    for side in ("long", "short"):
        leg = doc.get(side)
        leg = leg if isinstance(leg, Mapping) else {}
        venue = leg.get("venue")
        table.add_row(
            side,
            venue if isinstance(venue, str) else MISSING,
            quantity(leg.get("entry_price")),
            quantity(leg.get("mark")),
            _signed(leg.get("pnl")),
            _signed(leg.get("funding")),
        )
    return table


class PositionDetailView:
    """Everything about ``positions[pid]`` at market time ``now``.

    Args:
        pid: the position id, or None when nothing is selected.
        doc: its document. Defaults to none (the position is gone).
        trace: its history as seen on the stream. Defaults to none.
        now: the strategy's market clock. Defaults to unknown.
    """

    def __init__(
        self,
        pid: str | None,
        doc: Mapping[str, Any] | None = None,
        trace: Trace | None = None,
        now: datetime | None = None,
    ) -> None:
        self.pid = pid
        self.doc = doc
        self.trace = trace
        self.now = now

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        doc = self.doc
        if self.pid is None or doc is None:
            gone = "No position selected." if self.pid is None else f"{self.pid} is closed."
            yield Text(gone, style="dim")
            return
        yield Group(*self._parts(doc, options.max_width))

    def _parts(self, doc: Mapping[str, Any], width: int) -> list[RenderableType]:
        pnl = doc.get("pnl") if isinstance(doc.get("pnl"), Mapping) else {}
        risk = risk_cell(doc)
        head = Text(no_wrap=True, overflow="ellipsis")
        head.append(str(doc.get("symbol", MISSING)), "bold")
        head.append(f"  {self.pid}", "dim")
        head.append(f"  qty {quantity(doc.get('qty'))}")
        head.append(f"  opened {short_time(doc.get('opened_at'))}")
        head.append("  risk ")
        head.append(risk.text, risk.style)
        parts: list[RenderableType] = [head, _leg_table(doc)]

        breakdown = Text(no_wrap=True, overflow="ellipsis")
        breakdown.append("PnL ", "dim")
        breakdown.append_text(_signed(pnl.get("legs")))
        breakdown.append(" legs + ", "dim")
        breakdown.append_text(_signed(pnl.get("funding")))
        breakdown.append(" funding − ", "dim")
        breakdown.append(money(pnl.get("fees")))
        breakdown.append(" fees = ", "dim")
        net = pnl.get("net")
        breakdown.append(money(net, signed=True), "bold " + sign_style(net))
        parts.append(breakdown)

        trace = self.trace
        spark_width = max(width - _LABEL_WIDTH - 1, 0)
        spread = Text(no_wrap=True)
        spread.append("Spread ", "dim")
        spread.append(percent(doc.get("spread_apr")).rjust(10))
        spread.append(f" entry {percent(doc.get('entry_spread_apr'))}", "dim")
        net_line = Text(no_wrap=True)
        net_line.append("Net    ", "dim")
        net_line.append(money(net, signed=True).rjust(10), sign_style(net))
        for line, values, style in (
            (spread, trace.spread if trace else (), "cyan"),
            (net_line, trace.net if trace else (), "green" if sign_style(net) != "red" else "red"),
        ):
            line.truncate(_LABEL_WIDTH, pad=True)
            if spark_width:
                line.append(" ")
                line.append_text(Text(spark(list(values), spark_width), style=style))
            parts.append(line)

        other = Text(no_wrap=True, overflow="ellipsis")
        other.append("Erosion ", "dim")
        other.append(percent(doc.get("erosion"), 1))
        other.append("  Divergence ", "dim")
        other.append(f"{bps(doc.get('divergence_bps'))} bps")
        parts.append(other)
        parts.append(self._next_funding(doc))
        parts.extend(self._payments(doc))
        reasons = risk_reasons(doc)
        if reasons:
            parts.append(Text(f"Risk: {', '.join(reasons)}", style=risk.style, overflow="fold"))
        return parts

    def _next_funding(self, doc: Mapping[str, Any]) -> Text:
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append("Next funding ", "dim")
        times = doc.get("next_funding")
        if not isinstance(times, Mapping) or not times:
            text.append(MISSING)
            return text
        for i, (venue, when) in enumerate(times.items()):
            at = parse_time(when) if isinstance(when, str) else None
            left = None if at is None or self.now is None else (at - self.now).total_seconds()
            text.append(("  " if i else "") + f"{venue} ")
            text.append(countdown(left), "bold")
        return text

    def _payments(self, doc: Mapping[str, Any]) -> list[RenderableType]:
        title = Text("Funding payments", style="dim")
        payments = list(self.trace.payments) if self.trace else []
        if not payments:
            title.append(" none seen yet", style="dim italic")
            return [title]
        lines: list[RenderableType] = [title]
        for payment in reversed(payments[-_PAYMENTS_SHOWN:]):
            line = Text(no_wrap=True, overflow="ellipsis")
            line.append(f"  {short_time(payment.time)} {payment.side:<5} {payment.venue:<8} ")
            line.append_text(_signed(payment.amount))
            lines.append(line)
        return lines


def risk_reasons(doc: Mapping[str, Any]) -> list[str]:
    risk = doc.get("risk")
    reasons = risk.get("reasons") if isinstance(risk, Mapping) else None
    if not isinstance(reasons, list):
        return []
    return [str(r) for r in reasons]

