"""The alerts log: newest first, coloured by level, one line each."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from rich.console import Console, ConsoleOptions, RenderResult
from rich.text import Text

from tui.view import LogEntry, short_time

__all__ = ["LEVEL_STYLES", "AlertsView"]

# level -> (tag, style); the tag alone carries the meaning (NO_COLOR).
LEVEL_STYLES: Final = {
    "info": ("info", "cyan"),
    "warn": ("WARN", "bold yellow"),
    "error": ("ERR ", "bold red"),
    "critical": ("CRIT", "bold white on red"),
}


class AlertsView:
    """``entries`` (already newest first) as lines that fold when long."""

    def __init__(self, entries: Sequence[LogEntry]) -> None:
        self.entries = entries

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        if not self.entries:
            yield Text("No alerts.", style="dim")
            return
        for entry in self.entries:
            tag, style = LEVEL_STYLES.get(entry.level, LEVEL_STYLES["warn"])
            line = Text(overflow="fold", end="\n")
            line.append(short_time(entry.ts) + " ", style="dim")
            line.append(tag, style=style)
            line.append(f" {entry.code}", style=style if entry.level != "info" else "")
            if entry.position:
                line.append(f" {entry.position}", style="dim")
            if entry.message:
                line.append(f" {entry.message}")
            yield line
