"""The help screen (``?``): the key map."""

from __future__ import annotations

from typing import ClassVar

from rich import box
from rich.table import Table
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from tui.keymap import CONTROL_KEYS, KEYMAP, REPLAY_KEYMAP

__all__ = ["HelpScreen"]


class HelpScreen(ModalScreen[None]):
    """Every key and what it does; control keys are left out when read-only, and on a
    replay the replay keys replace the display pause."""

    AUTO_FOCUS = "VerticalScroll"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,question_mark,q", "dismiss", "Close help"),
    ]

    DEFAULT_CSS = """
    HelpScreen {
        align: center middle;
    }
    HelpScreen > VerticalScroll {
        width: 76;
        max-width: 100%;
        height: auto;
        max-height: 100%;
        border: round $primary;
        border-title-align: center;
        background: $surface;
        padding: 0 1;
    }
    """

    def __init__(self, *, read_only: bool = False, replay: bool = False) -> None:
        super().__init__()
        self.read_only = read_only
        self.replay = replay

    def compose(self) -> ComposeResult:
        table = Table(box=box.SIMPLE, show_header=True, expand=True, pad_edge=False)
        table.add_column("Key", style="bold", no_wrap=True)
        table.add_column("Action")
        for key, action in KEYMAP:
            if self.read_only and key in CONTROL_KEYS:
                continue
            if self.replay and key == "space":
                for replay_key, replay_action in REPLAY_KEYMAP:
                    table.add_row(replay_key, replay_action)
                continue
            table.add_row(key, action)
        if self.read_only:
            table.add_row("", "Read-only: closing positions is disabled.", style="magenta")
        scroll = VerticalScroll()
        scroll.border_title = "dash tui · keys (Esc to close)"
        with scroll:
            yield Static(table)

    async def action_dismiss(self, result: None = None) -> None:
        self.dismiss(result)
