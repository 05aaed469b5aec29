"""The strategy picker (``s``), when several strategies are followed; its first
entry opens the "all strategies" overview."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar, Final

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import ModalScreen
from textual.widgets import OptionList
from textual.widgets.option_list import Option

__all__ = ["StrategyPicker"]


class StrategyPicker(ModalScreen[str | None]):
    """Lists "All strategies", then each strategy with its status and open positions;
    dismisses with the chosen id, :attr:`ALL` for the overview, or None when cancelled.

    Args:
        strategies: the ids, in order.
        docs: their documents.
        current: the id shown now, or :attr:`ALL`; its entry is highlighted.
    """

    ALL: Final = "\0all"
    """The result that asks for the overview (no strategy id starts with a NUL)."""

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
        mark = "▶ " if self.current == self.ALL else "  "
        options = [Option(f"{mark}All strategies  one row each and the total", id=self.ALL)]
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
            picker.highlighted = self.strategies.index(self.current) + 1
        elif self.current == self.ALL:
            picker.highlighted = 0
        yield picker

    def _on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(event.option.id)

    def action_cancel(self) -> None:
        self.dismiss(None)
