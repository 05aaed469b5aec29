"""Real databases for the persistence tests: a short backtest, and a month of snapshots.

The backtest runs the real strategy (runner, recorded data, paper venues, store, state,
flusher writing every 3 market hours and on events) once per session over 19 days of
January 2023, stopping with two pairs open and two closed, so every check has open and
closed positions, payments and snapshots to look at. Tests get a copy; the template is
never touched.
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from strategy.runner import RunOptions, run
from tests.persistence import _month

REPO = Path(__file__).resolve().parents[2]
RECORDED = (
    REPO / "strategy" / "feeds" / "data" / "usdt_perp_8h_binance_bybit_okx_2023-01_2024-06_utc.csv"
)
BACKTEST_UNTIL = datetime(2023, 1, 20, tzinfo=UTC)
#: Three one-hour cycles per timer row: stored seqs jump, as they do in a live run.
SNAPSHOT_INTERVAL_S = 3 * 3600


def write_january(path: Path) -> Path:
    """The packaged recording cut to January 2023: a small, real market data file."""
    lines = RECORDED.read_text().splitlines(keepends=True)
    path.write_text("".join([lines[0], *(ln for ln in lines[1:] if ln.startswith("2023-01"))]))
    return path


@pytest.fixture(scope="session")
def january_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_january(tmp_path_factory.mktemp("data") / "jan-2023.csv")


def run_backtest(db: Path, data: Path) -> Path:
    """The real strategy over ``data`` until BACKTEST_UNTIL, stored in ``db``."""
    options = RunOptions(
        data=data, speed="max", serve=False, db=db, until=BACKTEST_UNTIL, resume=False,
        snapshot_interval_s=SNAPSHOT_INTERVAL_S,
    )
    summary = asyncio.run(run(options))
    assert summary["open_positions"] == 2 and summary["positions_closed"] == 2, summary
    return db


@pytest.fixture(scope="session")
def backtest_template(tmp_path_factory: pytest.TempPathFactory, january_csv: Path) -> Path:
    return run_backtest(tmp_path_factory.mktemp("backtest") / "backtest.db", january_csv)


@pytest.fixture
def backtest_db(backtest_template: Path, tmp_path: Path) -> Path:
    """A private copy of the backtest's database."""
    return Path(shutil.copy(backtest_template, tmp_path / "run.db"))


@pytest.fixture(scope="session")
def month_template(tmp_path_factory: pytest.TempPathFactory, backtest_template: Path) -> Path:
    db = tmp_path_factory.mktemp("month") / "month.db"
    shutil.copy(backtest_template, db)
    _month.fill(db)
    return db


@pytest.fixture
def month_db(month_template: Path, tmp_path: Path) -> Iterator[Path]:
    """The backtest's points of record plus 30 days of per-minute snapshots."""
    yield Path(shutil.copy(month_template, tmp_path / "month.db"))
