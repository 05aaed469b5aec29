"""`dash watch --all` and `dash tui` (no socket named) as processes come and go: a
killed one is shown disconnected and recovers when restarted, one stopped cleanly leaves,
one started later joins."""

from __future__ import annotations

from pathlib import Path

from tests.cli._procs import DASH, Strategy, Tmux, dash


def _row(screen: str, name: str) -> list[str]:
    return next((line.split() for line in screen.splitlines() if line.split()[:1] == [name]), [])


def _status(screen: str, name: str) -> str | None:
    row = _row(screen, name)
    return row[2] if len(row) > 2 else None


def _process(root: Path, env: dict[str, str], name: str) -> Strategy:
    return Strategy(
        root, env, speed="1", strategy_id=name, db=root / f"{name}.db", default_socket=True,
        socket=root / "run" / "dash" / f"{name}.sock",
    )  # fmt: skip


def test_processes_dropping_out_and_joining(short_tmp: Path, env: dict[str, str]) -> None:
    alpha = _process(short_tmp, env, "alpha").start()
    beta = _process(short_tmp, env, "beta").start()
    gamma = _process(short_tmp, env, "gamma")
    tmux = Tmux(env)
    try:
        tmux.start([DASH, "watch", "--all", "--interval", "0.2"], 120, 30)
        tmux.wait_screen(lambda s: "● live" in s and _status(s, "beta") == "running")

        beta.kill()  # its socket file stays behind: the row stays, marked
        screen = tmux.wait_screen(lambda s: _status(s, "beta") == "disconnected")
        assert _status(screen, "alpha") == "running"
        assert "1/2 sockets live" in screen and "beta.sock: disconnected, retrying" in screen
        assert _row(screen, "total")[3:5] == ["2", "running"]  # last known figures count

        beta.start()
        screen = tmux.wait_screen(lambda s: "● live" in s and _status(s, "beta") == "running")
        assert "2 on 2 sockets" in screen

        assert beta.stop() == 0  # a clean stop removes the socket: the row goes
        screen = tmux.wait_screen(lambda s: not _row(s, "beta") and "1 on 1 socket" in s)
        assert "beta.sock: gone" in screen

        gamma.start()  # a process started later is found by the rescan
        screen = tmux.wait_screen(lambda s: _status(s, "gamma") == "running", timeout=15)
        assert "2 on 2 sockets" in screen and _status(screen, "alpha") == "running"
        assert "EXIT=" not in screen
    finally:
        tmux.kill()
        for proc in (alpha, beta, gamma):
            proc.stop()


def test_the_tui_follows_processes_as_they_start_and_stop(
    short_tmp: Path, env: dict[str, str]
) -> None:
    alpha = _process(short_tmp, env, "alpha").start()
    beta = _process(short_tmp, env, "beta").start()
    gamma = _process(short_tmp, env, "gamma")
    tmux = Tmux({**env, "TERM": "xterm-256color"})
    try:
        tmux.start([DASH, "tui", "--strategy", "beta"], 160, 48)
        tmux.wait_screen(lambda s: "2/2 linked" in s and "beta (1 of 2)" in s)

        gamma.start()  # started after the TUI: found by the rescan
        tmux.wait_screen(lambda s: "3/3 linked" in s and "beta (1 of 3)" in s, timeout=15)
        tmux.send_keys("a")
        screen = tmux.wait_screen(lambda s: "All strategies (3)" in s and "gamma" in s)
        tmux.send_keys("Escape")

        assert beta.stop() == 0  # the one shown stops cleanly: it goes, another is shown
        screen = tmux.wait_screen(lambda s: "2/2 linked" in s and "beta is gone" in s)
        assert "alpha (1 of 2)" in screen and "EXIT=" not in screen
    finally:
        tmux.kill()
        for proc in (alpha, beta, gamma):
            proc.stop()


def test_nothing_running_exits_69(env: dict[str, str], short_tmp: Path) -> None:
    for command in (("watch", "--all"), ("snapshot", "--all", "--json")):
        result = dash(*command, env=env)
        assert result.returncode == 69, result.stderr
        assert "no dash strategy is running" in result.stderr
        assert result.stdout == ""
    result = dash("watch", "--all", "--socket", str(short_tmp / "none.sock"), env=env)
    assert result.returncode == 69 and "none.sock" in result.stderr
