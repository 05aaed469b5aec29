"""``dash tui``: the full-screen dashboard.

It renders only from the stream (an ``ipc`` subscription over the strategy's socket, or
one per process when it follows several): never from the database. Each update goes
through the view model in ``tui.view`` (rows, cells, histories) and lands in the widgets
as cell updates, so a live table keeps its cursor and scroll position, and a reconnect or
resync re-renders from the fresh snapshot as a diff, without clearing anything.
"""

from __future__ import annotations

import dataclasses
import itertools
import os
import time
import uuid
from collections import deque
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from typing import Any, ClassVar, Final

from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import DataTable, Footer, Input

from ipc import ClientError, RequestFailed, Update
from tui.pacing import FramePacer
from tui.renderables.status import Status
from tui.source import Discovery, Link, MultiSource, Source, open_source
from tui.view import (
    COLUMNS,
    CommandTracker,
    History,
    LogEntry,
    PendingFrame,
    alert_entries,
    command_outcome,
    market_time,
    merge,
    money,
    notice_entry,
    quantity,
    section,
)
from tui.widgets import (
    AlertsLog,
    ConfirmClose,
    FilterBar,
    HelpScreen,
    MarketsPanel,
    OverviewScreen,
    PositionDetail,
    PositionTable,
    StatusHeader,
    StrategyPicker,
    TotalsBar,
)

__all__ = ["DashApp"]

# Notices (opened, closed, command results...) kept per strategy for the alerts log.
MAX_NOTICES: Final = 100
# Lines in the alerts log.
MAX_LOG_LINES: Final = 60
# How often the header re-checks the connection and ages.
TICK_S: Final = 0.5
# Seek steps of the replay keys, in seconds of market time: [ ] an hour, { } a day.
SEEK_HOUR_S: Final = 3600
SEEK_DAY_S: Final = 86400
# Least time between two frames of live data (updates in between are merged); the
# pacer stretches it when drawing takes more than its budget of a core.
FRAME_S: Final = 0.1

RenderProbe = Callable[[int, str], None]


def _touched(patch: Any) -> list[str] | None:
    """The position ids a merge patch changes; None means "treat as a new document"."""
    if not isinstance(patch, Mapping):
        return None
    positions = patch.get("positions")
    if positions is None:
        return []
    if not isinstance(positions, Mapping):
        return None
    return list(positions)


class DashApp(App[None]):
    """The dashboard of one dash server, or of several (one or several strategies each).

    Args:
        socket: the server's Unix socket, or a sequence of them: one per process, whose
            strategies are then shown together as if one server served them all.
        strategy: the strategy to show first. Defaults to the first one served.
        read_only: hide and refuse control actions (closing positions). Defaults to
            False; a server started with ``--read-only`` makes it True as well.
        backoff: first and longest wait between reconnect attempts. Defaults to
            (0.2, 3.0).
        timeout: seconds for connecting and each request. Defaults to 5.0.
        monotonic: the clock for "age of the last update". Defaults to
            ``time.monotonic``; snapshot tests freeze it.
        on_render: called with (seq, ts) each time a new seq has reached the screen.
            Defaults to none; the benchmark measures render lag with it.
        discovery: follow processes as they start and stop, not only the sockets
            given (see :class:`tui.source.MultiSource`). Defaults to none.
    """

    CSS_PATH = "app.tcss"
    TITLE = "dash"
    AUTO_FOCUS = "PositionTable"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("question_mark", "help", "Help", key_display="?"),
        Binding("p", "ping", "Ping"),
        Binding("s", "switch_strategy", "Strategy"),
        Binding("a", "overview", "All"),
        Binding("slash", "filter", "Filter", key_display="/"),
        Binding("space", "toggle_pause", "Pause"),
        Binding("left_square_bracket", f"seek({-SEEK_HOUR_S})", "-1h", key_display="["),
        Binding("right_square_bracket", f"seek({SEEK_HOUR_S})", "+1h", key_display="]"),
        Binding("left_curly_bracket", f"seek({-SEEK_DAY_S})", "-1d", key_display="{"),
        Binding("right_curly_bracket", f"seek({SEEK_DAY_S})", "+1d", key_display="}"),
        Binding("q", "quit", "Quit"),
    ]
    """
    | Key | Action |
    | :- | :- |
    | ? | Help: the key map. |
    | p | Ping the server; the round trip is shown. |
    | s | Switch strategy (shown when several run). |
    | a | All strategies: one row each and the total (shown when several run). |
    | / | Filter positions. |
    | space | Pause or resume live updates; on a replay, pause or resume the replay. |
    | [ ] | On a replay: seek back / forward 1 hour of market time. |
    | { } | On a replay: seek back / forward 1 day of market time. |
    | q | Quit. |
    """

    def __init__(
        self,
        socket: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
        *,
        strategy: str | None = None,
        read_only: bool = False,
        backoff: tuple[float, float] = (0.2, 3.0),
        timeout: float = 5.0,
        monotonic: Callable[[], float] = time.monotonic,
        on_render: RenderProbe | None = None,
        discovery: Discovery | None = None,
    ) -> None:
        super().__init__()
        self.socket = socket
        self.wanted = strategy
        self.strategy: str | None = None
        self.read_only_flag = read_only
        self.monotonic = monotonic
        paths = [socket] if isinstance(socket, str | os.PathLike) else list(socket)
        self.source: Source = open_source(
            paths, timeout=timeout, backoff=backoff, monotonic=monotonic, discovery=discovery
        )
        self.doc: Mapping[str, Any] = {}
        self.paused = False
        self.behind = 0
        self.rendered_seq = 0
        self.last_ping: float | None = None
        self._on_render = on_render
        self._render_pending = False
        self._pending_frame = PendingFrame()
        self._flush_timer: Timer | None = None
        self._last_frame = -FRAME_S
        self.pacer = FramePacer(min_s=FRAME_S)
        self._last_update: float | None = None
        self._histories: dict[str, History] = {}
        self._notices: dict[str, deque[LogEntry]] = {}
        self._notice_ids = itertools.count(1)
        self.commands = CommandTracker()
        self._strategy_count = 0
        self._served: list[str] = []
        self.replay_state: dict[str, Any] = {}
        """On a replay: its state as last reported (``clock``, ``paused``...)."""
        self._replay_seen = False

    @property
    def read_only(self) -> bool:
        return self.read_only_flag or self.source.read_only

    @property
    def replay(self) -> bool:
        """The server is a replay (``dash replay``): space and the seek keys drive it."""
        return self.source.replay

    def compose(self) -> ComposeResult:
        # Kept by reference: updates keep arriving while the app shuts down, and a
        # query then would find nothing.
        self.header = StatusHeader()
        self.totals = TotalsBar()
        self.filter_bar = FilterBar(id="filter")
        self.table = PositionTable(allow_close=not self.read_only_flag, id="positions")
        self.detail = PositionDetail(id="detail")
        self.markets = MarketsPanel(id="markets")
        self.alerts = AlertsLog(id="alerts")
        yield self.header
        yield self.totals
        yield self.filter_bar
        yield self.table
        with Horizontal(id="lower"):
            with VerticalScroll(id="detail-pane") as detail_pane:
                detail_pane.border_title = "Position"
                self.detail_pane = detail_pane
                yield self.detail
            with Vertical(id="side"):
                with VerticalScroll(id="markets-pane") as markets:
                    markets.border_title = "Markets"
                    yield self.markets
                with VerticalScroll(id="alerts-pane") as alerts:
                    alerts.border_title = "Alerts"
                    yield self.alerts
        yield Footer()

    def on_mount(self) -> None:
        self.run_worker(self._consume(), name="feed", group="feed", exit_on_error=False)
        self.set_interval(TICK_S, self._tick)
        self._refresh_status()

    async def on_unmount(self) -> None:
        self._unstage()
        await self.source.close()

    # -- the stream --

    async def _consume(self) -> None:
        try:
            async for update in self.source:
                self._receive(update)
        except ClientError as exc:
            # Only refusals end the subscription (forbidden, unknown strategy):
            # reconnecting would not help.
            self.source.fail(str(exc))
            self._refresh_status()
            self.notify(f"Cannot follow the strategy: {exc}", severity="error", timeout=30)

    def _receive(self, update: Update) -> None:
        self._last_update = self.monotonic()
        if self.source.poll():
            self._link_changed()
        self._check_gone()
        strategy = update.strategy
        if update.kind == "event":
            self._on_notice(update)
            return
        patch = update.event.get("patch") if update.kind == "patch" else None
        touched = _touched(patch) if update.kind == "patch" else None
        doc = update.doc
        clock = doc.get("clock") or doc.get("ts")
        self._histories.setdefault(strategy, History()).record(
            section(doc, "positions"), clock if isinstance(clock, str) else None, touched
        )
        if (
            self.strategy is None
            or self.strategy not in self.source.docs
            or self.wanted not in (None, self.strategy)
        ):
            self._choose_strategy(strategy)
        self._count_strategies()
        if not self.paused:
            self._show_overview()
        if strategy != self.strategy:
            return
        if self.paused:
            self.behind += 1
            self._refresh_status()
            return
        keys = list(patch) if touched is not None and isinstance(patch, Mapping) else None
        self._stage(doc, touched, keys)

    def _stage(
        self, doc: Mapping[str, Any], touched: list[str] | None, keys: list[str] | None
    ) -> None:
        """Queue ``doc`` for the next frame, merged with what is already queued.

        Frames cost, patches do not: the table re-renders every visible row on any
        change, so at most one frame per pacer interval (FRAME_S, or longer when
        drawing is expensive) shows the newest document, and the first update after a
        quiet spell is drawn at once.
        """
        self._pending_frame.add(doc, touched, keys)
        if self._flush_timer is None:
            delay = self._last_frame + self.pacer.interval - time.monotonic()
            if delay <= 0:
                self._draw_staged()
            else:
                self._flush_timer = self.set_timer(delay, self._draw_staged)

    def _draw_staged(self) -> None:
        self._flush_timer = None
        frame = self._pending_frame.take()
        if frame is not None:
            self._last_frame = time.monotonic()
            self.pacer.frame()
            self._render(frame.doc, frame.touched, frame.keys)

    def _unstage(self) -> None:
        """Forget queued updates: a full render is about to replace them."""
        self._pending_frame.clear()
        if self._flush_timer is not None:
            self._flush_timer.stop()
            self._flush_timer = None

    def _choose_strategy(self, arrived: str) -> None:
        """Pick the strategy to show: the one asked for, else the one shown before (a
        reconnect starts over), else the first that arrives."""
        served = self.source.strategies()
        for candidate in (self.wanted, self.strategy):
            if candidate is None:
                continue
            if candidate in self.source.docs:
                self._show_strategy(candidate)
                return
            if candidate in served:
                return  # its snapshot is on the way
        if self.wanted is not None:
            if self.source.link == Link.CONNECTING:
                # Several processes, one not heard from yet: it may serve it.
                if self.strategy is None:
                    self._show_strategy(arrived)
                return
            self.notify(
                f"No strategy {self.wanted!r} is served here; showing {arrived}.",
                severity="warning",
            )
            self.wanted = None
        self._show_strategy(arrived)

    def _show_strategy(self, strategy: str) -> None:
        previous, self.strategy = self.strategy, strategy
        if self.read_only:
            self.table.allow_close = False
        self.refresh_bindings()
        if previous not in (None, strategy) and not self.paused:
            # Another was shown meanwhile (the process serving this one answered late).
            self._unstage()
            self._render(self.source.docs.get(strategy, {}), None, None)

    @property
    def overview(self) -> OverviewScreen | None:
        """The "all strategies" overview while it is open (under a dialog or not)."""
        for screen in self.screen_stack:
            if isinstance(screen, OverviewScreen):
                return screen
        return None

    def _show_overview(self) -> None:
        overview = self.overview
        if overview is not None:
            overview.show(self.source.strategies(), self.source.docs)

    def _switch_to(self, name: str | None) -> None:
        """Show strategy ``name`` in the main view (None: stay)."""
        if name is None or name == self.strategy:
            return
        self.strategy = self.wanted = name
        self.behind = 0
        self._unstage()
        self._render(self.source.docs.get(name, {}), None, None)

    def _picked(self, name: str | None) -> None:
        """The strategy picker's answer: a strategy, the overview, or nothing."""
        overview = self.overview
        if name == StrategyPicker.ALL:
            if overview is None:
                self.action_overview()
        elif overview is not None and self.screen is overview:
            overview.dismiss(name)  # its callback switches
        else:
            self._switch_to(name)

    def _check_gone(self) -> None:
        """When processes come and go (discovery), a strategy shown whose process has
        gone is replaced by another that is served, with a notification."""
        source = self.source
        if not isinstance(source, MultiSource) or source.discovery is None:
            return
        names = source.strategies()
        if names != self._served:  # the picker, the overview and the count follow
            self._served = names
            self._count_strategies()
            if not self.paused:
                self._show_overview()
        gone = self.strategy
        if gone is None or gone in names:
            return
        shown = next((name for name in names if name in source.docs), None)
        if shown is None:
            return  # none to show yet: the last picture stays, the header says why
        self._switch_to(shown)
        self.notify(f"{gone} is gone (its process stopped); showing {shown}.", severity="warning")

    def _count_strategies(self) -> None:
        count = len(self.source.strategies())
        if count != self._strategy_count:
            self._strategy_count = count
            self.refresh_bindings()

    def _render(
        self,
        doc: Mapping[str, Any],
        touched: Collection[str] | None,
        keys: Collection[str] | None,
    ) -> None:
        """Show ``doc``. ``touched`` names the positions and ``keys`` the top-level
        members that changed since the last frame; None means anything may have."""
        self.doc = doc
        now = market_time(doc)
        table = self.table
        table.show(section(doc, "positions"), now, touched)
        self.totals.totals = section(doc, "totals")
        if keys is None or "markets" in keys or "clock" in keys:
            self.markets.show(section(doc, "markets"), now)
        if keys is None or "alerts" in keys:
            self._show_log()
        selected = table.selected_id
        if keys is None or "clock" in keys or (touched is not None and selected in touched):
            self._show_detail()
        self._refresh_status()
        self._schedule_render_note()

    def _schedule_render_note(self) -> None:
        if not self._render_pending:
            self._render_pending = True
            self.call_after_refresh(self._rendered)

    def _rendered(self) -> None:
        self._render_pending = False
        seq = self.doc.get("seq")
        if isinstance(seq, int) and seq != self.rendered_seq:
            self.rendered_seq = seq
            if self._on_render is not None:
                self._on_render(seq, str(self.doc.get("ts", "")))

    def _on_notice(self, update: Update) -> None:
        event = update.event
        if event.get("event") == "command":
            self._command_finished(event.get("data"))
        entry = notice_entry(event, next(self._notice_ids))
        if entry is None:
            return
        self._notices.setdefault(update.strategy, deque(maxlen=MAX_NOTICES)).append(entry)
        if update.strategy == self.strategy and not self.paused:
            self._show_log()

    def _command_finished(self, data: Any) -> None:
        outcome = self.commands.finished(data)
        if outcome is not None:
            self._notify_outcome(outcome)

    def _notify_outcome(self, outcome: Mapping[str, Any]) -> None:
        text, severity = command_outcome(outcome)
        self.notify(text, title="Close position", severity=severity)  # type: ignore[arg-type]

    # -- panes --

    def _show_detail(self) -> None:
        pid = self.table.selected_id
        entry = section(self.doc, "positions").get(pid) if pid is not None else None
        doc = entry if isinstance(entry, Mapping) else None
        history = self._histories.get(self.strategy or "")
        trace = history.trace(pid) if history is not None and pid is not None else None
        self.detail.show(pid, doc, trace, market_time(self.doc))
        self.detail_pane.border_title = f"Position {pid}" if pid else "Position"

    def _show_log(self) -> None:
        entries = merge(
            alert_entries(section(self.doc, "alerts")),
            self._notices.get(self.strategy or "", ()),
            MAX_LOG_LINES,
        )
        self.alerts.show(entries)

    def _refresh_status(self) -> None:
        source = self.source
        doc = self.doc
        now = self.monotonic()
        seq = doc.get("seq")
        self.header.status = Status(
            strategy=self.strategy or self.wanted or "",
            mode=str(doc.get("mode", "")),
            status=str(doc.get("status", "")),
            link=source.link,
            link_age=now - source.since,
            links=source.links,
            update_age=None if self._last_update is None else now - self._last_update,
            seq=seq if isinstance(seq, int) else None,
            paused=self.paused,
            behind=self.behind,
            read_only=self.read_only,
            strategies=max(self._strategy_count, 1),
            error=source.error,
            replay_clock=str(self.replay_state.get("clock", "")) if self.replay else "",
            replay_paused=self.replay and self.replay_state.get("paused") is True,
        )
        overview = self.overview
        if overview is not None:
            overview.header.status = dataclasses.replace(self.header.status, overview=True)

    def _tick(self) -> None:
        if self.source.poll():
            self._link_changed()
        self._check_gone()
        if self.replay:
            # The replay clock moves between documents, and another client may pause or
            # seek it: ask for it each tick.
            self.run_worker(self._poll_replay(), group="replay-poll", exclusive=True)
        self._refresh_status()

    def _link_changed(self) -> None:
        if self.replay != self._replay_seen:
            self._replay_seen = self.replay
            self.refresh_bindings()
            if self.replay:
                self.run_worker(self._poll_replay(), group="replay-poll", exclusive=True)
        self.set_class(self.source.link != Link.CONNECTED, "-stale")
        if self.source.read_only and self.table.allow_close:
            self.table.allow_close = False
            self.refresh_bindings()

    # -- messages --

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._show_detail()

    def on_position_table_close_requested(self, message: PositionTable.CloseRequested) -> None:
        if self.read_only:
            self.notify("Read-only: closing positions is disabled.", severity="warning")
            return
        strategy = self.strategy
        doc = section(self.doc, "positions").get(message.position)
        if strategy is None or not isinstance(doc, Mapping):
            self.notify(f"{message.position} is no longer open.", severity="warning")
            return
        long, short, pnl = section(doc, "long"), section(doc, "short"), section(doc, "pnl")
        description = (
            f"{doc.get('symbol', '?')} · long {long.get('venue', '?')} / short "
            f"{short.get('venue', '?')} · qty {quantity(doc.get('qty'))}"
        )
        position = message.position

        def confirmed(ok: bool | None) -> None:
            if ok:
                self.run_worker(self._close(strategy, position), group="commands")

        self.push_screen(
            ConfirmClose(position, description, money(pnl.get("net"), signed=True)), confirmed
        )

    def on_input_changed(self, event: Input.Changed) -> None:
        if isinstance(event.input, FilterBar):
            self.table.filter_rows(event.value)
            self._show_detail()

    def on_filter_bar_closed(self, message: FilterBar.Closed) -> None:
        self.table.focus()

    # -- commands --

    async def _close(self, strategy: str, position: str) -> None:
        try:
            ticket = await self.source.close_position(strategy, position, f"tui-{uuid.uuid4()}")
        except RequestFailed as exc:
            self.notify(
                f"Close of {position} refused: {exc.message} ({exc.code})",
                title="Close position",
                severity="error",
            )
            return
        except ClientError as exc:
            self.notify(
                f"Close of {position} not sent: {exc}", title="Close position", severity="error"
            )
            return
        outcome = self.commands.sent(ticket, position)
        if outcome is not None:
            self._notify_outcome(outcome)
            return
        command_id = ticket.get("command_id")
        self.notify(f"Closing {position}… (command {command_id})", title="Close position")

    async def _poll_replay(self) -> None:
        try:
            _, result = await self.source.ping(self.strategy)
        except ClientError:
            return  # the header shows the link; the next tick asks again
        state = result.get("replay")
        if isinstance(state, Mapping):
            self.replay_state = dict(state)
            self._refresh_status()

    async def _replay(self, action: str, by: float | None = None) -> None:
        self.workers.cancel_group(self, "replay-poll")  # its answer may predate this
        try:
            self.replay_state = await self.source.replay_command(action, by=by)
        except RequestFailed as exc:
            self.notify(f"Replay {action} refused: {exc.message} ({exc.code})",
                        title="Replay", severity="error")
            return
        except ClientError as exc:
            self.notify(f"Replay {action} not sent: {exc}", title="Replay", severity="error")
            return
        self._refresh_status()

    async def _ping(self) -> None:
        try:
            rtt, result = await self.source.ping(self.strategy)
        except ClientError as exc:
            self.notify(f"Ping failed: {exc}", title="Ping", severity="error")
            return
        self.last_ping = rtt
        seqs = result.get("seq")
        seq = seqs.get(self.strategy) if isinstance(seqs, Mapping) else None
        self.notify(f"Round trip {rtt * 1000:.1f} ms · server seq {seq}", title="Ping")

    # -- actions --

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        if not self.read_only:
            yield SystemCommand(
                "Close position",
                "Close the selected position (asks first)",
                self.table.request_close,
            )
        yield SystemCommand("Ping", "Round trip to the strategy", self.action_ping)
        if self._strategy_count > 1:
            yield SystemCommand(
                "Switch strategy",
                "Show another strategy",
                self.action_switch_strategy,
            )
            yield SystemCommand(
                "All strategies",
                "One row per strategy, and their total",
                self.action_overview,
            )
        yield SystemCommand(
            "Filter positions", "Filter by symbol, venue, id or risk", self.action_filter
        )
        for column in COLUMNS:
            yield SystemCommand(
                f"Sort by {column.label}",
                f"Order positions by {column.label}",
                lambda key=column.key: self.table.sort_by(key),
            )
        yield SystemCommand(
            "Pause / resume", "Freeze or resume live updates", self.action_toggle_pause
        )
        yield SystemCommand("Help", "Show the key map", self.action_help)
        yield from super().get_system_commands(screen)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "seek":
            return self.replay
        if action in ("switch_strategy", "overview"):
            return self._strategy_count > 1
        if action == "filter":
            return self.overview is None
        return True

    def action_help(self) -> None:
        self.push_screen(HelpScreen(read_only=self.read_only, replay=self.replay))

    def action_ping(self) -> None:
        self.run_worker(self._ping(), group="commands")

    def action_switch_strategy(self) -> None:
        names = self.source.strategies()
        if len(names) < 2:
            self.notify("Only one strategy runs.")
            return
        current = StrategyPicker.ALL if self.screen is self.overview else self.strategy or ""
        self.push_screen(StrategyPicker(names, self.source.docs, current), self._picked)

    def action_overview(self) -> None:
        if self.overview is not None or self.screen is not self.screen_stack[0]:
            return  # open already (its own ``a`` closes it), or a dialog is up
        screen = OverviewScreen(self.source.strategies(), self.source.docs, frame_s=FRAME_S)
        self.push_screen(screen, self._switch_to)
        self._refresh_status()

    def action_filter(self) -> None:
        self.filter_bar.open()

    def action_seek(self, seconds: float) -> None:
        """On a replay, move its clock by ``seconds`` of market time."""
        if self.replay:
            self.run_worker(self._replay("seek", by=seconds), group="replay")

    def action_toggle_pause(self) -> None:
        if self.replay:  # pause the replay itself, not just the display
            action = "resume" if self.replay_state.get("paused") is True else "pause"
            self.run_worker(self._replay(action), group="replay")
            return
        self.paused = not self.paused
        self._unstage()
        if not self.paused and self.strategy is not None:
            self.behind = 0
            self._render(self.source.docs.get(self.strategy, self.doc), None, None)
        if not self.paused:
            self._show_overview()
        self._refresh_status()
