"""The filter input shown by ``/``."""

from __future__ import annotations

from typing import ClassVar

from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import Input

__all__ = ["FilterBar"]


class FilterBar(Input):
    """Filters the positions as you type; Enter keeps the filter, Esc clears it."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "clear", "Clear filter"),
    ]
    """
    | Key | Action |
    | :- | :- |
    | escape | Clear the filter and hide the bar. |
    | enter | Keep the filter and go back to the table. |
    """

    DEFAULT_CSS = """
    FilterBar {
        display: none;
        height: 1;
        border: none;
        padding: 0 1;
        background: $boost;
    }
    FilterBar.-open {
        display: block;
    }
    FilterBar:focus {
        border: none;
    }
    """

    class Closed(Message):
        """The bar was left: ``cleared`` if by Esc."""

        def __init__(self, bar: FilterBar, cleared: bool) -> None:
            super().__init__()
            self.bar = bar
            self.cleared = cleared

        @property
        def control(self) -> FilterBar:
            return self.bar

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(placeholder="filter: symbol, venue, id or risk…", id=id)

    def open(self) -> None:
        self.add_class("-open")
        self.focus()

    def _on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if not self.value:
            self.remove_class("-open")
        self.post_message(self.Closed(self, cleared=False))

    def action_clear(self) -> None:
        self.value = ""
        self.remove_class("-open")
        self.post_message(self.Closed(self, cleared=True))
