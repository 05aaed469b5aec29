"""Which socket a client command picks: flags, environment, config, discovery."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from cli._config import load
from cli._errors import UNAVAILABLE, USAGE, CliError
from cli._target import rescan, resolve


@pytest.fixture
def rundir(short_tmp: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in ("DASH_SOCKET", "DASH_STRATEGY", "DASH_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    (short_tmp / "xdg").mkdir()
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(short_tmp / "xdg"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(short_tmp / "config"))
    directory = short_tmp / "xdg" / "dash"
    directory.mkdir(mode=0o700)
    return directory


@pytest.fixture
def listeners() -> Iterator[list[socket.socket]]:
    socks: list[socket.socket] = []
    yield socks
    for sock in socks:
        sock.close()


def live(path: Path, listeners: list[socket.socket]) -> Path:
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(path))
    sock.listen()
    listeners.append(sock)
    return path


def stale(path: Path) -> Path:
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(path))
    return path


def config(rundir: Path, text: str) -> None:
    path = rundir.parent.parent / "config" / "dash" / "config.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def test_the_only_live_socket_is_chosen(rundir, listeners):
    path = live(rundir / "funding-arb.sock", listeners)
    stale(rundir / "old.sock")
    target = resolve()
    assert (target.socket, target.strategy, target.timeout) == (path, None, 5.0)


def test_a_lone_stale_socket_is_still_the_target(rundir):
    path = stale(rundir / "funding-arb.sock")
    assert resolve().socket == path


def test_nothing_running_is_unavailable(rundir):
    with pytest.raises(CliError) as caught:
        resolve()
    assert caught.value.code == UNAVAILABLE
    assert str(rundir) in caught.value.message and "dash run" in (caught.value.hint or "")


def test_several_running_is_a_usage_error_naming_them(rundir, listeners):
    live(rundir / "a.sock", listeners)
    live(rundir / "b.sock", listeners)
    with pytest.raises(CliError) as caught:
        resolve()
    assert caught.value.code == USAGE
    assert "a (" in caught.value.message and "b (" in caught.value.message
    assert resolve(strategy="b").socket == rundir / "b.sock"


def test_named_strategy_that_is_not_running(rundir, listeners):
    live(rundir / "a.sock", listeners)
    with pytest.raises(CliError) as caught:
        resolve(strategy="zzz")
    assert caught.value.code == UNAVAILABLE and "running: a" in caught.value.message
    with pytest.raises(CliError) as caught:
        resolve(strategy="../etc")
    assert caught.value.code == USAGE


def test_precedence_flag_then_env_then_config(rundir, monkeypatch, short_tmp):
    config(rundir, 'socket = "/from/config.sock"\nstrategy = "cfg"\ntimeout = 1.5\n')
    assert resolve() == (Path("/from/config.sock"), "cfg", 1.5)
    monkeypatch.setenv("DASH_SOCKET", "/from/env.sock")
    monkeypatch.setenv("DASH_STRATEGY", "env")
    assert resolve() == (Path("/from/env.sock"), "env", 1.5)
    assert resolve("/from/flag.sock", "flag", 9.0) == (Path("/from/flag.sock"), "flag", 9.0)


def test_config_errors_are_usage_errors(rundir):
    config(rundir, "timeout = -1\n")
    with pytest.raises(CliError) as caught:
        load()
    assert caught.value.code == USAGE and "timeout" in caught.value.message
    config(rundir, "[watch]\nintervall = 1\n")
    with pytest.raises(CliError) as caught:
        load()
    assert "intervall" in caught.value.message
    config(rundir, "not toml = = =\n")
    with pytest.raises(CliError) as caught:
        load()
    assert "not valid TOML" in caught.value.message
    config(rundir, "[watch]\ninterval = 0.25\n")
    assert load().watch_interval == 0.25


def test_timeout_must_be_positive(rundir):
    with pytest.raises(CliError) as caught:
        resolve("/x.sock", timeout=0)
    assert caught.value.code == USAGE


def test_rescan_keeps_the_followed_files_and_adds_only_live_ones(short_tmp, listeners):
    """What `watch --all` and `tui` follow after a rescan: a followed socket stays while
    its file does (even stale: a killed process may come back), a removed one goes, and
    of the others only the live ones join."""
    kept = stale(short_tmp / "killed.sock")
    removed = short_tmp / "stopped.sock"
    new = live(short_tmp / "new.sock", listeners)
    stale(short_tmp / "old.sock")
    (short_tmp / "notes.sock.txt").write_text("not a socket")
    assert rescan([kept, removed], short_tmp) == [kept, new]
    assert rescan([], short_tmp) == [new]
