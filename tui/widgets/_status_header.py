"""The header line widget."""

from __future__ import annotations

from textual.app import RenderResult
from textual.reactive import reactive
from textual.widget import Widget

from tui.renderables.status import Status, StatusLine

__all__ = ["StatusHeader"]


class StatusHeader(Widget):
    """Strategy, mode, status, connection state with the age of the last update, seq."""

    DEFAULT_CSS = """
    StatusHeader {
        height: 1;
        background: $panel;
        padding: 0 1;
    }
    """

    status: reactive[Status] = reactive(Status)
    """What the line says; assigning an equal value repaints nothing."""

    def render(self) -> RenderResult:
        return StatusLine(self.status)
