"""``dash watch``: follow a strategy over a subscription, as a live view, lines or NDJSON.

Three outputs share one loop. :func:`follow` keeps a :class:`WatchModel` current from an
``ipc.Subscription`` (which already applies patches and re-subscribes on gaps and
resyncs) and owns reconnection: when the link drops it marks the model disconnected,
waits with jittered exponential backoff and starts again, so the operator sees
"disconnected, retrying" instead of a dead prompt. The outputs:

* :class:`LiveOutput`: Rich ``Live(get_renderable=...)`` on the alternate screen,
  redrawn at most every ``interval`` (the server is asked for at most one event per
  interval too), on each update, and at once on a resize (SIGWINCH). ``q`` quits.
* :class:`PlainOutput`: one ``key=value`` line per update, for pipes and ``TERM=dumb``.
* :class:`JsonOutput`: every event as the server sent it, one JSON object per line.

Link changes go to stderr in the line modes (data on stdout, messages on stderr).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import signal
import sys
import time
from collections import deque
from collections.abc import Callable, Coroutine, Iterator, Mapping
from dataclasses import dataclass, field
from types import TracebackType
from typing import IO, TYPE_CHECKING, Any, Final, Literal, Protocol

from cli import _format as fmt
from cli._errors import OK, from_ipc
from cli._target import Target

if TYPE_CHECKING:
    from rich.console import Console, ConsoleOptions, RenderableType, RenderResult
    from rich.live import Live

    from cli._views import ConnectionInfo
    from ipc import Update

__all__ = [
    "BACKOFF_S",
    "Followed",
    "JsonOutput",
    "LiveOutput",
    "PlainOutput",
    "WatchModel",
    "WatchView",
    "choose_mode",
    "follow",
    "watch",
]

PROG = "dash watch"
# First and longest wait between reconnect attempts: quick enough to catch a restart,
# slow enough not to spin against a socket that stays gone.
BACKOFF_S: Final = (0.2, 5.0)
# Recent feed events kept for the view (it shows what fits under the alerts).
MAX_EVENTS: Final = 4
# Errors after which retrying cannot help: the server said who we are or what we asked
# for is wrong.
_FATAL_CODES: Final = frozenset({"forbidden", "unknown_strategy", "bad_request"})
# The server accepts max_rate in [1/60, 1000] events per second.
_MIN_RATE: Final = 1 / 60

Mode = Literal["live", "plain", "json"]


@dataclass
class WatchModel:
    """What the watcher knows: the latest document and the state of the link.

    Written by :func:`follow` on the event loop, read by the Live refresh thread; every
    field is replaced whole (documents are never mutated), so a reader never sees half
    an update.
    """

    socket: str
    strategy: str | None = None
    doc: Mapping[str, Any] | None = None
    state: str = "connecting"
    error: str | None = None
    retry_at: float | None = None
    last_update: float | None = None
    updates: int = 0
    connects: int = 0
    events: deque[str] = field(default_factory=lambda: deque(maxlen=MAX_EVENTS))

    def apply(self, update: Update, now: float) -> str | None:
        """Take one update; returns its plain-text line (``None``: nothing to print)."""
        if self.strategy is None:
            self.strategy = update.strategy
        elif update.strategy != self.strategy:
            return None  # a server with several strategies: we follow one
        if update.kind in ("snapshot", "patch"):
            self.doc = update.doc
            self.last_update = now
            self.updates += 1
            return fmt.plain_line(update.doc)
        text = fmt.event_text(update.event)
        if text is not None and update.event.get("event") != "alert":
            # Alerts are in the document's own list; other notices only live here.
            self.events.appendleft(f"{fmt.short_time(update.event.get('ts'))[5:]} {text}")
        return fmt.event_line(update.event)

    def connection(self, now: float) -> ConnectionInfo:
        from cli._views import ConnectionInfo

        return ConnectionInfo(
            state=self.state,
            age_s=None if self.last_update is None else now - self.last_update,
            retry_in_s=None if self.retry_at is None else self.retry_at - now,
            error=self.error,
            socket=self.socket,
        )


class Followed(Protocol):
    """What :func:`follow` keeps current: the link's state, and ``apply`` for updates
    (:class:`WatchModel` for one strategy; ``dash watch --all`` has one per socket)."""

    socket: str
    state: str
    error: str | None
    retry_at: float | None
    connects: int

    def apply(self, update: Update, now: float) -> str | None: ...


class Output(Protocol):
    def update(self, update: Update, line: str | None) -> None: ...
    def link(self, model: Followed) -> None: ...


async def follow(
    target: Target,
    model: Followed,
    output: Output,
    *,
    max_rate: float | None,
    backoff: tuple[float, float] = BACKOFF_S,
    retry_first: bool = False,
) -> None:
    """Keep ``model`` current until cancelled, reconnecting whenever the link drops.

    Raises:
        CliError: the very first connection failed (69: nothing to watch; with
            ``retry_first`` it is retried like any other), or the server refused what we
            asked for (no point retrying).
    """
    from ipc import ClientError, ConnectionLost, RequestFailed, Subscription

    low, high = backoff
    attempt = 0
    while True:
        sub = Subscription(
            target.socket,
            strategy=target.strategy,
            max_rate=max_rate,
            reconnect=False,
            timeout=target.timeout,
        )
        error: ClientError = ConnectionLost("subscription ended")
        try:
            async for update in sub:
                if model.state != "live":
                    model.state, model.error, model.retry_at = "live", None, None
                    model.connects += 1
                    attempt = 0
                    output.link(model)
                output.update(update, model.apply(update, time.monotonic()))
        except RequestFailed as exc:
            if exc.code in _FATAL_CODES:
                raise from_ipc(exc, target.socket) from exc
            error = exc
        except ClientError as exc:
            error = exc
        finally:
            await sub.close()
        if model.connects == 0 and not retry_first:
            raise from_ipc(error, target.socket)
        delay = min(high, low * 2**attempt) * random.uniform(0.8, 1.2)
        attempt += 1
        model.state, model.error = "disconnected", str(error)
        model.retry_at = time.monotonic() + delay
        output.link(model)
        await asyncio.sleep(delay)


class WatchView:
    """The live screen for a :class:`WatchModel`, drawn fresh on every refresh (the age
    of the last update and the retry countdown move even when no event arrives)."""

    def __init__(self, model: WatchModel) -> None:
        self.model = model

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        from rich.text import Text

        from cli._views import Header, SnapshotView

        model = self.model
        connection = model.connection(time.monotonic())
        if model.doc is None:
            doc = {"strategy": model.strategy or "dash", "status": "-", "seq": "-"}
            yield Header(doc, connection)
            yield Text(f"waiting for the first snapshot from {model.socket}", style="dim")
            return
        yield SnapshotView(model.doc, connection, tuple(model.events))


class LiveOutput:
    """Rich Live on the alternate screen; also listens for ``q`` and terminal resizes.

    Args:
        model: what to draw.
        console: where. Defaults to a stdout console.
        interval: seconds between redraws when nothing arrives. Defaults to 1.0.
        on_quit: called when the operator presses ``q``.
        view: what to draw instead of ``WatchView(model)`` (``dash watch --all``).
            Defaults to none.
    """

    def __init__(
        self,
        model: WatchModel | None,
        console: Console | None = None,
        interval: float = 1.0,
        on_quit: Callable[[], None] | None = None,
        view: RenderableType | None = None,
    ) -> None:
        from cli._console import make_console

        if model is None and view is None:
            raise ValueError("LiveOutput needs a model or a view to draw")
        self.model = model
        self.view = view
        self.console = console or make_console()
        self.interval = interval
        self.on_quit = on_quit
        self._live: Live | None = None
        self._tty_state: list[Any] | None = None

    def __enter__(self) -> LiveOutput:
        from rich.live import Live

        view: RenderableType
        if self.view is not None:
            view = self.view
        else:
            assert self.model is not None
            view = WatchView(self.model)
        rate = 1.0 / self.interval if self.interval > 0 else 10.0
        self._live = Live(
            get_renderable=lambda: view,
            console=self.console,
            screen=True,
            auto_refresh=True,
            refresh_per_second=min(max(rate, 0.2), 10.0),
            redirect_stdout=False,
            redirect_stderr=False,
        )
        self._live.start()
        loop = asyncio.get_running_loop()
        with contextlib.suppress(ValueError, RuntimeError, NotImplementedError):
            loop.add_signal_handler(signal.SIGWINCH, self.refresh)
        self._listen_for_keys(loop)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        loop = asyncio.get_running_loop()
        with contextlib.suppress(Exception):
            loop.remove_signal_handler(signal.SIGWINCH)
        self._stop_listening(loop)
        if self._live is not None:
            self._live.stop()
            self._live = None

    def refresh(self) -> None:
        if self._live is not None:
            self._live.refresh()

    def update(self, update: Update, line: str | None) -> None:
        if update.kind != "event" or line is not None:
            self.refresh()

    def link(self, model: Followed) -> None:
        self.refresh()

    def _listen_for_keys(self, loop: asyncio.AbstractEventLoop) -> None:
        if self.on_quit is None or not sys.stdin.isatty():
            return
        import termios
        import tty

        fd = sys.stdin.fileno()
        self._tty_state = termios.tcgetattr(fd)
        tty.setcbreak(fd)
        loop.add_reader(fd, self._on_key, fd)

    def _on_key(self, fd: int) -> None:
        try:
            data = os.read(fd, 64)
        except OSError:
            data = b""
        if (not data or b"q" in data or b"Q" in data) and self.on_quit is not None:
            self.on_quit()

    def _stop_listening(self, loop: asyncio.AbstractEventLoop) -> None:
        if self._tty_state is None:
            return
        import termios

        fd = sys.stdin.fileno()
        loop.remove_reader(fd)
        termios.tcsetattr(fd, termios.TCSADRAIN, self._tty_state)
        self._tty_state = None


class PlainOutput:
    """One line per update on stdout; link changes as messages on stderr."""

    def __init__(self, stream: IO[str] | None = None, errors: IO[str] | None = None) -> None:
        self.stream = sys.stdout if stream is None else stream
        self.errors = sys.stderr if errors is None else errors

    def __enter__(self) -> PlainOutput:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def update(self, update: Update, line: str | None) -> None:
        if line is not None:
            self.stream.write(line + "\n")
            self.stream.flush()

    def link(self, model: Followed) -> None:
        _link_message(self.errors, model)


class JsonOutput:
    """Each event as one compact JSON line (NDJSON), as the server sent it."""

    def __init__(self, stream: IO[bytes] | None = None, errors: IO[str] | None = None) -> None:
        self.stream = sys.stdout.buffer if stream is None else stream
        self.errors = sys.stderr if errors is None else errors

    def __enter__(self) -> JsonOutput:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def update(self, update: Update, line: str | None) -> None:
        import orjson

        self.stream.write(orjson.dumps(update.event) + b"\n")
        self.stream.flush()

    def link(self, model: Followed) -> None:
        _link_message(self.errors, model)


def _link_message(errors: IO[str], model: Followed) -> None:
    if model.state == "live":
        verb = "connected to" if model.connects == 1 else "reconnected to"
        text = f"{PROG}: {verb} {model.socket}"
    else:
        wait = 0.0 if model.retry_at is None else max(model.retry_at - time.monotonic(), 0.0)
        text = f"{PROG}: disconnected ({model.error}), retrying in {wait:.1f}s"
    errors.write(text + "\n")
    errors.flush()


def choose_mode(as_json: bool) -> Mode:
    from cli._console import is_live_terminal

    if as_json:
        return "json"
    return "live" if is_live_terminal() else "plain"


def watch(
    target: Target,
    *,
    mode: Mode,
    interval: float,
    duration: float | None = None,
    console: Console | None = None,
    give_up: Callable[[], bool] | None = None,
) -> int:
    """Run until Ctrl-C, ``q``, SIGTERM or ``duration`` seconds; returns the exit status.

    ``give_up`` is polled twice a second; when it returns true the watch ends (``dash
    demo`` uses it to notice that its strategy process has exited).

    Raises:
        CliError: nothing to watch (69) or the server refused the subscription.
    """
    return run_to_exit(_watch(target, mode, interval, duration, console, give_up))


def run_to_exit(main: Coroutine[Any, Any, int]) -> int:
    """Run a watch to its exit status: Ctrl-C, or a reader of the pipe going away (``dash
    watch | head``), is a normal end (0), with stdout pointed at /dev/null so the
    interpreter's final flush cannot fail again."""
    try:
        return asyncio.run(main)
    except KeyboardInterrupt:
        return OK
    except BrokenPipeError:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return OK


async def _watch(
    target: Target,
    mode: Mode,
    interval: float,
    duration: float | None,
    console: Console | None,
    give_up: Callable[[], bool] | None,
) -> int:
    with stop_on_signals() as stop:
        model = WatchModel(str(target.socket), target.strategy)
        max_rate = None if interval <= 0 else max(1.0 / interval, _MIN_RATE)
        output: LiveOutput | PlainOutput | JsonOutput
        if mode == "live":
            output = LiveOutput(model, console, interval, on_quit=stop.set)
        elif mode == "json":
            output = JsonOutput()
        else:
            output = PlainOutput()
        with output:
            await until_stopped(
                follow(target, model, output, max_rate=max_rate), stop, duration, give_up
            )
    return OK


@contextlib.contextmanager
def stop_on_signals() -> Iterator[asyncio.Event]:
    """An event SIGINT and SIGTERM set (Ctrl-C quits a watch with 0, not a traceback)."""
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        yield stop
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)


async def until_stopped(
    work: Coroutine[Any, Any, None],
    stop: asyncio.Event,
    duration: float | None,
    give_up: Callable[[], bool] | None = None,
) -> None:
    """Run ``work`` until it ends, ``stop`` is set, ``duration`` passes or ``give_up()``
    holds, whichever is first; the rest is cancelled and ``work``'s error, if it ended
    with one, is raised."""
    main = asyncio.create_task(work)
    waiters: set[asyncio.Task[Any]] = {main, asyncio.create_task(stop.wait())}
    if duration is not None:
        waiters.add(asyncio.create_task(asyncio.sleep(duration)))
    if give_up is not None:
        waiters.add(asyncio.create_task(_poll(give_up)))
    done, pending = await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    if main in done:
        main.result()


async def _poll(condition: Callable[[], bool], every: float = 0.5) -> None:
    """Return once ``condition()`` holds; it is a plain callable (a child process's
    ``poll``), so there is nothing to await but time."""
    while not condition():  # noqa: ASYNC110
        await asyncio.sleep(every)
