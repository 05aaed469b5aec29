"""Fixtures for the several-strategies tests: the desk + solo processes."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cli._procs import isolated_env, wait_for
from tests.multi._trio import IDS, Trio, start


@pytest.fixture
def env(short_tmp: Path) -> dict[str, str]:
    """Environment for `dash` subprocesses, with private XDG dirs under ``short_tmp``."""
    return isolated_env(short_tmp)


@pytest.fixture(scope="module")
def trio() -> Iterator[Trio]:
    """desk (btc-arb, eth-arb) and solo, running, each strategy with a position open."""
    root = Path(tempfile.mkdtemp(prefix="dm-", dir="/tmp"))
    root.chmod(0o700)
    running = start(root, isolated_env(root))
    try:
        wait_for(lambda: all(running.positions(s) for s in IDS), timeout=20)
        yield running
    finally:
        running.desk.stop()
        running.solo.stop()
        shutil.rmtree(root, ignore_errors=True)
