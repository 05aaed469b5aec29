"""``dash db check``: recomputes the book from positions and payments and finds tampering."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import orjson

from strategy.runner import RunOptions, run
from strategy.store.maintenance import check_db
from tests.persistence._cli import DASH, REPO, dash


def _positions(db: Path) -> tuple[str, str]:
    """(an open position, a closed one) of the backtest."""
    conn = sqlite3.connect(db)
    try:
        opened = conn.execute(
            "SELECT id FROM strategy_positions WHERE closed_at IS NULL ORDER BY id LIMIT 1"
        ).fetchone()[0]
        closed = conn.execute(
            "SELECT id FROM strategy_positions WHERE closed_at IS NOT NULL ORDER BY id LIMIT 1"
        ).fetchone()[0]
    finally:
        conn.close()
    return opened, closed


def _tamper(db: Path, sql: str, *params: object) -> int:
    conn = sqlite3.connect(db)
    try:
        with conn:
            changed = conn.execute(sql, params).rowcount
    finally:
        conn.close()
    assert changed == 1
    return changed


def test_an_honest_run_passes(backtest_db):
    result = dash("db", "check", "--db", backtest_db, "--no-live")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "4 positions" in result.stdout
    assert "compared with funding-arb snapshot seq" in result.stdout
    assert "ok: every figure agrees" in result.stdout

    report = orjson.loads(dash("db", "check", "--db", backtest_db, "--no-live", "--json").stdout)
    assert report["ok"] is True and report["mismatches"] == []
    assert report["positions"] == 4 and report["payments"] > 20


def test_a_corrupted_funding_amount_is_caught(backtest_db):
    opened, closed = _positions(backtest_db)
    _tamper(
        backtest_db,
        "UPDATE funding_payments SET amount = '12.5' WHERE id = "
        "(SELECT MIN(id) FROM funding_payments WHERE position_id = ?)",
        closed,
    )
    result = dash("db", "check", "--db", backtest_db, "--no-live")
    assert result.returncode == 1
    lines = [ln for ln in result.stdout.splitlines() if ln.startswith("MISMATCH")]
    assert any(f"payment {closed}/" in ln and " amount is stored as 12.5" in ln for ln in lines)
    assert any(f"position {closed} realized_pnl" in ln for ln in lines), lines

    # on an open position the snapshot comparison sees it too (beyond the cent)
    _tamper(
        backtest_db,
        "UPDATE funding_payments SET amount = '5.5' WHERE id = "
        "(SELECT MAX(id) FROM funding_payments WHERE position_id = ?)",
        opened,
    )
    report = check_db(backtest_db)
    assert any(
        m.source == "db" and m.subject.startswith(f"payment {opened}/") and m.field == "amount"
        for m in report.mismatches
    )
    assert any(
        m.source == "snapshot" and m.subject == f"position {opened}" for m in report.mismatches
    )


def test_a_missing_payment_is_caught(backtest_db):
    opened, closed = _positions(backtest_db)
    _tamper(
        backtest_db,
        "DELETE FROM funding_payments WHERE id = "
        "(SELECT MAX(id) FROM funding_payments WHERE position_id = ?)",
        opened,
    )
    report = check_db(backtest_db)
    assert not report.ok
    fields = {(m.source, m.subject, m.field) for m in report.mismatches}
    # an open position: its funding no longer matches the latest snapshot
    assert ("snapshot", f"position {opened}", "funding_collected") in fields
    assert ("snapshot", "totals", "funding_collected") in fields
    # nothing is wrong with the rows that remain
    assert not any(src == "db" for src, _, _ in fields)

    _tamper(
        backtest_db,
        "DELETE FROM funding_payments WHERE id = "
        "(SELECT MIN(id) FROM funding_payments WHERE position_id = ?)",
        closed,
    )
    fields = {(m.source, m.subject, m.field) for m in check_db(backtest_db).mismatches}
    # a closed position: its realised PnL no longer adds up
    assert ("db", f"position {closed}", "realized_pnl") in fields
    assert dash("db", "check", "--db", backtest_db, "--no-live").returncode == 1


def test_a_tampered_realised_pnl_is_caught(backtest_db):
    _, closed = _positions(backtest_db)
    _tamper(backtest_db, "UPDATE strategy_positions SET realized_pnl = '0' WHERE id = ?", closed)
    fields = {(m.source, m.subject, m.field) for m in check_db(backtest_db).mismatches}
    assert ("db", f"position {closed}", "realized_pnl") in fields
    assert ("snapshot", "totals", "realized_pnl") in fields


def test_a_missing_database_is_an_error(tmp_path):
    result = dash("db", "check", "--db", tmp_path / "none.db", "--no-live")
    assert result.returncode == 1
    assert "no database at" in result.stderr


async def _check(*args: object) -> tuple[int, str]:
    proc = await asyncio.create_subprocess_exec(
        *DASH, "db", "check", *map(str, args), cwd=REPO,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await proc.communicate()
    assert proc.returncode is not None
    return proc.returncode, out.decode()


async def test_live_state_of_a_running_strategy_is_compared(january_csv, tmp_path, short_tmp):
    db, sock = tmp_path / "live.db", short_tmp / "live.sock"
    stop = asyncio.Event()
    options = RunOptions(data=january_csv, speed=7200.0, db=db, socket=sock, resume=False)
    runner = asyncio.create_task(run(options, stop))
    try:
        for _ in range(200):  # the first pair opens on the first cycle; payments follow
            await asyncio.sleep(0.05)
            if db.exists() and sock.exists() and _open_with_payments(db):
                break
        opened = _open_with_payments(db)
        assert opened, "no open position with payments yet"

        code, out = await _check("--db", db, "--socket", sock)
        assert code == 0, out
        assert "compared with funding-arb live seq" in out

        _tamper(
            db,
            "DELETE FROM funding_payments WHERE id = "
            "(SELECT MIN(id) FROM funding_payments WHERE position_id = ?)",
            opened,
        )
        code, out = await _check("--db", db, "--socket", sock)
        assert code == 1, out
        assert f"funding-arb live: position {opened} funding_collected" in out
    finally:
        stop.set()
        await asyncio.wait_for(runner, 30)


def _open_with_payments(db: Path) -> str | None:
    try:
        conn = sqlite3.connect(db)
        try:
            row = conn.execute(
                "SELECT p.id FROM strategy_positions p JOIN funding_payments f "
                "ON f.position_id = p.id WHERE p.closed_at IS NULL GROUP BY p.id "
                "HAVING COUNT(*) >= 2 LIMIT 1"
            ).fetchone()
        finally:
            conn.close()
    except sqlite3.Error:
        return None
    return None if row is None else str(row[0])


def test_a_change_below_the_cent_is_still_caught(backtest_db):
    """Snapshots round to the cent; the payment rows themselves are checked exactly."""
    opened, _ = _positions(backtest_db)
    _tamper(
        backtest_db,
        "UPDATE funding_payments SET amount = amount || '1' WHERE id = "
        "(SELECT MIN(id) FROM funding_payments WHERE position_id = ?)",
        opened,
    )
    report = check_db(backtest_db)
    assert [(m.source, m.field) for m in report.mismatches] == [("db", "amount")]
