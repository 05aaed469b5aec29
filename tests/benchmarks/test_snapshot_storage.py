"""What snapshot persistence costs: rows and bytes per simulated day, and pruning 1M rows.

1. A strategy state with 3 open pairs on 2 symbols x 3 venues, re-marked every second of
   simulated time for a day (86,400 cycles) with 8 significant events an hour (opens and
   closes). Two real stores record it side by side:
   *before*: one snapshot row per cycle (what the state issue replaced);
   *after*: the ``SnapshotFlusher`` (a 60 s timer + significant events).
   Reported: rows per simulated hour and database growth per simulated day.
2. ``prune`` of one million snapshot rows (the *after* payloads, cycled) with a gzipped
   archive and ``--vacuum``: time per phase, including how long the one delete
   transaction holds the write lock.

Run: ``make bench`` or ``pytest -q -s -m benchmark tests/benchmarks/test_snapshot_storage.py``.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from state import DashboardState, EventBus, SnapshotFlusher
from strategy.store import Store
from strategy.store._codec import time_to_ms, time_to_text
from strategy.store.maintenance import db_stats, prune

T0 = datetime(2024, 3, 1, tzinfo=UTC)
DAY_S = 86_400
EVENTS_PER_HOUR = 8
VENUES = ("binance", "bybit", "okx")
SYMBOLS = ("BTC/USDT", "ETH/USDT")
PRUNE_ROWS = 1_000_000


def _position(i: int, t: int) -> dict[str, Any]:
    mark = Decimal(60_000 + 500 * i) + Decimal(t % 613) / 10
    qty = Decimal("0.1")
    return {
        "symbol": SYMBOLS[i % 2],
        "status": "open",
        "long": {"venue": "binance", "entry_price": "60000.5", "mark": mark,
                 "pnl": (mark - Decimal("60000.5")) * qty, "funding": Decimal("1.25")},
        "short": {"venue": "bybit", "entry_price": "60012.1", "mark": mark + 7,
                  "pnl": (Decimal("60012.1") - mark - 7) * qty, "funding": Decimal("2.50")},
        "qty": qty,
        "notional": mark * qty,
        "opened_at": T0,
        "entry_spread_apr": Decimal("0.2190"),
        "spread_apr": Decimal("0.1800") + Decimal(t % 50) / 10_000,
        "erosion": Decimal("0.18"),
        "divergence_bps": Decimal(t % 40) / 10,
        "funding_collected": Decimal("3.75"),
        "fees": Decimal("12.00"),
        "pnl": {"legs": Decimal("-1.2"), "funding": Decimal("3.75"), "fees": Decimal("12.00"),
                "net": Decimal("-9.45")},
        "next_funding": {"binance": T0 + timedelta(hours=8), "bybit": T0 + timedelta(hours=8)},
        "risk": {"level": "ok", "reasons": []},
    }


def _market(symbol: str, t: int) -> dict[str, Any]:
    base = 60_000 if symbol.startswith("BTC") else 3_000
    return {
        venue: {"rate": "0.0001", "apr": "0.1095", "interval_h": 8,
                "next_funding_time": T0 + timedelta(hours=8),
                "mark": Decimal(base + k) + Decimal(t % 97) / 10}
        for k, venue in enumerate(VENUES)
    }


async def _simulate_day(before_db: Path, after_db: Path) -> tuple[int, int, float]:
    clock = [T0]
    before = await Store.open(before_db)
    after = await Store.open(after_db)
    bus = EventBus()
    state = DashboardState("bench", bus=bus, now=lambda: clock[0])
    flusher = SnapshotFlusher(state, after, interval_s=60, now=lambda: clock[0])
    events = {int(3600 * (k + 0.5) / EVENTS_PER_HOUR) for k in range(EVENTS_PER_HOUR)}
    started = time.perf_counter()
    flusher.start()
    try:
        for t in range(DAY_S):
            clock[0] = T0 + timedelta(seconds=t)
            async with state.transaction("cycle") as tx:
                tx.set_clock(clock[0])
                for i in range(3):
                    tx.put_position(f"p-{i}", _position(i, t))
                for symbol in SYMBOLS:
                    tx.put_market(symbol, _market(symbol, t))
                tx.set_totals({"open_positions": 3, "net_pnl": Decimal(t % 1000) / 100})
                if t % 3600 in events:
                    flag = "position_opened" if t % 2 else "position_closed"
                    tx.put_position("p-event", _position(9, t))
                    tx.significant(flag)
            snap = state.snapshot()
            before.write_snapshot("bench", snap.seq, snap.ts, "cycle", snap.payload)
            await asyncio.sleep(0)  # a cycle yields (it sleeps); the flusher runs here
        await flusher.stop()
    finally:
        await before.close()
        await after.close()
    return flusher.rows_written, state.seq, time.perf_counter() - started


def _fill(db: Path, payloads: list[bytes], rows: int) -> float:
    started = time.perf_counter()
    conn = sqlite3.connect(db, isolation_level=None)
    try:
        batch: list[tuple[Any, ...]] = []
        for n in range(rows):
            when = T0 + timedelta(seconds=60 * n)
            batch.append(("bench", 2 + 3 * n, time_to_text(when), time_to_ms(when), "timer",
                          payloads[n % len(payloads)]))
            if len(batch) == 50_000:
                conn.execute("BEGIN")
                conn.executemany(
                    "INSERT INTO dashboard_snapshots "
                    "(strategy, seq, taken_at, taken_at_ms, reason, payload) VALUES (?,?,?,?,?,?)",
                    batch,
                )
                conn.execute("COMMIT")
                batch.clear()
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()
    return time.perf_counter() - started


def _mib(n: float) -> str:
    return f"{n / 2**20:,.1f} MiB"


@pytest.mark.benchmark
@pytest.mark.timeout(1800)
def test_snapshot_storage(tmp_path):
    before_db, after_db = tmp_path / "before.db", tmp_path / "after.db"
    after_rows, commits, elapsed = asyncio.run(_simulate_day(before_db, after_db))
    sizes = {}
    for name, db in (("before", before_db), ("after", after_db)):
        stats = db_stats(db)
        table = {t.name: t for t in stats.tables}["dashboard_snapshots"]
        sizes[name] = (table.rows, table.bytes or 0, stats.total_bytes)
    assert sizes["before"][0] == commits == DAY_S
    assert after_rows == sizes["after"][0]
    assert sizes["after"][0] <= 24 * (60 + EVENTS_PER_HOUR) + 1

    print(f"\nsnapshot rows, one simulated day at a 1 s cycle ({DAY_S:,} commits in "
          f"{elapsed:.1f} s), 3 pairs, {EVENTS_PER_HOUR} significant events an hour")
    print(f"{'writer':<28} {'rows/hour':>10} {'rows/day':>10} {'table/day':>14} "
          f"{'DB/day':>14}")
    for name, label in (("before", "before: one row per cycle"),
                        ("after", "after: 60 s timer + events")):
        rows, table_bytes, db_bytes = sizes[name]
        print(f"{label:<28} {rows / 24:>10,.0f} {rows:>10,} {_mib(table_bytes):>14} "
              f"{_mib(db_bytes):>14}")
    print(f"reduction: {sizes['before'][0] / sizes['after'][0]:.0f}x fewer rows, "
          f"{sizes['before'][2] / sizes['after'][2]:.0f}x less growth")

    conn = sqlite3.connect(after_db)
    payloads = [bytes(r[0]) for r in conn.execute("SELECT payload FROM dashboard_snapshots")]
    conn.close()
    big = tmp_path / "million.db"
    asyncio.run(_create(big))
    fill_s = _fill(big, payloads, PRUNE_ROWS + 10_000)
    size = db_stats(big).total_bytes
    archive = tmp_path / "million.ndjson.gz"
    cutoff = T0 + timedelta(seconds=60 * PRUNE_ROWS)
    started = time.perf_counter()
    result = prune(big, older_than=cutoff, archive=archive, vacuum=True)
    total = time.perf_counter() - started
    assert result.archived == result.deleted == PRUNE_ROWS

    print(f"\ndb prune of {PRUNE_ROWS:,} snapshot rows ({_mib(size)} DB, filled in "
          f"{fill_s:.1f} s; ~{sum(map(len, payloads)) // len(payloads):,} B documents)")
    print(f"{'phase':<44} {'seconds':>10}")
    phases = (("select (ids to a temp table, keep rules)", "select_s"),
              ("archive (gzip NDJSON level 3, fsync)", "archive_s"),
              (f"delete, {result.transactions} transactions + pauses", "delete_s"),
              ("vacuum", "vacuum_s"))
    for label, key in phases:
        print(f"{label:<44} {result.timings[key]:>10.2f}")
    print(f"{'longest write-lock hold (one transaction)':<44} "
          f"{result.longest_transaction_s:>10.2f}")
    print(f"{'total':<44} {total:>10.2f}")
    print(f"archive {_mib(archive.stat().st_size)}; DB {_mib(result.bytes_before)} -> "
          f"{_mib(result.bytes_after)}")


async def _create(db: Path) -> None:
    store = await Store.open(db)
    await store.close()
