"""`dash demo` off a terminal: starts the strategy, prints lines, stops it on exit."""

from __future__ import annotations

import re

from tests.cli._procs import DASH, Tmux, dash


def test_demo_prints_plain_lines_and_stops_its_strategy(env, short_tmp):
    result = dash("demo", "--duration", "2", "--interval", "0.2", env=env, timeout=60)
    assert result.returncode == 0, result.stderr
    lines = [line for line in result.stdout.splitlines() if "event=" not in line]
    assert len(lines) >= 3
    assert all("strategy=demo" in line for line in lines)
    seqs = [int(re.search(r"seq=(\d+)", line).group(1)) for line in lines]  # type: ignore[union-attr]
    assert seqs[-1] > seqs[0]
    assert "\x1b" not in result.stdout
    # The background strategy was stopped cleanly: socket gone, DB and log kept.
    assert not (short_tmp / "run" / "dash" / "demo.sock").exists()
    assert (short_tmp / "data" / "dash" / "demo.db").exists()
    assert "stopped" in result.stderr
    assert dash("ls", env=env).stdout == ""


def test_demo_in_a_terminal_quits_on_q_and_stops_the_strategy(env, short_tmp, tmux: Tmux):
    tmux.start([DASH, "demo", "--view", "watch", "--interval", "0.2"], 100, 30)
    tmux.wait_screen(lambda s: "● live" in s and "demo" in s and "Positions" in s, timeout=30)
    assert (short_tmp / "run" / "dash" / "demo.sock").exists()
    tmux.send_keys("q")
    screen = tmux.wait_screen(lambda s: "EXIT=" in s, timeout=30)
    assert "EXIT=0" in screen
    assert not (short_tmp / "run" / "dash" / "demo.sock").exists()


def test_demo_opens_the_tui_on_a_terminal_and_stops_the_strategy(env, short_tmp, tmux: Tmux):
    tmux.start([DASH, "demo"], 120, 35)
    # the TUI, not `dash watch`: its footer lists the keys
    tmux.wait_screen(lambda s: "p-" in s and "demo" in s and "c Close" in s, timeout=40)
    assert (short_tmp / "run" / "dash" / "demo.sock").exists()
    tmux.send_keys("q")
    screen = tmux.wait_screen(lambda s: "EXIT=" in s, timeout=30)
    assert "EXIT=0" in screen
    assert not (short_tmp / "run" / "dash" / "demo.sock").exists()
