"""A simulated month of snapshot rows, written as the flusher would (one a minute)."""

from __future__ import annotations

import hashlib
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

from strategy.store._codec import time_to_ms, time_to_text

STRATEGY = "month-arb"
START = datetime(2024, 1, 1, tzinfo=UTC)
DAYS = 30
ROWS = DAYS * 24 * 60
EVENTS = {97: "position_opened", 5_000: "position_closed", 20_000: "critical_alert"}


def document(seq: int, when: datetime) -> dict[str, Any]:
    """A small but real-shaped document; numbers move with seq so payloads differ."""
    stamp = time_to_text(when)
    mark = 60_000 + (seq * 7919) % 2_000
    return {
        "schema": 1,
        "strategy": STRATEGY,
        "seq": seq,
        "ts": stamp,
        "mode": "paper",
        "status": "running",
        "clock": stamp,
        "totals": {"open_positions": 1, "net_pnl": f"{(seq % 997) / 10:.2f}"},
        "positions": {
            "p-1": {
                "symbol": "BTC/USDT",
                "long": {"venue": "binance", "mark": str(mark)},
                "short": {"venue": "bybit", "mark": str(mark + 12)},
                "qty": "0.1",
            }
        },
        "markets": {},
        "alerts": {},
    }


def rows() -> list[tuple[str, int, str, int, str, bytes]]:
    out = []
    for i in range(ROWS):
        when = START + timedelta(minutes=i)
        seq = 2 + 3 * i  # stored seqs jump, as the flusher's do
        payload = orjson.dumps(document(seq, when))
        out.append((STRATEGY, seq, time_to_text(when), time_to_ms(when), EVENTS.get(i, "timer"),
                    payload))
    return out


def fill(db: Path) -> None:
    conn = sqlite3.connect(db)
    with conn:
        conn.executemany(
            "INSERT INTO dashboard_snapshots "
            "(strategy, seq, taken_at, taken_at_ms, reason, payload) VALUES (?, ?, ?, ?, ?, ?)",
            rows(),
        )
    conn.close()


def table_digest(db: Path, table: str) -> str:
    """A digest of every row of ``table``, to prove a prune left it alone."""
    conn = sqlite3.connect(db)
    try:
        digest = hashlib.sha256()
        for row in conn.execute(f"SELECT * FROM {table} ORDER BY rowid"):
            digest.update(repr(tuple(row)).encode())
        count = conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
    finally:
        conn.close()
    return f"{count}:{digest.hexdigest()}"


def snapshot_rows(db: Path, where: str = "", params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    conn = sqlite3.connect(db)
    try:
        return list(
            conn.execute(
                "SELECT id, strategy, seq, taken_at, taken_at_ms, reason, payload "
                f"FROM dashboard_snapshots {where} ORDER BY id",
                params,
            )
        )
    finally:
        conn.close()
