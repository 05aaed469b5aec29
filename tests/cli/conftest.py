"""Fixtures: isolated XDG dirs, real `dash run` strategies, private tmux servers."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cli._procs import Strategy, Tmux, isolated_env


def _short_dir() -> Path:
    path = Path(tempfile.mkdtemp(prefix="dc-", dir="/tmp"))
    path.chmod(0o700)
    return path


@pytest.fixture
def env(short_tmp: Path) -> dict[str, str]:
    """Environment for `dash` subprocesses, with private XDG dirs under ``short_tmp``."""
    return isolated_env(short_tmp)


@pytest.fixture
def strategy(short_tmp: Path, env: dict[str, str]) -> Iterator[Strategy]:
    """A fast strategy (3600x: a cycle every ~80 ms) on ``short_tmp/s.sock``."""
    running = Strategy(short_tmp, env, speed="3600").start()
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="module")
def steady() -> Iterator[tuple[Strategy, dict[str, str]]]:
    """A real-time strategy shared by a module's read-only tests.

    At speed 1 a cycle comes every 5 minutes of wall time, so after the first cycle (which
    opens positions) the document holds still and a test can compare two reads exactly.
    Served at the default runtime path, so discovery without --socket is exercised too.
    """
    root = _short_dir()
    env = isolated_env(root)
    socket = root / "run" / "dash" / "funding-arb.sock"
    running = Strategy(root, env, speed="1", socket=socket, default_socket=True).start()
    try:
        yield running, env
    finally:
        running.stop()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def tmux(env: dict[str, str]) -> Iterator[Tmux]:
    server = Tmux(env)
    try:
        yield server
    finally:
        server.kill()
