"""The totals bar: the portfolio in one line."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from rich.console import Console, ConsoleOptions, RenderResult
from rich.text import Text

from tui.view import MISSING, money, sign_style

__all__ = ["TotalsLine"]

# (key, long label, short label, signed, coloured by sign)
_FIELDS: Final = (
    ("open_positions", "Open", "Open", False, False),
    ("notional", "Notional", "Ntl", False, False),
    ("funding_collected", "Funding", "Fund", True, True),
    ("fees", "Fees", "Fees", False, False),
    ("unrealized_pnl", "Unrealised", "Unrl", True, True),
    ("realized_pnl", "Realised", "Rlzd", True, True),
    ("net_pnl", "Net PnL", "Net", True, True),
)


class TotalsLine:
    """``Open 3  Notional 30,000.00  Funding +41.20 ...``; shorter labels, then fewer
    fields (realised PnL first), when the line does not fit."""

    def __init__(self, totals: Mapping[str, Any]) -> None:
        self.totals = totals

    def line(self, short: bool, skip: tuple[str, ...] = ()) -> Text:
        text = Text(no_wrap=True, end="")
        for key, label, abbrev, signed, coloured in _FIELDS:
            if key in skip or (key == "realized_pnl" and key not in self.totals):
                continue
            value = self.totals.get(key)
            if key == "open_positions":
                shown = str(value) if isinstance(value, int) else MISSING
            else:
                shown = money(value, signed=signed)
            if len(text):
                text.append("  ")
            text.append(f"{abbrev if short else label} ", style="dim")
            text.append(shown, style=("bold " + sign_style(value)) if coloured else "bold")
        return text

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        width = options.max_width
        for short, skip in ((False, ()), (True, ()), (True, ("realized_pnl",))):
            text = self.line(short, skip)
            if text.cell_len <= width:
                break
        text.truncate(width, overflow="ellipsis")
        yield text
