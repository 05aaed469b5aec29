"""kill -9 at random moments: committed writes survive, reopening always works.

A child process writes funding payments in a loop and prints ``ack N`` after each
``flush()``, meaning every hour below N is committed. The parent SIGKILLs it at a random
moment (sometimes while it is still importing or migrating, sometimes mid-stream), then
checks the file, and starts the next child on the same file, which resumes from the last
recorded settlement and deliberately re-records a few (they must be ignored).
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from contextlib import closing
from pathlib import Path

from strategy.store import SCHEMA_VERSION, Store
from tests.conftest import REPO_ROOT

CHILD = r"""
import asyncio, sys
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from strategy.store import FundingPaymentRecord, PositionRecord, Store

T0 = datetime(2023, 6, 1, tzinfo=UTC)
HOUR = timedelta(hours=1)

async def main(path):
    store = await Store.open(path)
    if await store.position("p-crash") is None:
        store.insert_position(PositionRecord(
            "p-crash", "crash", "BTC/USDT", "binance", "bybit", Decimal("0.1"),
            Decimal("27000"), Decimal("27010"), Decimal("0.2"), T0, Decimal("1.1")))
    last = (await store.last_funding_times("crash")).get(("p-crash", "binance"))
    n = 0 if last is None else max(0, (last - T0) // HOUR - 2)
    while True:
        for side, venue in ((1, "binance"), (-1, "bybit")):
            store.record_funding(FundingPaymentRecord(
                "p-crash", "crash", venue, T0 + n * HOUR, side, Decimal("0.0001"),
                Decimal("0.1"), Decimal("27000"), Decimal(-side) * Decimal("0.27")))
        n += 1
        if n % 3 == 0:
            await store.flush()
            print(f"ack {n}", flush=True)

asyncio.run(main(sys.argv[1]))
"""

ROUNDS = 7
T0_MS = 1_685_577_600_000  # 2023-06-01T00:00:00Z, the child's T0


class _Child:
    """The writer process plus a thread collecting its stdout lines as they come."""

    def __init__(self, db: Path) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-c", CHILD, str(db)],
            cwd=REPO_ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.acks: list[int] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            if line.startswith("ack "):
                self.acks.append(int(line.split()[1]))

    def wait_for_acks(self, count: int, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while len(self.acks) < count:
            if self.proc.poll() is not None:
                raise AssertionError(f"child exited early: {self.stderr()}")
            if time.monotonic() > deadline:
                raise AssertionError(f"no {count} acks in {timeout}s: {self.stderr()}")
            time.sleep(0.001)

    def kill(self) -> None:
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)
        self._reader.join(timeout=10)
        assert self.proc.returncode == -signal.SIGKILL, self.stderr()
        for pipe in (self.proc.stdout, self.proc.stderr):
            if pipe is not None:
                pipe.close()

    def stderr(self) -> str:
        if self.proc.poll() is None:
            return "(still running)"
        pipe = self.proc.stderr
        return "" if pipe is None or pipe.closed else pipe.read()


def _check_file(db: Path, acked: int, context: str) -> int:
    """Return how many hours are stored; fail if anything acknowledged is missing."""
    with closing(sqlite3.connect(db)) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok", context
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION, context
        stored = 0
        for venue in ("binance", "bybit"):
            hours = [
                (ms - T0_MS) // 3_600_000
                for (ms,) in conn.execute(
                    "SELECT funding_time_ms FROM funding_payments WHERE venue = ? "
                    "ORDER BY funding_time_ms",
                    (venue,),
                )
            ]
            assert len(hours) == len(set(hours)), f"duplicate settlements {context}"
            # Committed ops are always a prefix of what was queued: no holes.
            assert hours == list(range(len(hours))), f"hole in {venue} {context}"
            assert len(hours) >= acked, f"{venue}: {len(hours)} stored < {acked} acked {context}"
            stored = len(hours)
    return stored


def _crash_rounds(db: Path, seed: int) -> int:
    """Run and SIGKILL the child ROUNDS times; return the highest acknowledged hour."""
    rng = random.Random(seed)
    acked = 0
    for round_no in range(ROUNDS):
        context = f"(seed {seed}, round {round_no})"
        child = _Child(db)
        if round_no % 3 == 1:
            time.sleep(rng.uniform(0.0, 0.4))  # any moment: import, open, migrate, write
        else:
            child.wait_for_acks(rng.randint(1, 120), timeout=30)
            time.sleep(rng.choice([0.0, rng.uniform(0.0, 0.01)]))
        child.kill()
        acked = max([acked, *child.acks])
        if not db.exists():
            continue  # killed before the file was created
        with closing(sqlite3.connect(db)) as conn:
            version = conn.execute("PRAGMA user_version").fetchone()[0]
        if version == 0:
            continue  # killed before the migration committed: it must redo it next time
        _check_file(db, acked, context)
    return acked


async def test_kill_9_never_loses_acknowledged_writes(tmp_path: Path) -> None:
    db = tmp_path / "crash.db"
    seed = random.randrange(1 << 30)
    acked = await asyncio.to_thread(_crash_rounds, db, seed)
    assert acked > 0, f"no child ever acknowledged a flush (seed {seed})"
    # The store itself reopens the crashed file and agrees with what was checked.
    store = await Store.open(db)
    try:
        counts = await store.table_counts()
        assert counts["strategy_positions"] == 1
        assert counts["funding_payments"] >= 2 * acked
        assert await store.open_positions("crash") != []
    finally:
        await store.close()
