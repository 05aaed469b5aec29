"""Fixtures of the TUI tests: a real paper strategy (``dash run``) on a real socket, and
a real server over fixed documents."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from ipc import probe
from tests.multi._trio import guide_config
from tests.tui._fixed import FixedServer

DASH = Path(sys.executable).with_name("dash")


class Paper:
    """``dash run --speed 3600`` (or ``speed``) in a subprocess: a paper strategy on
    recorded data, serving its socket. ``stop``/``start`` again resume it from the same
    DB."""

    def __init__(self, directory: Path, *extra: str, speed: str = "3600") -> None:
        self.db = directory / "t.db"
        self.socket = directory / "s.sock"
        self.log = directory / "run.log"
        self.extra = extra
        self.speed = speed
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(
                [
                    str(DASH),
                    "run",
                    "--speed",
                    self.speed,
                    "--db",
                    str(self.db),
                    "--socket",
                    str(self.socket),
                    *self.extra,
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                env={**os.environ, "NO_COLOR": "1"},
            )
        deadline = time.monotonic() + 20
        while not probe(self.socket):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"dash run did not start:\n{self.log.read_text()[-2000:]}")
            time.sleep(0.05)

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


@pytest.fixture
def paper(short_tmp: Path) -> Iterator[Paper]:
    runner = Paper(short_tmp)
    runner.start()
    try:
        yield runner
    finally:
        runner.stop()


@pytest.fixture
def paper_read_only(short_tmp: Path) -> Iterator[Paper]:
    runner = Paper(short_tmp, "--read-only")
    runner.start()
    try:
        yield runner
    finally:
        runner.stop()


@pytest.fixture
def desk(short_tmp: Path) -> Iterator[Paper]:
    """btc-arb and eth-arb in one process (the operator guide's example config), at speed
    1: each opens a position in the first cycle, then nothing moves for minutes, so their
    documents change only when a test changes them."""
    config = short_tmp / "desk.toml"
    config.write_text(guide_config())
    runner = Paper(short_tmp, "--config", str(config), speed="1")
    runner.start()
    try:
        yield runner
    finally:
        runner.stop()


@pytest.fixture
def fixed(short_tmp: Path) -> Iterator[FixedServer]:
    with FixedServer(short_tmp / "f.sock") as server:
        yield server


@pytest.fixture
def fixed_two(short_tmp: Path) -> Iterator[FixedServer]:
    with FixedServer(short_tmp / "f.sock", strategies=("funding-arb", "basis-arb")) as server:
        yield server


@pytest.fixture(scope="session")
def replay_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real backtest's database (January 2023, a row every 3 market hours), for
    ``dash replay``. Tests only read it."""
    from tests.persistence.conftest import run_backtest, write_january

    directory = tmp_path_factory.mktemp("replay")
    return run_backtest(directory / "backtest.db", write_january(directory / "jan.csv"))
