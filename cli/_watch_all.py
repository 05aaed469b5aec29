"""``dash watch --all``: every strategy of every running process, one row each, live.

One subscription per socket (a subscribe without ``strategy`` follows every strategy that
socket serves), each kept by :func:`cli._watch.follow`, so a process that goes away shows
"disconnected, retrying" and comes back on its own, exactly as in ``dash watch``. All of
them write into one :class:`Board`; the outputs are the single-strategy ones (Rich
``Live``, plain lines, NDJSON) drawing an :class:`AllView` or one line per update.

Without ``--socket`` the runtime dir is listed again every ``RESCAN_S``: a process started
later joins the view, and one whose socket file disappeared (it stopped cleanly) leaves
it. A killed process leaves its socket file behind, so its rows stay, marked
disconnected, until it is restarted or the file is removed.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from cli import _format as fmt
from cli._errors import OK, CliError
from cli._summary import Summary, combine, plain_line, summarize
from cli._target import RESCAN_S, Target, rescan
from cli._watch import (
    BACKOFF_S,
    JsonOutput,
    LiveOutput,
    Mode,
    PlainOutput,
    follow,
    run_to_exit,
    stop_on_signals,
    until_stopped,
)

if TYPE_CHECKING:
    from rich.console import Console, ConsoleOptions, RenderResult

    from ipc import Update

__all__ = ["RESCAN_S", "AllView", "Board", "SocketLink", "watch_all"]

PROG = "dash watch"
# Recent events (across every strategy) kept under the table.
MAX_EVENTS: Final = 4
# The server accepts max_rate in [1/60, 1000] events per second.
_MIN_RATE: Final = 1 / 60


@dataclass
class Board:
    """Everything ``watch --all`` knows: the latest document per (socket, strategy) and
    each socket's link. Written on the event loop, read by the Live refresh thread;
    entries are replaced whole, never mutated."""

    links: dict[str, SocketLink] = field(default_factory=dict)
    docs: dict[tuple[str, str], Mapping[str, Any]] = field(default_factory=dict)
    events: deque[str] = field(default_factory=lambda: deque(maxlen=MAX_EVENTS))
    last_update: float | None = None
    updates: int = 0

    def summaries(self) -> list[Summary]:
        """One row per strategy, ordered by socket then strategy id."""
        return [
            summarize(doc, Path(socket).name)
            for (socket, _), doc in sorted(list(self.docs.items()), key=lambda item: item[0])
        ]

    def link_states(self) -> dict[str, str]:
        return {Path(path).name: link.state for path, link in list(self.links.items())}

    def drop(self, socket: str) -> None:
        """Forget a socket's documents (its process is gone or was replaced)."""
        self.docs = {key: doc for key, doc in self.docs.items() if key[0] != socket}


@dataclass
class SocketLink:
    """One socket's link, kept by :func:`cli._watch.follow` (a ``Followed``)."""

    socket: str
    board: Board
    state: str = "connecting"
    error: str | None = None
    retry_at: float | None = None
    connects: int = 0
    session: str | None = None

    def apply(self, update: Update, now: float) -> str | None:
        """Take one update; returns its plain line (``None``: nothing to print)."""
        board = self.board
        if update.session != self.session:
            # A new process behind this socket: strategies it no longer serves must go.
            board.drop(self.socket)
            self.session = update.session
        if update.kind in ("snapshot", "patch"):
            board.docs = {**board.docs, (self.socket, update.strategy): update.doc}
            board.last_update = now
            board.updates += 1
            row = summarize(update.doc, Path(self.socket).name)
            return plain_line(row, combine(board.summaries()))
        text = fmt.event_text(update.event)
        if text is not None:
            when = fmt.short_time(update.event.get("ts"))[5:]
            board.events.appendleft(f"{when} {update.strategy}: {text}")
        return fmt.event_line(update.event)


class AllView:
    """The live screen: a header, the overview table, links in trouble, recent events."""

    def __init__(self, board: Board) -> None:
        self.board = board

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        from rich.text import Text

        from cli._views import _fit_words as fit_words
        from cli._views_all import OverviewTable

        board = self.board
        links = list(board.links.values())
        rows = board.summaries()
        live = sum(1 for link in links if link.state == "live")
        if links and live == len(links):
            state = Text("● live", style="green")
        elif live:
            state = Text(f"● {live}/{len(links)} sockets live", style="yellow")
        else:
            state = Text("connecting…" if board.updates == 0 else "disconnected", style="red")
        age = None if board.last_update is None else time.monotonic() - board.last_update
        words = [
            (1, Text("all strategies", style="bold")),
            (1, Text(f"{len(rows)} on {len(links)} socket{'s' if len(links) != 1 else ''}")),
            (1, state),
            (2, Text(f"updated {fmt.age(age)} ago", style="dim")),
        ]
        yield fit_words(words, options.max_width)
        yield Text("")
        if rows:
            yield OverviewTable(rows, board.link_states())
        else:
            yield Text("waiting for the first snapshots", style="dim")
        now = time.monotonic()
        for link in links:
            if link.state == "live":
                continue
            retry = (
                "" if link.retry_at is None else f", retrying in {max(link.retry_at - now, 0):.1f}s"
            )
            line = Text(f"{Path(link.socket).name}: {link.state}{retry}", style="yellow")
            if link.error:
                line.append(f" ({link.error})", style="dim")
            line.no_wrap, line.overflow = True, "ellipsis"
            yield line
        if board.events:
            yield Text("")
            for event in list(board.events):
                line = Text(event, style="dim", no_wrap=True, overflow="ellipsis")
                yield line


def watch_all(
    socket: str | os.PathLike[str] | None,
    *,
    mode: Mode,
    interval: float,
    timeout: float,
    duration: float | None = None,
    console: Console | None = None,
    rescan_s: float = RESCAN_S,
) -> int:
    """Run until Ctrl-C, ``q``, SIGTERM or ``duration`` seconds; returns the exit status.

    Raises:
        CliError: nothing running (69), or ``socket`` not reachable at start (69) or
            refusing the subscription.
    """
    return run_to_exit(_watch_all(socket, mode, interval, timeout, duration, console, rescan_s))


async def _watch_all(
    socket: str | os.PathLike[str] | None,
    mode: Mode,
    interval: float,
    request_timeout_s: float,
    duration: float | None,
    console: Console | None,
    rescan_s: float,
) -> int:
    from cli._aggregate import live_sockets

    first = [Path(socket)] if socket is not None else live_sockets()
    board = Board()
    with stop_on_signals() as stop:
        output: LiveOutput | PlainOutput | JsonOutput
        if mode == "live":
            output = LiveOutput(None, console, interval, on_quit=stop.set, view=AllView(board))
        elif mode == "json":
            output = JsonOutput()
        else:
            output = PlainOutput()
        max_rate = None if interval <= 0 else max(1.0 / interval, _MIN_RATE)
        supervisor = _Supervisor(board, output, max_rate, request_timeout_s, quiet=mode == "live")
        with output:
            await until_stopped(
                supervisor.run(first, rescan_s if socket is None else None), stop, duration
            )
    return OK


class _Supervisor:
    """Starts one :func:`follow` per socket and, when discovering, adds and drops sockets
    as processes come and go."""

    def __init__(
        self,
        board: Board,
        output: LiveOutput | PlainOutput | JsonOutput,
        max_rate: float | None,
        timeout: float,
        *,
        quiet: bool,
    ) -> None:
        self.board = board
        self.output = output
        self.max_rate = max_rate
        self.timeout = timeout
        self.note: Callable[[str], None] = (
            (lambda text: None) if quiet else (lambda text: _message(text))
        )
        self.tasks: dict[str, asyncio.Task[None]] = {}

    async def run(self, first: list[Path], rescan_s: float | None) -> None:
        """Follow ``first``; with ``rescan_s``, keep the set current until cancelled.
        Without (one socket given), a refusal or a failed first connect ends the watch."""
        try:
            for path in first:
                self._start(path, fatal=rescan_s is None)
            if rescan_s is None:
                await asyncio.gather(*self.tasks.values())
                return
            while True:
                await asyncio.sleep(rescan_s)
                await self._rescan()
        finally:
            for task in self.tasks.values():
                task.cancel()
            await asyncio.gather(*self.tasks.values(), return_exceptions=True)

    def _start(self, path: Path, *, fatal: bool) -> None:
        key = str(path)
        link = SocketLink(key, self.board)
        self.board.links = {**self.board.links, key: link}
        self.tasks[key] = asyncio.create_task(self._follow(link, fatal), name=f"watch-{key}")

    async def _follow(self, link: SocketLink, fatal: bool) -> None:
        target = Target(Path(link.socket), None, self.timeout)
        try:
            await follow(
                target, link, self.output, max_rate=self.max_rate, backoff=BACKOFF_S,
                retry_first=not fatal,
            )  # fmt: skip
        except CliError as exc:
            if fatal:
                raise
            link.state, link.error, link.retry_at = "refused", exc.message, None
            self.note(f"{link.socket}: {exc.message}")

    async def _rescan(self) -> None:
        followed = [Path(key) for key in self.tasks]
        present = {str(p): p for p in await asyncio.to_thread(rescan, followed)}
        for key in [k for k in self.tasks if k not in present]:
            task = self.tasks.pop(key)
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            self.board.links = {k: v for k, v in self.board.links.items() if k != key}
            self.board.drop(key)
            self.board.events.appendleft(f"{Path(key).name}: gone (its process stopped)")
            self.note(f"{key} is gone (its process stopped)")
        for key, path in present.items():
            if key not in self.tasks:
                self.note(f"found {key}")
                self._start(path, fatal=False)


def _message(text: str) -> None:
    sys.stderr.write(f"{PROG}: {text}\n")
    sys.stderr.flush()
