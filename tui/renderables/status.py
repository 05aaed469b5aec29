"""The header line: which strategy, in what state, and how fresh the picture is."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from rich.console import Console, ConsoleOptions, RenderResult
from rich.text import Text

from tui.view import MISSING, age

__all__ = ["LINK_TEXT", "Status", "StatusLine"]

# link state -> (symbol, words, style); the words alone carry the meaning (NO_COLOR).
LINK_TEXT: Final = {
    "connecting": ("◌", "connecting", "bold yellow"),
    "connected": ("●", "live", "bold green"),
    "disconnected": ("✗", "DISCONNECTED", "bold white on red"),
    "failed": ("✗", "FAILED", "bold white on red"),
}

_STATUS_STYLES: Final = {"running": "green", "paused": "yellow", "starting": "yellow"}


@dataclass(frozen=True, slots=True)
class Status:
    """What the header says. Ages are in seconds; None when unknown."""

    strategy: str = ""
    mode: str = ""
    status: str = ""
    link: str = "connecting"
    link_age: float | None = None
    update_age: float | None = None
    seq: int | None = None
    paused: bool = False
    behind: int = 0
    read_only: bool = False
    strategies: int = 1
    error: str = ""
    links: tuple[int, int] = (1, 1)
    """(processes connected, processes followed); shown when more than one is."""
    overview: bool = False
    """The "all strategies" overview is shown: the line names no one strategy."""
    replay_clock: str = ""
    """On a replay (``dash replay``), its clock (ISO time); empty otherwise."""
    replay_paused: bool = False
    """The replay itself is paused (its clock stands still)."""


class StatusLine:
    """One line; the least useful parts go first when the terminal is narrow."""

    def __init__(self, status: Status) -> None:
        self.status = status

    def line(self, compact: bool) -> Text:
        s = self.status
        sep = " · " if compact else " │ "
        symbol, words, style = LINK_TEXT.get(s.link, LINK_TEXT["connecting"])
        link = Text(f"{symbol} {words}", style=style)
        if s.link == "connected":
            link.append(f" {age(s.update_age)} ago" if s.update_age is not None else "", "")
        elif s.link == "disconnected":
            link.append(f" {age(s.link_age)} · reconnecting", "bold red")
        elif s.link == "failed" and s.error:
            link.append(f" {s.error}", "bold red")
        up, followed = s.links
        if followed > 1:
            link.append(f" · {up}/{followed} linked", "" if up == followed else "bold red")
        parts = [] if compact else [Text("dash", style="bold")]
        if s.overview:
            parts += [Text(f"All strategies ({s.strategies})", style="bold cyan"), link]
        else:
            strategy = s.strategy or "?"
            if s.strategies > 1:
                strategy += f" (1 of {s.strategies})"
            parts += [
                Text(strategy, style="bold cyan"),
                Text(s.mode or "?"),
                Text(s.status or "?", style=_STATUS_STYLES.get(s.status, "bold red")),
                link,
                Text(f"seq {s.seq}" if s.seq is not None else f"seq {MISSING}"),
            ]
        if s.replay_clock:
            when = s.replay_clock[:19].replace("T", " ")
            if s.replay_paused:
                parts.append(Text(f"⏸ replay {when} paused", style="bold reverse"))
            else:
                parts.append(Text(f"▶ replay {when}", style="bold"))
        if s.paused:
            behind = f" +{s.behind}" if s.behind else ""
            parts.append(Text(f"⏸ PAUSED{behind}", style="bold reverse"))
        if s.read_only:
            parts.append(Text("read-only", style="bold magenta"))
        line = Text(no_wrap=True, overflow="ellipsis", end="")
        for i, part in enumerate(parts):
            if i:
                line.append(sep, style="dim")
            line.append_text(part)
        return line

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        line = self.line(compact=False)
        if line.cell_len > options.max_width:
            line = self.line(compact=True)
        line.truncate(options.max_width, overflow="ellipsis")
        yield line
