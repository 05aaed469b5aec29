"""`dash watch` in a real terminal: a private tmux server per test, a real strategy."""

from __future__ import annotations

import re

from tests.cli._procs import DASH, Strategy, Tmux

SEQ = re.compile(r"\bseq (\d+)\b")
COLOUR = re.compile(r"\x1b\[(?:[0-9;]*;)?(?:3[0-7]|9[0-7]|38;[25])[;m]")


def watch_cmd(strategy: Strategy, *extra: str) -> list[str]:
    return [DASH, "watch", "--interval", "0.2", "--socket", str(strategy.socket), *extra]


def seq_on(screen: str) -> int | None:
    match = SEQ.search(screen)
    return int(match.group(1)) if match else None


def table_header(screen: str) -> list[str]:
    return next(line.split() for line in screen.splitlines() if line.startswith("id "))


def wait_live(tmux: Tmux) -> str:
    return tmux.wait_screen(lambda s: "● live" in s and "Positions (" in s and "Markets" in s)


def test_80x24_shows_the_tables_and_follows_seq(strategy, tmux):
    tmux.start(watch_cmd(strategy), 80, 24)
    screen = wait_live(tmux)
    lines = screen.splitlines()
    assert len(lines) <= 24 and all(len(line) <= 80 for line in lines)
    assert lines[0].startswith("funding-arb  running")
    assert {"id", "symbol", "net", "risk"} <= set(table_header(screen))
    assert "fees" not in table_header(screen)  # dropped to fit 80 columns
    assert any(line.startswith("BTC/USDT") for line in lines)
    first = seq_on(screen)
    assert first is not None
    later = tmux.wait_screen(lambda s: (seq_on(s) or 0) >= first + 5)
    assert "Positions (" in later


def test_200x50_shows_every_column(strategy, tmux):
    tmux.start(watch_cmd(strategy), 200, 50)
    screen = wait_live(tmux)
    header = table_header(screen)
    for name in ("qty", "entry", "erosion", "fees", "funding", "next"):
        assert name in header
    first = seq_on(screen)
    tmux.wait_screen(lambda s: (seq_on(s) or 0) > (first or 0))


def test_follows_terminal_resize(strategy, tmux):
    tmux.start(watch_cmd(strategy), 200, 50)
    wait_live(tmux)
    tmux.wait_screen(lambda s: "fees" in table_header(s))
    tmux.resize(80, 24)
    assert tmux.size() == (80, 24)
    screen = tmux.wait_screen(lambda s: "Positions (" in s and "fees" not in table_header(s))
    assert all(len(line) <= 80 for line in screen.splitlines())
    tmux.resize(200, 50)
    tmux.wait_screen(lambda s: "Positions (" in s and "fees" in table_header(s))


def test_server_killed_then_restarted_shows_disconnected_then_recovers(strategy, tmux):
    tmux.start(watch_cmd(strategy), 100, 30)
    screen = wait_live(tmux)
    before = seq_on(screen)
    strategy.kill()
    screen = tmux.wait_screen(lambda s: "disconnected, retrying" in s)
    assert "EXIT=" not in screen
    assert seq_on(screen) is not None  # the last known state stays on screen
    strategy.start()  # a new process on the same (now stale) socket path
    screen = tmux.wait_screen(lambda s: "● live" in s and "disconnected" not in s, timeout=20)
    assert seq_on(screen) is not None and before is not None
    assert "EXIT=" not in screen


def test_q_and_ctrl_c_exit_0(strategy, tmux):
    tmux.start(watch_cmd(strategy), 80, 24)
    wait_live(tmux)
    tmux.send_keys("q")
    tmux.wait_screen(lambda s: "EXIT=0" in s)


def test_ctrl_c_exits_0(strategy, tmux):
    tmux.start(watch_cmd(strategy), 80, 24)
    wait_live(tmux)
    tmux.send_keys("C-c")
    tmux.wait_screen(lambda s: "EXIT=0" in s)


def test_no_color_has_no_colour_codes(strategy, tmux):
    tmux.start(["env", "NO_COLOR=1", *watch_cmd(strategy)], 120, 30)
    wait_live(tmux)
    screen = tmux.capture(escapes=True)
    assert "Positions (" in screen
    assert not COLOUR.search(screen), repr(screen[:400])


def test_colour_is_used_without_no_color(strategy, tmux):
    tmux.start(watch_cmd(strategy), 120, 30)
    wait_live(tmux)
    assert COLOUR.search(tmux.capture(escapes=True))


def test_dumb_terminal_gets_plain_lines(strategy, tmux):
    tmux.start(["env", "TERM=dumb", *watch_cmd(strategy)], 120, 30)
    screen = tmux.wait_screen(lambda s: s.count("strategy=funding-arb") >= 3)
    assert "Positions (" not in screen
    assert not COLOUR.search(tmux.capture(escapes=True))
