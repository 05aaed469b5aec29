"""``dash run --data FILE --speed max``: the whole recorded file, a DB, a summary, twice."""

from __future__ import annotations

import sqlite3
from concurrent.futures import ThreadPoolExecutor

from strategy.store.maintenance import check_db
from tests.persistence._cli import dash
from tests.persistence.conftest import RECORDED

FIELDS = ("positions_opened", "positions_closed", "open_positions", "funding_collected",
          "fees", "net_pnl", "max_drawdown")


def test_a_backtest_of_the_recorded_data_is_repeatable(tmp_path):
    dbs = [tmp_path / "first.db", tmp_path / "second.db"]
    with ThreadPoolExecutor(2) as pool:  # two processes, one per core
        runs = list(pool.map(
            lambda db: dash("run", "--data", RECORDED, "--speed", "max", "--no-serve",
                            "--db", db, "--log-level", "WARNING", timeout=120),
            dbs,
        ))
    for run in runs:
        assert run.returncode == 0, run.stderr
    summary = dict(
        (key.strip(), value.strip())
        for key, _, value in (line.partition(":") for line in runs[0].stdout.splitlines())
    )
    assert runs[0].stdout == runs[1].stdout  # identical summaries
    for field in FIELDS:
        assert field in summary, runs[0].stdout
    assert summary["start"] == "2023-01-01T00:00:00Z"
    assert summary["end"] == "2024-07-01T00:00:00Z"  # the whole file
    assert summary["stopped_by"] == "until"
    assert int(summary["positions_opened"]) >= 10

    # what it wrote is the same record both times, and it adds up
    tables = [_dump(db) for db in dbs]
    assert tables[0] == tables[1]
    positions, payments, snapshots = tables[0]
    assert len(positions) == int(summary["positions_opened"])
    assert len(payments) > 100 and snapshots > 1000
    report = check_db(dbs[0])
    assert report.ok, [str(m) for m in report.mismatches]


def _dump(db) -> tuple[list, list, int]:
    conn = sqlite3.connect(db)
    try:
        positions = list(conn.execute("SELECT * FROM strategy_positions ORDER BY id"))
        payments = list(conn.execute(
            "SELECT position_id, venue, funding_time, amount FROM funding_payments ORDER BY id"
        ))
        snapshots = conn.execute("SELECT COUNT(*) FROM dashboard_snapshots").fetchone()[0]
    finally:
        conn.close()
    return positions, payments, snapshots
