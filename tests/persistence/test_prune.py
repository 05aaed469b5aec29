"""``dash db prune`` / ``restore``: archive = deletion, byte-exact restore, records untouched."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from datetime import timedelta
from pathlib import Path

import orjson

from state import DashboardState, EventBus, SnapshotFlusher
from strategy.clock import ManualClock
from strategy.config import StrategyConfig
from strategy.engine import FundingArbitrageStrategy
from strategy.exchanges import PaperExchange
from strategy.feeds import RecordedFeed
from strategy.store import Store
from strategy.store._codec import time_to_ms
from strategy.store.maintenance import (
    TRANSACTION_ROWS,
    PruneResult,
    check_db,
    prune,
    read_archive,
    restore,
)
from tests.persistence import _month
from tests.persistence._cli import dash

RECORDS = ("strategy_positions", "funding_payments", "alerts", "commands", "strategy_runtime")
WEEK_MS = 7 * 24 * 3_600_000


def _digests(db: Path) -> dict[str, str]:
    return {table: _month.table_digest(db, table) for table in RECORDS}


def _month_rows(db: Path, where: str = "", params: tuple[object, ...] = ()) -> list[tuple]:
    clause = "WHERE strategy = ?" + (f" AND {where}" if where else "")
    return _month.snapshot_rows(db, clause, (_month.STRATEGY, *params))


def test_prune_archives_exactly_what_it_deletes_and_restore_brings_it_back(month_db, tmp_path):
    before = _month_rows(month_db)
    records = _digests(month_db)
    assert len(before) == _month.ROWS
    newest_ms = before[-1][4]
    cutoff_ms = newest_ms - WEEK_MS
    old = [r for r in before if r[4] < cutoff_ms]
    archive = tmp_path / "old.ndjson.gz"

    result = dash(
        "db", "prune", "--db", month_db, "--strategy", _month.STRATEGY, "--older-than", "7d",
        "--archive", archive, "--json",
    )
    assert result.returncode == 0, result.stderr
    report = orjson.loads(result.stdout)
    assert report["archived"] == report["deleted"] == len(old) > 20_000
    assert report["transactions"] == 1  # a month of one-a-minute rows: one transaction
    assert report["strategies"][0]["cutoff"] == "2024-01-23T23:59:00.000Z"

    # the archive holds exactly the deleted rows, in write order, every column as stored
    archived = [
        (r.id, r.strategy, r.seq, r.taken_at, r.taken_at_ms, r.reason, r.payload)
        for r in read_archive(archive)
    ]
    assert archived == old
    assert _month_rows(month_db) == [r for r in before if r[4] >= cutoff_ms]
    assert _digests(month_db) == records  # points of record untouched

    result = dash("db", "restore", archive, "--db", month_db)
    assert result.returncode == 0, result.stderr
    assert f"restored {len(old):,} snapshot rows" in result.stdout
    assert _month_rows(month_db) == before  # byte for byte, ids included
    assert _digests(month_db) == records

    again = restore(month_db, archive)
    assert (again.restored, again.skipped) == (0, len(old))
    assert _month_rows(month_db) == before


def test_keep_every_thins_the_old_history_to_one_row_per_interval(month_db, tmp_path):
    before = _month_rows(month_db)
    cutoff_ms = before[-1][4] - WEEK_MS
    result = prune(
        month_db,
        older_than=timedelta(days=7),
        keep_every=timedelta(hours=1),
        archive=tmp_path / "thin.ndjson.gz",
        strategy=_month.STRATEGY,
    )
    old = [r for r in before if r[4] < cutoff_ms]
    first_of_hour = [r for r in old if r[4] % 3_600_000 == 0]  # one a minute: minute 0
    share = result.strategies[0]
    assert share.kept == len(first_of_hour) == len({r[4] // 3_600_000 for r in old})
    assert result.archived == result.deleted == len(old) - len(first_of_hour)
    remaining = _month_rows(month_db, "taken_at_ms < ?", (cutoff_ms,))
    assert remaining == first_of_hour

    # a second prune with the same rule finds nothing more to do
    assert prune(month_db, older_than=timedelta(days=7), keep_every=timedelta(hours=1),
                 strategy=_month.STRATEGY).deleted == 0


def test_dry_run_counts_without_changing_anything(month_db, tmp_path):
    before = _month_rows(month_db)
    archive = tmp_path / "never.ndjson.gz"
    result = dash("db", "prune", "--db", month_db, "--older-than", "10d", "--keep-every", "6h",
                  "--archive", archive, "--dry-run", "--strategy", _month.STRATEGY)
    assert result.returncode == 0, result.stderr
    assert "dry run: nothing changed" in result.stdout
    assert not archive.exists()
    assert _month_rows(month_db) == before
    dry = prune(month_db, older_than=timedelta(days=10), keep_every=timedelta(hours=6),
                dry_run=True, strategy=_month.STRATEGY)
    real = prune(month_db, older_than=timedelta(days=10), keep_every=timedelta(hours=6),
                 strategy=_month.STRATEGY)
    assert dry.to_delete == real.deleted > 0
    assert f"{dry.to_delete:,} to delete" in result.stdout


def test_an_absolute_cutoff_and_vacuum(month_db):
    size = month_db.stat().st_size
    result = dash("db", "prune", "--db", month_db, "--strategy", _month.STRATEGY,
                  "--older-than", "2024-01-29T00:00:00Z", "--vacuum")
    assert result.returncode == 0, result.stderr
    assert "vacuumed:" in result.stdout
    cutoff = time_to_ms(_month.START + timedelta(days=28))
    assert next(r[4] for r in _month_rows(month_db)) == cutoff
    assert len(_month_rows(month_db)) == 2 * 24 * 60
    assert month_db.stat().st_size < size / 3


def test_a_large_set_goes_in_bounded_transactions_and_still_matches_the_archive(month_db,
                                                                                tmp_path):
    before = _month_rows(month_db)
    cutoff_ms = before[-1][4] - WEEK_MS
    archive = tmp_path / "big.ndjson.gz"
    result = dash("db", "prune", "--db", month_db, "--strategy", _month.STRATEGY,
                  "--older-than", "7d", "--archive", archive, "--transaction-rows", "10000")
    assert result.returncode == 0, result.stderr
    old = [r for r in before if r[4] < cutoff_ms]
    assert f"deleted {len(old):,} rows in 4 transactions" in result.stdout  # 33,120 rows
    archived = [(r.id, r.seq, r.payload) for r in read_archive(archive)]
    assert archived == [(r[0], r[2], r[6]) for r in old]
    assert _month_rows(month_db) == [r for r in before if r[4] >= cutoff_ms]


def test_the_cli_default_transaction_size_is_the_stores():
    assert f"[default: {TRANSACTION_ROWS};" in dash("db", "prune", "--help").stdout


def test_an_existing_archive_is_never_overwritten(month_db, tmp_path):
    archive = tmp_path / "taken.ndjson.gz"
    archive.write_bytes(b"precious")
    before = _month_rows(month_db)
    result = dash("db", "prune", "--db", month_db, "--older-than", "1d", "--archive", archive)
    assert result.returncode == 1
    assert "never overwritten" in result.stderr
    assert archive.read_bytes() == b"precious"
    assert _month_rows(month_db) == before


def test_restore_creates_a_missing_database(month_db, tmp_path):
    archive = tmp_path / "a.ndjson.gz"
    prune(month_db, older_than=timedelta(days=29), archive=archive, strategy=_month.STRATEGY)
    fresh = tmp_path / "elsewhere" / "fresh.db"
    result = restore(fresh, archive)
    assert result.restored == sum(1 for _ in read_archive(archive)) > 0
    conn = sqlite3.connect(fresh)
    try:
        ids = [r[0] for r in conn.execute("SELECT id FROM dashboard_snapshots ORDER BY id")]
    finally:
        conn.close()
    assert ids == [r.id for r in read_archive(archive)]


def test_stats_show_sizes_and_hourly_rows(month_db):
    result = dash("db", "stats", "--db", month_db, "--json")
    assert result.returncode == 0, result.stderr
    stats = orjson.loads(result.stdout)
    tables = stats["tables"]
    assert tables["dashboard_snapshots"]["rows"] > _month.ROWS
    assert tables["dashboard_snapshots"]["bytes"] > tables["funding_payments"]["bytes"] > 0
    assert stats["total_bytes"] >= month_db.stat().st_size
    month = orjson.loads(
        dash("db", "stats", "--db", month_db, "--json", "--strategy", _month.STRATEGY).stdout
    )
    hourly = month["hourly"]
    assert len(hourly) == 24
    assert [h["rows"] for h in hourly] == [60] * 24
    assert hourly[-1]["hour"] == "2024-01-30T23:00:00.000Z"
    assert month["snapshots_by_reason"]["critical_alert"] == 1

    text = dash("db", "stats", "--db", month_db, "--strategy", _month.STRATEGY).stdout
    assert "dashboard_snapshots" in text and "rows per hour" in text
    assert "2024-01-30 23:00      60" in text


async def test_prune_under_a_writing_strategy_loses_nothing(january_csv, tmp_path):
    """The real strategy and flusher write while a thread prunes (with archives) in a loop."""
    db = tmp_path / "busy.db"
    feed = RecordedFeed.from_csv(january_csv)
    config = StrategyConfig(cycle_s=3600)
    clock = ManualClock(feed.start)
    store = await Store.open(db)
    bus = EventBus()
    state = DashboardState(config.id, bus=bus, now=clock.now)
    exchanges = {v: PaperExchange(v, feed, clock) for v in config.venues}
    strategy = FundingArbitrageStrategy(config, exchanges, clock, store, state, bus)
    flusher = SnapshotFlusher(state, store, interval_s=60, now=clock.now)
    results: list[PruneResult] = []
    done = threading.Event()

    def pruner() -> None:
        while not done.is_set():
            archive = tmp_path / f"a{len(results)}.ndjson.gz"
            results.append(prune(db, older_than=timedelta(hours=12), archive=archive))

    try:
        await strategy.restore()
        flusher.start()
        thread = asyncio.create_task(asyncio.to_thread(pruner))
        for _ in range(18 * 24):
            clock.advance(3600)
            await strategy.run_cycle()
            await asyncio.sleep(0.002)
        await flusher.stop()
        await store.flush()
        done.set()
        await thread
        assert store.stats.failed_ops == 0
        payments_booked = sum(len(p.payments) for p in (*strategy.positions,
                                                        *strategy.positions.closed))
    finally:
        done.set()
        await store.close()

    working = [r for r in results if r.deleted]
    assert len(working) >= 3, f"prunes did not overlap the run: {results}"
    assert all(r.archived == r.deleted for r in results)
    archived = [row for r in working for row in read_archive(r.archive or "")]
    remaining = _month.snapshot_rows(db)
    written = sorted([(r.id, r.seq) for r in archived] + [(r[0], r[2]) for r in remaining])
    assert len(written) == flusher.rows_written == len({seq for _, seq in written})
    assert [seq for _, seq in written] == sorted(seq for _, seq in written)
    conn = sqlite3.connect(db)
    try:
        positions = conn.execute("SELECT COUNT(*) FROM strategy_positions").fetchone()[0]
        payments = conn.execute("SELECT COUNT(*) FROM funding_payments").fetchone()[0]
    finally:
        conn.close()
    assert positions == strategy.positions.opened_count > 0
    assert payments == payments_booked > 0
    assert check_db(db).ok
