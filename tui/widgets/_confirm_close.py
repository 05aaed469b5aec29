"""The confirmation dialog before closing a position."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static

__all__ = ["ConfirmClose"]


class ConfirmClose(ModalScreen[bool]):
    """Names the position and its current net PnL; dismisses with True to close it."""

    AUTO_FOCUS = "#cancel"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "confirm", "Close it"),
        Binding("n,escape", "cancel", "Cancel"),
    ]
    """
    | Key | Action |
    | :- | :- |
    | y | Close the position. |
    | n, escape | Keep it. |
    """

    DEFAULT_CSS = """
    ConfirmClose {
        align: center middle;
    }
    ConfirmClose > Vertical {
        width: 64;
        max-width: 100%;
        height: auto;
        border: thick $error;
        background: $surface;
        padding: 1 2;
    }
    ConfirmClose #question {
        margin-bottom: 1;
    }
    ConfirmClose Horizontal {
        height: auto;
        align-horizontal: right;
    }
    ConfirmClose Button {
        margin-left: 2;
    }
    """

    def __init__(self, position: str, description: str, net_pnl: str) -> None:
        super().__init__()
        self.position = position
        self.description = description
        self.net_pnl = net_pnl

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(
                f"Close position [b]{self.position}[/b]?\n{self.description}\n"
                f"Current net PnL: [b]{self.net_pnl}[/b] USDT\n"
                "Both legs are closed at market.",
                id="question",
                markup=True,
            )
            with Horizontal():
                yield Button("Cancel [n]", id="cancel")
                yield Button("Close position [y]", id="confirm", variant="error")

    def _on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(event.button.id == "confirm")

    def action_confirm(self) -> None:
        self.dismiss(True)

    def action_cancel(self) -> None:
        self.dismiss(False)
