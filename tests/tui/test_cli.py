"""``dash tui`` as a command: refuses without a terminal, runs in one, starts lazily."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import time
from pathlib import Path

from cli.tui_cmd import terminal_problem
from tests.tui._fixed import FixedServer
from tests.tui.conftest import DASH


def test_terminal_problem():
    assert (
        terminal_problem({"TERM": "dumb"}, True, True) == "TERM=dumb cannot show a full-screen app"
    )
    assert terminal_problem({"TERM": "xterm"}, True, False) == "stdout is not a terminal"
    assert terminal_problem({"TERM": "xterm"}, False, True) == "stdin is not a terminal"
    assert terminal_problem({}, True, True) == "TERM is not set, so the terminal is unknown"
    assert terminal_problem({"TERM": "xterm-256color"}, True, True) is None


def test_refuses_dumb_terminals_and_points_elsewhere():
    result = subprocess.run(
        [str(DASH), "tui"],
        env={**os.environ, "TERM": "dumb"},
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 1
    assert "dash tui: needs a terminal: TERM=dumb" in result.stderr
    assert "dash watch" in result.stderr and "dash snapshot" in result.stderr


def test_refuses_when_not_on_a_terminal():
    result = subprocess.run(
        [str(DASH), "tui"],
        env={**os.environ, "TERM": "xterm"},
        capture_output=True,
        text=True,
        timeout=30,
        stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 1
    assert "is not a terminal" in result.stderr


def _in_pty(args: list[str]) -> tuple[subprocess.Popen[bytes], int]:
    """``args`` on a pseudo-terminal (all three streams: Textual draws on stderr)."""
    controller, terminal = pty.openpty()
    proc = subprocess.Popen(
        args,
        stdin=terminal,
        stdout=terminal,
        stderr=terminal,
        env={**os.environ, "TERM": "xterm-256color", "COLUMNS": "100", "LINES": "30"},
    )
    os.close(terminal)
    return proc, controller


def _read_until(controller: int, marker: bytes, within: float) -> bytes:
    seen = b""
    deadline = time.monotonic() + within
    while marker not in seen:
        left = deadline - time.monotonic()
        assert left > 0, f"{marker!r} never appeared; got {seen[-400:]!r}"
        ready, _, _ = select.select([controller], [], [], left)
        if ready:
            try:
                seen += os.read(controller, 65536)
            except OSError:
                break
    return seen


def test_unreachable_strategy_exits_69(short_tmp: Path):
    proc, controller = _in_pty([str(DASH), "tui", "--socket", str(short_tmp / "none.sock")])
    try:
        assert b"strategy not reachable" in _read_until(controller, b"dash ls", 30)
        assert proc.wait(30) == 69
    finally:
        os.close(controller)


def test_runs_in_a_terminal_and_quits_on_q(short_tmp: Path):
    with FixedServer(short_tmp / "f.sock") as server:
        proc, controller = _in_pty([str(DASH), "tui", "--socket", str(server.path)])
        try:
            _read_until(controller, b"XRP/USDT", 30)  # the table is drawn
            os.write(controller, b"q")
            deadline = time.monotonic() + 15
            while proc.poll() is None and time.monotonic() < deadline:
                select.select([controller], [], [], 0.1)
                try:
                    os.read(controller, 65536)
                except OSError:
                    break
            assert proc.wait(5) == 0
        finally:
            if proc.poll() is None:
                proc.kill()
            os.close(controller)


def test_dash_starts_without_textual():
    code = (
        "import sys, cli.app, tui; "
        "assert 'textual' not in sys.modules, 'textual imported at startup'; "
        "assert 'tui.app' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=30)
