"""The strategy picker (``s``), when the socket serves several strategies."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import ModalScreen
from textual.widgets import OptionList
from textual.widgets.option_list import Option

__all__ = ["StrategyPicker"]


class StrategyPicker(ModalScreen[str | None]):
    """Lists the strategies with their status and open positions; dismisses with the
    chosen id (None when cancelled)."""

    AUTO_FOCUS = "OptionList"

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    DEFAULT_CSS = """
    StrategyPicker {
        align: center middle;
    }
    StrategyPicker > OptionList {
        width: 60;
        max-width: 100%;
        height: auto;
        max-height: 80%;
        border: round $primary;
        border-title-align: center;
        background: $surface;
    }
    """

    def __init__(
        self, strategies: Sequence[str], docs: Mapping[str, Mapping[str, Any]], current: str
    ) -> None:
        super().__init__()
        self.strategies = list(strategies)
        self.docs = docs
        self.current = current

    def compose(self) -> ComposeResult:
        options = []
        for name in self.strategies:
            doc = self.docs.get(name, {})
            positions = doc.get("positions")
            count = len(positions) if isinstance(positions, Mapping) else 0
            mark = "▶ " if name == self.current else "  "
            label = (
                f"{mark}{name}  {doc.get('mode', '?')} · {doc.get('status', '?')} · {count} open"
            )
            options.append(Option(label, id=name))
        picker = OptionList(*options)
        picker.border_title = "Switch strategy"
        if self.current in self.strategies:
            picker.highlighted = self.strategies.index(self.current)
        yield picker

    def _on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(event.option.id)

    def action_cancel(self) -> None:
        self.dismiss(None)
