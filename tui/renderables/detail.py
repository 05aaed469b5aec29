"""The detail pane: one position in full, with what the stream has shown of its past."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Final

from rich import box
from rich.console import Console, ConsoleOptions, RenderableType, RenderResult
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
    price,
    quantity,
    risk_cell,
    section,
    short_time,
    sign_style,
)

__all__ = ["PositionDetailView", "risk_reasons"]

# Funding payments listed (newest first); the leg totals include every one.
PAYMENTS_SHOWN: Final = 4
# From this width the legs are a table with a column per figure.
_WIDE: Final = 60
# Cells before a sparkline: "Spread   23.64% ".
_LABEL: Final = 16


def _signed(value: Any) -> Text:
    return Text(money(value, signed=True), style=sign_style(value))


def risk_reasons(doc: Mapping[str, Any]) -> list[str]:
    reasons = section(doc, "risk").get("reasons")
    return [str(r) for r in reasons] if isinstance(reasons, list) else []


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
        yield from self.parts(doc, options.max_width)

    def parts(self, doc: Mapping[str, Any], width: int) -> list[RenderableType]:
        wide = width >= _WIDE
        risk = risk_cell(doc)
        head = Text(no_wrap=True, overflow="ellipsis")
        head.append(str(doc.get("symbol", MISSING)), "bold")
        head.append(f"  qty {quantity(doc.get('qty'))}")
        head.append(f"  opened {short_time(doc.get('opened_at'))}", "dim")
        head.append("  risk ")
        head.append(risk.text, risk.style)
        parts: list[RenderableType] = [head]
        parts.extend([_leg_table(doc)] if wide else _leg_lines(doc))
        parts.append(self._breakdown(doc, wide))
        parts.extend(self._series(doc, width))
        drift = Text(no_wrap=True, overflow="ellipsis")
        drift.append("Entry ", "dim")
        drift.append(percent(doc.get("entry_spread_apr")))
        drift.append("  erosion ", "dim")
        drift.append(percent(doc.get("erosion"), 1))
        drift.append("  div ", "dim")
        drift.append(f"{bps(doc.get('divergence_bps'))} bps")
        parts.append(drift)
        parts.append(self._next_funding(doc))
        parts.extend(self._payments(doc, wide))
        reasons = risk_reasons(doc)
        if reasons:
            parts.append(Text(f"Risk: {', '.join(reasons)}", style=risk.style, overflow="fold"))
        return parts

    def _breakdown(self, doc: Mapping[str, Any], wide: bool) -> Text:
        pnl = section(doc, "pnl")
        net = pnl.get("net")
        text = Text(no_wrap=True, overflow="ellipsis")
        for i, (label, value, signed) in enumerate(
            (
                ("legs", pnl.get("legs"), True),
                ("funding" if wide else "fund", pnl.get("funding"), True),
                ("fees", pnl.get("fees"), False),
            )
        ):
            text.append(("PnL " if i == 0 else " · ") if wide else ("" if i == 0 else " "), "dim")
            text.append(f"{label} ", "dim")
            text.append_text(_signed(value) if signed else Text(money(value)))
        text.append(" = net " if wide else " net ", "dim")
        text.append(money(net, signed=True), "bold " + sign_style(net))
        return text

    def _series(self, doc: Mapping[str, Any], width: int) -> list[Text]:
        trace = self.trace
        net = section(doc, "pnl").get("net")
        bars = max(width - _LABEL, 0)
        lines = []
        for label, value, values, style in (
            ("Spread", percent(doc.get("spread_apr")), trace.spread if trace else (), "cyan"),
            (
                "Net",
                money(net, signed=True),
                trace.net if trace else (),
                "red" if sign_style(net) == "red" else "green",
            ),
        ):
            line = Text(no_wrap=True)
            line.append(f"{label:<6}", "dim")
            line.append(f"{value:>9} ")
            line.append(spark(list(values), bars), style)
            lines.append(line)
        return lines

    def _next_funding(self, doc: Mapping[str, Any]) -> Text:
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append("Next funding", "dim")
        times = section(doc, "next_funding")
        if not times:
            text.append(f" {MISSING}")
        for venue, when in times.items():
            at = parse_time(when) if isinstance(when, str) else None
            left = None if at is None or self.now is None else (at - self.now).total_seconds()
            text.append(f" {venue} ")
            text.append(countdown(left), "bold")
        return text

    def _payments(self, doc: Mapping[str, Any], wide: bool) -> list[RenderableType]:
        title = Text("Funding payments", style="dim", no_wrap=True, overflow="ellipsis")
        if not wide:
            for side in ("long", "short"):
                title.append(f" {side} ", "dim")
                title.append_text(_signed(section(doc, side).get("funding")))
        payments = list(self.trace.payments) if self.trace else []
        if not payments:
            title.append(" · none seen yet" if not wide else " (none seen yet)", "dim italic")
            return [title]
        lines: list[RenderableType] = [title]
        for payment in reversed(payments[-PAYMENTS_SHOWN:]):
            line = Text(no_wrap=True, overflow="ellipsis")
            line.append(f" {short_time(payment.time)} {payment.side:<5} {payment.venue:<8} ")
            line.append_text(_signed(payment.amount))
            lines.append(line)
        return lines


def _leg_table(doc: Mapping[str, Any]) -> Table:
    table = Table(box=box.SIMPLE_HEAD, padding=(0, 1), pad_edge=False, show_edge=False)
    table.add_column("Leg", no_wrap=True)
    table.add_column("Venue", no_wrap=True)
    for name in ("Entry", "Mark", "PnL", "Funding"):
        table.add_column(name, justify="right", no_wrap=True)
    for side in ("long", "short"):
        leg = section(doc, side)
        venue = leg.get("venue")
        table.add_row(
            side,
            venue if isinstance(venue, str) else MISSING,
            price(leg.get("entry_price")),
            price(leg.get("mark")),
            _signed(leg.get("pnl")),
            _signed(leg.get("funding")),
        )
    return table


def _leg_lines(doc: Mapping[str, Any]) -> list[Text]:
    """Narrow panes: ``long  bybit    1,406.66 → 1,563.10 +1,113.04`` (the legs' funding
    heads the payments list instead)."""
    lines = []
    for side in ("long", "short"):
        leg = section(doc, side)
        venue = leg.get("venue")
        line = Text(no_wrap=True, overflow="ellipsis")
        line.append(f"{side:<5} ", "bold")
        line.append(f"{venue if isinstance(venue, str) else MISSING:<8} ")
        line.append(f"{price(leg.get('entry_price'))} → {price(leg.get('mark'))} ")
        line.append_text(_signed(leg.get("pnl")))
        lines.append(line)
    return lines
