"""The alerts log widget."""

from __future__ import annotations

from collections.abc import Sequence

from textual.app import RenderResult
from textual.widget import Widget

from tui.renderables.alerts import AlertsView
from tui.view import LogEntry

__all__ = ["AlertsLog"]


class AlertsLog(Widget):
    """Alerts and notices, newest first, coloured by level."""

    DEFAULT_CSS = """
    AlertsLog {
        height: auto;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.entries: Sequence[LogEntry] = ()

    def show(self, entries: Sequence[LogEntry]) -> None:
        if list(entries) == list(self.entries):
            return
        self.entries = entries
        self.refresh(layout=True)

    def render(self) -> RenderResult:
        return AlertsView(self.entries)
