"""The detail pane widget: the selected position."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from textual.app import RenderResult
from textual.widget import Widget

from tui.renderables.detail import PositionDetailView
from tui.view import Trace

__all__ = ["PositionDetail"]


class PositionDetail(Widget):
    """Both legs with entry and mark, funding payments seen, the PnL breakdown, and
    spread and net PnL sparklines."""

    DEFAULT_CSS = """
    PositionDetail {
        height: auto;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.pid: str | None = None
        self._doc: Mapping[str, Any] | None = None
        self._trace: Trace | None = None
        self._now: datetime | None = None
        self._shape: tuple[object, ...] = (None, None)

    def show(
        self,
        pid: str | None,
        doc: Mapping[str, Any] | None,
        trace: Trace | None,
        now: datetime | None,
    ) -> None:
        # The trace is shared and grows in place: compare with the shape last drawn.
        shape = self.shape(pid, doc, trace)
        resized, self._shape = shape != self._shape, shape
        self.pid, self._doc, self._trace, self._now = pid, doc, trace, now
        self.refresh(layout=resized)

    @staticmethod
    def shape(
        pid: str | None, doc: Mapping[str, Any] | None, trace: Trace | None
    ) -> tuple[object, ...]:
        """What decides the pane's height: a layout pass only when it changes."""
        if doc is None:
            return (pid, None)
        risk = doc.get("risk")
        reasons = risk.get("reasons") if isinstance(risk, Mapping) else None
        payments = len(trace.payments) if trace is not None else 0
        return (pid, bool(reasons), payments)

    def render(self) -> RenderResult:
        return PositionDetailView(self.pid, self._doc, self._trace, self._now)
