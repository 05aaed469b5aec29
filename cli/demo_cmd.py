"""``dash demo``: the paper strategy on recorded data at high speed, watched live.

The strategy runs as a child process (``python -m cli run``) with its own DB under the
XDG data dir, its own socket and its log in a file beside the DB (so log lines never
scribble over the dashboard). The child gets its own session, so a Ctrl-C at the
terminal reaches only us; we then stop it with SIGTERM and wait, and it shuts down
cleanly (writer flushed, socket removed). Off a terminal the watch prints plain lines;
``--duration`` bounds the run for CI.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import IO, Annotated, Final

import typer

from cli._emit import fail, message
from cli._errors import FAILURE, OK, CliError
from cli._options import DurationOpt

__all__ = ["DemoProcess", "demo", "demo_paths"]

PROG = "dash demo"
STRATEGY_ID: Final = "demo"
# Cold start of the strategy (imports, DB migration, first cycle) is about a second on
# a small machine; a box under load gets plenty more.
_START_TIMEOUT_S: Final = 60.0
_STOP_TIMEOUT_S: Final = 20.0


def demo_paths() -> tuple[Path, Path, Path]:
    """The demo's DB, log and socket paths."""
    from ipc import default_socket_path

    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    data = Path(base) / "dash"
    return data / "demo.db", data / "demo.log", default_socket_path(STRATEGY_ID)


class DemoProcess:
    """The background ``dash run`` of the demo: start, wait for its socket, stop."""

    def __init__(self, speed: str, db: Path, log: Path, socket: Path) -> None:
        self.speed = speed
        self.db = db
        self.log = log
        self.socket = socket
        self.proc: subprocess.Popen[bytes] | None = None
        self._log_file: IO[bytes] | None = None

    def start(self) -> None:
        from ipc import probe

        if probe(self.socket):
            raise CliError(
                f"a demo is already running at {self.socket}",
                FAILURE,
                hint=f"watch it with `dash watch --strategy {STRATEGY_ID}`",
            )
        self.db.parent.mkdir(parents=True, exist_ok=True)
        for suffix in ("", "-wal", "-shm"):
            # Every demo starts from an empty book: the previous demo's DB would resume it.
            with contextlib.suppress(FileNotFoundError):
                os.unlink(f"{self.db}{suffix}")
        self._log_file = open(self.log, "wb")  # noqa: SIM115 (closed in stop())
        command = [
            sys.executable, "-m", "cli", "run",
            "--speed", self.speed,
            "--db", str(self.db),
            "--socket", str(self.socket),
            "--strategy-id", STRATEGY_ID,
            "--fresh",
        ]  # fmt: skip
        self.proc = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def wait_ready(self, timeout: float = _START_TIMEOUT_S) -> None:
        from ipc import probe

        deadline = time.monotonic() + timeout
        while True:
            if self.exited():
                raise CliError(self.exit_message(), FAILURE)
            if self.socket.exists() and probe(self.socket):
                return
            if time.monotonic() > deadline:
                raise CliError(f"the strategy did not open {self.socket} within {timeout:g} s")
            time.sleep(0.05)

    def exited(self) -> bool:
        return self.proc is not None and self.proc.poll() is not None

    def stop(self) -> int | None:
        """SIGTERM and wait (SIGKILL after a grace period); returns its exit status."""
        proc, self.proc = self.proc, None
        status = None
        if proc is not None:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
            try:
                status = proc.wait(_STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                proc.kill()
                status = proc.wait()
            self.proc = proc  # keep for exit_message
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None
        return status

    def exit_message(self) -> str:
        code = None if self.proc is None else self.proc.poll()
        tail = ""
        with contextlib.suppress(OSError):
            lines = self.log.read_text(errors="replace").strip().splitlines()
            if lines:
                tail = f": {lines[-1]}"
        return f"the strategy exited (status {code}); log {self.log}{tail}"


def _run_tui(socket: Path) -> None:
    from cli.tui_cmd import terminal_problem

    problem = terminal_problem()
    if problem is not None:
        raise CliError(f"the TUI needs a terminal: {problem}", FAILURE)
    from tui.app import DashApp

    DashApp(socket, strategy=STRATEGY_ID, timeout=5.0).run()


def demo(
    speed: Annotated[
        str, typer.Option("--speed", help="Market seconds per wall second, or 'max'.")
    ] = "3600",
    duration: DurationOpt = None,
    interval: Annotated[
        float,
        typer.Option("--interval", metavar="SECONDS", min=0.0, help="Least time between redraws."),
    ] = 0.5,
    view: Annotated[
        str,
        typer.Option(
            "--view",
            help="tui (full screen), watch (Rich tables) or auto: the TUI on a terminal "
            "without --duration, else watch.",
        ),
    ] = "auto",
) -> None:
    """Paper strategy at high speed, watched live.

    The strategy runs in the background (DB and log under $XDG_DATA_HOME/dash/, socket
    'demo' in the runtime dir, so `dash snapshot --strategy demo` works from another
    terminal) and is stopped when you quit with q or Ctrl-C. Off a terminal it prints
    one line per update; use --duration to bound it. --tui opens the full-screen
    dashboard instead of `dash watch`.
    """
    from cli._target import Target
    from cli._watch import choose_mode, watch
    from cli.tui_cmd import terminal_problem

    if view not in ("auto", "tui", "watch"):
        raise typer.BadParameter("tui, watch or auto", param_hint="--view")
    tui = view == "tui" or (view == "auto" and duration is None and terminal_problem() is None)
    db, log, socket = demo_paths()
    process = DemoProcess(speed, db, log, socket)
    status = OK
    try:
        process.start()
        process.wait_ready()
        message(PROG, f"paper strategy at {speed}x on recorded data; log {log}; q or Ctrl-C stops")
        if tui:
            _run_tui(socket)
            status = OK
        else:
            status = watch(
                Target(socket, STRATEGY_ID, 5.0),
                mode=choose_mode(False),
                interval=interval,
                duration=duration,
                give_up=process.exited,
            )
        if process.exited():
            raise CliError(process.exit_message(), FAILURE)
    except KeyboardInterrupt:
        status = OK
    except CliError as exc:
        process.stop()
        fail(PROG, exc)
    finally:
        stopped = process.stop()
    if stopped not in (None, 0):
        message(PROG, f"the strategy stopped with status {stopped}; log {log}")
    message(PROG, f"stopped; the demo's DB is {db}")
    raise typer.Exit(status)
